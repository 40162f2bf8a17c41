package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Defaults of Options.
const (
	DefaultBatchSize = 500
	DefaultBatchWait = 2 * time.Millisecond
)

// ErrClosed is returned by writes made after Close.
var ErrClosed = errors.New("groupcommit: ledger is closed")

// Options tune the batching.
type Options struct {
	// BatchSize is how many items (events, employee-days, raw payloads) a
	// commit holds at most; 0 means DefaultBatchSize. One caller's items
	// are never split, so a single larger call is committed on its own.
	BatchSize int
	// BatchWait is how long after the first request of a batch arrived
	// the batch commits if it is not full by then; 0 means
	// DefaultBatchWait, and a negative wait commits at once. Requests that
	// queued while the previous commit ran have waited that long already,
	// so under load a batch commits as soon as the previous one has.
	BatchWait time.Duration
	// Observe, when set, is told about every batch the writer commits,
	// from the writer's goroutine once the batch's callers are answered;
	// it must not block.
	Observe func(Commit)
}

// Commit describes one batch the writer committed, for Options.Observe.
type Commit struct {
	Requests int // callers' requests the batch held
	Items    int // what they carried, counted as Options.BatchSize counts it
	// Waited is how long the batch's first request waited before its
	// commit began: the wait for company (at most BatchWait) and the wait
	// for earlier commits to finish. A writer that cannot keep up shows
	// here first.
	Waited time.Duration
	// Took is how long the commit took, its callers answered.
	Took time.Duration
}

// BatchAppender stores several callers' batches of events in one
// transaction and reports each batch's result as if it had been appended
// on its own, in order. It is all or nothing: on error no batch is stored.
type BatchAppender interface {
	AppendBatches(ctx context.Context, batches [][]mapping.Event) ([]ledger.AppendResult, error)
}

// IngestBatcher writes several callers' ledger.IngestBatches (events, raw
// payloads and dirty days) in one transaction.
type IngestBatcher interface {
	IngestBatches(ctx context.Context, batches []ledger.IngestBatch) ([]ledger.AppendResult, error)
}

// Stats count what the writer did since New.
type Stats struct {
	Requests int64 // write calls that reached the writer
	Items    int64 // events, employee-days and payloads they carried
	Batches  int64 // batches the writer committed
	MaxBatch int64 // the most items one batch held
}

// Ledger is a ledger.Ledger whose writes on the ingest path are group
// committed. It is safe for concurrent use; Close stops the writer and
// closes the wrapped ledger.
type Ledger struct {
	// Ledger is the wrapped ledger; the methods Ledger does not override
	// go straight to it.
	ledger.Ledger
	b *batcher[*request]
}

var (
	_ ledger.Ledger      = (*Ledger)(nil)
	_ ledger.RawStore    = (*Ledger)(nil)
	_ ledger.EventOutbox = (*Ledger)(nil)
)

// New wraps l and starts the writer. The caller closes the returned Ledger
// (which closes l) instead of l.
func New(l ledger.Ledger, o Options) *Ledger {
	g := &Ledger{Ledger: l}
	g.b = newBatcher(o, g.commit)
	return g
}

// Unwrap returns the wrapped ledger, for the optional interfaces
// (ledger.RunLog, ledger.DeadLetters, ...) that Ledger does not forward.
func (g *Ledger) Unwrap() ledger.Ledger { return g.Ledger }

// Stats returns the writer's counters.
func (g *Ledger) Stats() Stats { return g.b.stats() }

// Append stores events in the next batch and returns their result once it
// has committed. With an IngestBatcher underneath, the events are prepared
// (ledger.PrepareEvents) here, in the caller's goroutine, so that the one
// writer only runs SQL.
func (g *Ledger) Append(ctx context.Context, events []mapping.Event) (ledger.AppendResult, error) {
	if _, ok := g.Ledger.(IngestBatcher); !ok {
		r, err := g.submitAppend(ctx, events)
		return r.res, err
	}
	if err := checkIDs(events); err != nil {
		return ledger.AppendResult{}, err
	}
	prepared, err := ledger.PrepareEvents(events, nil)
	if err != nil {
		return ledger.AppendResult{}, fmt.Errorf("groupcommit: append: %w", err)
	}
	return g.IngestBatch(ctx, ledger.IngestBatch{Events: prepared})
}

// checkIDs refuses events without an id before they reach the writer.
func checkIDs(events []mapping.Event) error {
	for i, e := range events {
		if e.ID == "" {
			return fmt.Errorf("groupcommit: append: event %d: id is empty; validate events before appending them", i)
		}
	}
	return nil
}

// IngestBatch writes b in the next batch: in the same transaction as the
// batch's other IngestBatches when the wrapped ledger is an IngestBatcher,
// else as Append, MarkDirty and StoreRaw one after another. Then the dirty
// days are marked before the raw payloads are kept, and a failure to keep
// them is an error wrapping ledger.ErrRawNotKept: the events and their
// days are stored.
func (g *Ledger) IngestBatch(ctx context.Context, b ledger.IngestBatch) (ledger.AppendResult, error) {
	for i, p := range b.Events {
		if p.Event.ID == "" {
			return ledger.AppendResult{}, fmt.Errorf("groupcommit: ingest: event %d: id is empty; validate events before appending them", i)
		}
	}
	if len(b.Events) == 0 {
		return ledger.AppendResult{}, nil
	}
	if _, ok := g.Ledger.(IngestBatcher); ok {
		r, err := g.submit(ctx, &request{op: opIngest, ingest: &b})
		return r.res, err
	}
	events := make([]mapping.Event, len(b.Events))
	for i, p := range b.Events {
		events[i] = p.Event
	}
	r, err := g.submitAppend(ctx, events)
	if err != nil {
		return r.res, err
	}
	if b.Dirty != nil {
		if days := b.Dirty(r.res.Changed); len(days) > 0 {
			if err := g.MarkDirty(ctx, days); err != nil {
				return r.res, err
			}
		}
	}
	if err := g.StoreRaw(ctx, b.Raw); err != nil {
		return r.res, fmt.Errorf("%w: %w", ledger.ErrRawNotKept, err)
	}
	return r.res, nil
}

