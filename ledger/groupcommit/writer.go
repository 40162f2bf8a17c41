package groupcommit

import (
	"context"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// op is the kind of write a request asks for.
type op int

const (
	opAppend op = iota
	opIngest
	opDirty
	opRaw
	opEnqueue
)

// request is one caller's write, waiting in the queue or in a batch.
type request struct {
	ctx    context.Context
	op     op
	events []mapping.Event     // opAppend, opEnqueue
	ingest *ledger.IngestBatch // opIngest
	days   []mapping.EmployeeDay
	raw    []ledger.RawPayload
	sink   string     // opEnqueue
	at     time.Time  // when it was handed over
	done   chan reply // buffered: the writer never waits for a caller
}

// reply is the outcome of a request's commit.
type reply struct {
	res ledger.AppendResult
	err error
}

func (r *request) size() int {
	n := len(r.events) + len(r.days) + len(r.raw)
	if r.ingest != nil {
		n += len(r.ingest.Events)
	}
	return n
}
func (r *request) arrived() time.Time       { return r.at }
func (r *request) context() context.Context { return r.ctx }

// commit writes a batch: its appends, then its dirty days, raw payloads and
// event queueings, one call of the wrapped ledger each (one per sink for
// the queueings), and answers every caller. A caller that has gone away
// (its context ended) is answered with that error and its items are left
// out.
func (g *Ledger) commit(batch []*request) {
	ctx, ok := sharedContext(batch)
	if !ok {
		for _, r := range batch {
			r.done <- reply{err: r.ctx.Err()}
		}
		return
	}
	byOp := map[op][]*request{}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- reply{err: err}
			continue
		}
		byOp[r.op] = append(byOp[r.op], r)
	}
	g.commitAppends(ctx, byOp[opAppend])
	g.commitIngests(ctx, byOp[opIngest])
	g.commitDirty(ctx, byOp[opDirty])
	g.commitRaw(ctx, byOp[opRaw])
	g.commitEnqueues(ctx, byOp[opEnqueue])
}

func (g *Ledger) commitAppends(ctx context.Context, rs []*request) {
	if len(rs) == 0 {
		return
	}
	ba, ok := g.Ledger.(BatchAppender)
	if !ok {
		for _, r := range rs {
			res, err := g.Ledger.Append(ctx, r.events)
			r.done <- reply{res: res, err: err}
		}
		return
	}
	groups := make([][]mapping.Event, len(rs))
	for i, r := range rs {
		groups[i] = r.events
	}
	results, err := ba.AppendBatches(ctx, groups)
	answerAppends(rs, results, err)
}

// commitIngests writes the batch's IngestBatches in one call; IngestBatch
// and Append queue them only when the wrapped ledger is an IngestBatcher.
func (g *Ledger) commitIngests(ctx context.Context, rs []*request) {
	if len(rs) == 0 {
		return
	}
	ibs := make([]ledger.IngestBatch, len(rs))
	for i, r := range rs {
		ibs[i] = *r.ingest
	}
	results, err := g.Ledger.(IngestBatcher).IngestBatches(ctx, ibs)
	answerAppends(rs, results, err)
}

// answerAppends gives each caller its result, or every caller err.
func answerAppends(rs []*request, results []ledger.AppendResult, err error) {
	for i, r := range rs {
		if err != nil {
			r.done <- reply{err: err}
			continue
		}
		r.done <- reply{res: results[i]}
	}
}

func (g *Ledger) commitDirty(ctx context.Context, rs []*request) {
	if len(rs) == 0 {
		return
	}
	var days []mapping.EmployeeDay
	seen := map[mapping.EmployeeDay]bool{}
	for _, r := range rs {
		for _, d := range r.days {
			if !seen[d] {
				seen[d] = true
				days = append(days, d)
			}
		}
	}
	answer(rs, g.Ledger.MarkDirty(ctx, days))
}

func (g *Ledger) commitRaw(ctx context.Context, rs []*request) {
	if len(rs) == 0 {
		return
	}
	var ps []ledger.RawPayload
	for _, r := range rs {
		ps = append(ps, r.raw...)
	}
	// StoreRaw queues a request only when the wrapped ledger is a RawStore.
	answer(rs, g.Ledger.(ledger.RawStore).StoreRaw(ctx, ps))
}

func (g *Ledger) commitEnqueues(ctx context.Context, rs []*request) {
	if len(rs) == 0 {
		return
	}
	var sinks []string
	bySink := map[string][]*request{}
	for _, r := range rs {
		if _, ok := bySink[r.sink]; !ok {
			sinks = append(sinks, r.sink)
		}
		bySink[r.sink] = append(bySink[r.sink], r)
	}
	// EnqueueEvents queues a request only when the wrapped ledger has an
	// event outbox.
	eo := g.Ledger.(ledger.EventOutbox)
	for _, sink := range sinks {
		var events []mapping.Event
		for _, r := range bySink[sink] {
			events = append(events, r.events...)
		}
		answer(bySink[sink], eo.EnqueueEvents(ctx, sink, events))
	}
}

// answer gives every request of a shared call its outcome.
func answer(rs []*request, err error) {
	for _, r := range rs {
		r.done <- reply{err: err}
	}
}