// submitAppend queues plain events for a ledger that encodes its own.
func (g *Ledger) submitAppend(ctx context.Context, events []mapping.Event) (reply, error) {
	if err := checkIDs(events); err != nil || len(events) == 0 {
		return reply{}, err
	}
	return g.submit(ctx, &request{op: opAppend, events: events})
}

// MarkDirty records employee-days in the next batch; the days of a batch
// are marked in one call of the wrapped ledger.
func (g *Ledger) MarkDirty(ctx context.Context, days []mapping.EmployeeDay) error {
	for _, d := range days {
		if err := ledger.CheckEmployeeDay(d); err != nil {
			return fmt.Errorf("groupcommit: mark dirty: %w", err)
		}
	}
	if len(days) == 0 {
		return nil
	}
	_, err := g.submit(ctx, &request{op: opDirty, days: days})
	return err
}

// StoreRaw keeps payloads in the next batch when the wrapped ledger keeps
// raw payloads, and does nothing when it does not.
func (g *Ledger) StoreRaw(ctx context.Context, ps []ledger.RawPayload) error {
	if _, ok := g.Ledger.(ledger.RawStore); !ok || len(ps) == 0 {
		return nil
	}
	_, err := g.submit(ctx, &request{op: opRaw, raw: ps})
	return err
}

// RawFor implements ledger.RawStore; without a raw store there is nothing.
func (g *Ledger) RawFor(ctx context.Context, eventID string) ([]ledger.RawPayload, error) {
	if rs, ok := g.Ledger.(ledger.RawStore); ok {
		return rs.RawFor(ctx, eventID)
	}
	return nil, nil
}

// PurgeRaw implements ledger.RawStore; without a raw store there is nothing.
func (g *Ledger) PurgeRaw(ctx context.Context, cutoff time.Time) (int, error) {
	if rs, ok := g.Ledger.(ledger.RawStore); ok {
		return rs.PurgeRaw(ctx, cutoff)
	}
	return 0, nil
}

// errNoEventOutbox is returned by the event outbox methods when the wrapped
// ledger has no event outbox.
var errNoEventOutbox = errors.New("groupcommit: the wrapped ledger has no event outbox")

// EnqueueEvents queues events for sink in the next batch; the batch's
// events of each sink are queued in one call of the wrapped ledger.
func (g *Ledger) EnqueueEvents(ctx context.Context, sink string, events []mapping.Event) error {
	if _, ok := g.Ledger.(ledger.EventOutbox); !ok {
		return errNoEventOutbox
	}
	if len(events) == 0 {
		return nil
	}
	_, err := g.submit(ctx, &request{op: opEnqueue, sink: sink, events: events})
	return err
}

// DueEvents implements ledger.EventOutbox.
func (g *Ledger) DueEvents(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.EventEntry, error) {
	eo, ok := g.Ledger.(ledger.EventOutbox)
	if !ok {
		return nil, errNoEventOutbox
	}
	return eo.DueEvents(ctx, sink, now, limit)
}

// MarkEventDelivered implements ledger.EventOutbox.
func (g *Ledger) MarkEventDelivered(ctx context.Context, id int64, at time.Time) error {
	eo, ok := g.Ledger.(ledger.EventOutbox)
	if !ok {
		return errNoEventOutbox
	}
	return eo.MarkEventDelivered(ctx, id, at)
}

// MarkEventFailed implements ledger.EventOutbox.
func (g *Ledger) MarkEventFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error {
	eo, ok := g.Ledger.(ledger.EventOutbox)
	if !ok {
		return errNoEventOutbox
	}
	return eo.MarkEventFailed(ctx, id, errMsg, next, dead)
}

// EventEntries implements ledger.EventOutbox.
func (g *Ledger) EventEntries(ctx context.Context, sink string, state ledger.DeliveryState, limit int) ([]ledger.EventEntry, error) {
	eo, ok := g.Ledger.(ledger.EventOutbox)
	if !ok {
		return nil, errNoEventOutbox
	}
	return eo.EventEntries(ctx, sink, state, limit)
}

// Close commits what is queued, stops the writer and closes the wrapped
// ledger. Writes after Close fail with ErrClosed.
func (g *Ledger) Close() error {
	if !g.b.close() {
		return ErrClosed
	}
	return g.Ledger.Close()
}

// submit hands r to the writer and waits for its commit, or for ctx to
// end: then the caller gets ctx's error, and r's items may or may not be
// stored (the ledger's unique keys make a retry safe).
func (g *Ledger) submit(ctx context.Context, r *request) (reply, error) {
	if err := ctx.Err(); err != nil {
		return reply{}, err
	}
	r.ctx, r.at, r.done = ctx, time.Now(), make(chan reply, 1)
	if err := g.b.submit(ctx, r); err != nil {
		return reply{}, err
	}
	select {
	case rep := <-r.done:
		return rep, rep.err
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}
