package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics"
)

// PushOptions tunes delivery from the outbox.
type PushOptions struct {
	// Workers is how many deliveries run at once per sink (default 4).
	Workers int
	// MaxAttempts is how many failed attempts move an entry to the
	// dead-letter queue (default 5).
	MaxAttempts int
	// Backoff gives the wait before attempt n+1 after n failures; default
	// exponential from 30 s, capped at 1 h, with ±20 % jitter.
	Backoff func(failures int) time.Duration
	// Batch is how many due entries are read at once (default 200).
	Batch int
	// Location is what punch locations leave the sink as: keep, drop or
	// coarse (mapping.ReduceLocation); only events carry locations.
	Location string
}

func (o PushOptions) withDefaults() PushOptions {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	return o
}

// DefaultBackoff is exponential from 30 s, capped at 1 h, with ±20 % jitter.
func DefaultBackoff(failures int) time.Duration {
	return ExpBackoff(30*time.Second, time.Hour)(failures)
}

// ExpBackoff waits base·2^(failures−1), capped at max, with ±20 % jitter so
// that replicas retrying the same sink spread out.
func ExpBackoff(base, max time.Duration) func(failures int) time.Duration {
	return func(failures int) time.Duration {
		d := base
		for i := 1; i < failures && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		jitter := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
		return d + jitter
	}
}

// PushDue delivers every due outbox entry of every sink, without pulling or
// reconciling: `punchbridge push` and a dead-letter replay use it.
func (s *Sync) PushDue(ctx context.Context, now time.Time) (Report, error) {
	rep := Report{Job: s.Name}
	phases := s.startPhases(&rep)
	err := s.push(ctx, now, &rep)
	phases.done("push")
	return rep, err
}

// Flusher is a sink with work of its own after deliveries: the csvfile
// sink writes the files of payroll periods that have closed, also on a
// night without deliveries.
type Flusher interface {
	Flush(ctx context.Context) error
}

// push delivers every due outbox entry of every sink, then flushes the
// sinks that have something to finish.
func (s *Sync) push(ctx context.Context, now time.Time, rep *Report) error {
	var errs []error
	for _, sink := range s.Sinks {
		opts := s.Push
		if o, ok := s.SinkPush[sink.Name()]; ok {
			opts = o
		}
		opts = opts.withDefaults()
		var err error
		if carriesEvents(sink) {
			err = s.pushEvents(ctx, sink.(connectors.EventSink), now, opts, rep)
		} else {
			err = s.pushDays(ctx, sink, now, opts, rep)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, sink := range s.Sinks {
		if f, ok := sink.(Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				errs = append(errs, fmt.Errorf("sync: flush %s: %w", sink.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// DueReader is a ledger that lists the due entries after a given entry
// (both ledgers do), so that the push reads its next round of deliveries
// while the last is being delivered instead of after it.
type DueReader interface {
	DueAfter(ctx context.Context, sink string, now time.Time, after int64, limit int) ([]ledger.OutboxEntry, error)
}

// pushDays delivers the sink's due day records, round after round, until
// none is left. With a DueReader it reads each round while the one before
// is delivered: the round in flight is still pending, so the next one
// starts after its last entry, and once that walk finds nothing the outbox
// is read from its start again, for whatever it passed (deliveries another
// replica held), as a push without a DueReader reads every round.
func (s *Sync) pushDays(ctx context.Context, sink connectors.Sink, now time.Time, opts PushOptions, rep *Report) error {
	name, limit := sink.Name(), dueLimit(sink, opts)
	dr, early := s.Ledger.(DueReader)
	read := func(after int64) ([]ledger.OutboxEntry, error) {
		var (
			es  []ledger.OutboxEntry
			err error
		)
		if early {
			es, err = dr.DueAfter(ctx, name, now, after, limit)
		} else {
			es, err = s.Ledger.Due(ctx, name, now, limit)
		}
		if err != nil {
			return nil, fmt.Errorf("sync: list due deliveries of %s: %w", name, err)
		}
		return es, nil
	}
	held := &heldEntries{ids: map[int64]bool{}}
	due, err := read(0)
	for err == nil && len(due) > 0 {
		var (
			next    []ledger.OutboxEntry
			nextErr error
			ahead   = make(chan struct{})
		)
		if early {
			after := due[len(due)-1].ID
			go func() {
				defer close(ahead)
				next, nextErr = read(after)
			}()
		} else {
			close(ahead)
		}
		derr := s.deliverAll(ctx, sink, due, now, opts, rep, held)
		<-ahead
		if derr != nil {
			return derr
		}
		if !early || (nextErr == nil && len(next) == 0) {
			// Entries another replica held stay pending; read again, they
			// are left to it (or, if it died, to a push after its lease
			// expires) rather than claimed over and over until it is done.
			next, nextErr = read(0)
			next = held.drop(next)
		}
		due, err = next, nextErr
	}
	return err
}

// heldEntries lists, during one push, the outbox entries it left to
// another replica. It is safe for concurrent use.
type heldEntries struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (h *heldEntries) add(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids[id] = true
}

// drop returns es without the entries held.
func (h *heldEntries) drop(es []ledger.OutboxEntry) []ledger.OutboxEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.DeleteFunc(es, func(e ledger.OutboxEntry) bool { return h.ids[e.ID] })
}

// DeliveryClaims keeps two replicas from sending one delivery at once
// (coord.Deliveries). The push claims, completes and gives up a chunk's
// claims together, each in one round trip.
type DeliveryClaims interface {
	ClaimAll(ctx context.Context, keys []coord.DeliveryKey) ([]coord.Lease, []bool, error)
	DoneAll(ctx context.Context, leases []coord.Lease, keep time.Duration) error
	ReleaseAll(ctx context.Context, leases []coord.Lease) error
}

// deliveredKeep is how long a delivery's Redis key says "done" after the
// ledger recorded it; the delivery log remains the truth after that.
const deliveredKeep = 24 * time.Hour

// BatchSink is a sink that delivers several day records per call, as
// hrhttp does with batch.size: the push hands it chunks of BatchSize due
// entries and records the delivered ones in one ledger write, so that a
// batch costs one request and one commit instead of one of each per record.
type BatchSink interface {
	// BatchSize is how many records one call should carry; 1 or less
	// means one at a time.
	BatchSize() int
	// DeliverBatch delivers ds and returns one error per delivery, nil for
	// those delivered.
	DeliverBatch(ctx context.Context, ds []connectors.Delivery) []error
}

// batchSize returns the records per delivery call: the sink's batch size,
// or 1.
func batchSize(sink connectors.Sink) int {
	if bs, ok := sink.(BatchSink); ok && bs.BatchSize() > 1 {
		return bs.BatchSize()
	}
	return 1
}

// asBatchSink returns sink as a BatchSink; a sink that takes one record at
// a time gets chunks of one.
func asBatchSink(sink connectors.Sink) BatchSink {
	if bs, ok := sink.(BatchSink); ok {
		return bs
	}
	return oneAtATime{sink}
}

// oneAtATime is a BatchSink of chunks of one over a plain sink.
type oneAtATime struct{ connectors.Sink }

func (oneAtATime) BatchSize() int { return 1 }

func (o oneAtATime) DeliverBatch(ctx context.Context, ds []connectors.Delivery) []error {
	errs := make([]error, len(ds))
	for i, d := range ds {
		errs[i] = o.Deliver(ctx, d)
	}
	return errs
}

// dueLimit is how many due entries one round reads: enough to give every
// worker a full batch.
func dueLimit(sink connectors.Sink, opts PushOptions) int {
	return max(opts.Batch, batchSize(sink)*opts.Workers)
}

// deliverAll sends entries with a bounded worker pool, a batch at a time to
// a BatchSink, and records each outcome in the ledger.
func (s *Sync) deliverAll(ctx context.Context, sink connectors.Sink, due []ledger.OutboxEntry, now time.Time, opts PushOptions, rep *Report, held *heldEntries) error {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan []ledger.OutboxEntry)
		size     = batchSize(sink)
		batches  = asBatchSink(sink)
	)
	record := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range next {
				if err := s.deliverChunk(ctx, batches, sink.Name(), chunk, now, opts, rep, &mu, held); err != nil {
					record(err)
				}
			}
		}()
	}
	for len(due) > 0 && ctx.Err() == nil {
		n := min(size, len(due))
		select {
		case next <- due[:n]:
			due = due[n:]
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// claim takes the Redis claims of a chunk's deliveries when replicas share
// the outbox, and returns the entries claimed with their leases: an entry
// another replica holds, or whose version the delivery log already has,
// is left out, with no lease held.
func (s *Sync) claim(ctx context.Context, sinkName string, chunk []ledger.OutboxEntry, held *heldEntries) ([]ledger.OutboxEntry, []coord.Lease, error) {
	keys := make([]coord.DeliveryKey, len(chunk))
	for i, e := range chunk {
		rec := e.Record
		keys[i] = coord.DeliveryKey{Sink: sinkName, EmployeeID: rec.EmployeeID, Date: rec.Date, Shift: rec.Shift, Version: rec.Version}
	}
	leases, ok, err := s.Claims.ClaimAll(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("sync: claim %d deliveries to %s: %w", len(chunk), sinkName, err)
	}
	var (
		claimed []ledger.OutboxEntry
		cl      []coord.Lease
		recs    []mapping.DayRecord
	)
	for i, e := range chunk {
		if !ok[i] {
			held.add(e.ID) // another replica is sending it
			continue
		}
		claimed, cl = append(claimed, e), append(cl, leases[i])
		recs = append(recs, e.Record)
	}
	if len(claimed) == 0 {
		return nil, nil, nil
	}
	done, err := s.Ledger.DeliveredAll(ctx, sinkName, recs)
	if err != nil {
		s.releaseAll(ctx, sinkName, cl)
		return nil, nil, fmt.Errorf("sync: claim %d deliveries to %s: %w", len(chunk), sinkName, err)
	}
	var (
		entries []ledger.OutboxEntry
		kept    []coord.Lease
		sent    []coord.Lease
	)
	for i, e := range claimed {
		if done[i] {
			held.add(e.ID) // another replica sent it since the outbox was read
			sent = append(sent, cl[i])
			continue
		}
		entries, kept = append(entries, e), append(kept, cl[i])
	}
	s.releaseAll(ctx, sinkName, sent)
	return entries, kept, nil
}

// deliverChunk sends a chunk of outbox entries: claimed in Redis first
// when replicas share the outbox (an entry another replica holds, or that
// the delivery log already has, is skipped), the claimed ones delivered in
// one call, the delivered ones recorded in one ledger write and their
// claims marked done, and each failed one recorded with its next attempt
// or a place in the dead-letter queue, its claim released. Each step is
// one round trip for the chunk.
func (s *Sync) deliverChunk(ctx context.Context, sink BatchSink, sinkName string, chunk []ledger.OutboxEntry, now time.Time, opts PushOptions, rep *Report, mu *sync.Mutex, held *heldEntries) error {
	entries, leases := chunk, make([]coord.Lease, len(chunk))
	if s.Claims != nil {
		var err error
		if entries, leases, err = s.claim(ctx, sinkName, chunk, held); err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return nil
	}
	ds := make([]connectors.Delivery, len(entries))
	for i, e := range entries {
		ds[i] = connectors.Delivery{Record: e.Record, IdempotencyKey: connectors.IdempotencyKey(sinkName, e.Record)}
	}
	errs := sink.DeliverBatch(ctx, ds)
	var ids []int64
	var done []coord.Lease
	for i, e := range entries {
		if errs[i] == nil {
			ids = append(ids, e.ID)
			done = append(done, leases[i])
		}
	}
	if err := s.Ledger.MarkDeliveredAll(ctx, ids, now); err != nil {
		s.releaseAll(ctx, sinkName, leases)
		return fmt.Errorf("sync: record %d deliveries to %s: %w", len(ids), sinkName, err)
	}
	s.delivered(ctx, sinkName, done, rep, mu)
	var (
		firstErr error
		failed   []coord.Lease
	)
	for i, e := range entries {
		if errs[i] == nil {
			continue
		}
		if err := s.failed(ctx, sinkName, e, errs[i], now, opts, rep, mu); err != nil && firstErr == nil {
			firstErr = err
		}
		failed = append(failed, leases[i])
	}
	// Released once their next attempts are recorded, so that a replica
	// that claims one next sees it is not due yet.
	s.releaseAll(ctx, sinkName, failed)
	return firstErr
}

// releaseAll gives up the claims held, if replicas share the outbox. A
// claim not released expires after its lease; the outbox is the truth.
func (s *Sync) releaseAll(ctx context.Context, sinkName string, leases []coord.Lease) {
	if s.Claims == nil || len(leases) == 0 {
		return
	}
	if err := s.Claims.ReleaseAll(context.WithoutCancel(ctx), leases); err != nil {
		s.logger().Warn("delivery claims not released", "sink", sinkName, "claims", len(leases), "err", err)
	}
}

// delivered counts recorded deliveries and marks their claims done.
func (s *Sync) delivered(ctx context.Context, sinkName string, leases []coord.Lease, rep *Report, mu *sync.Mutex) {
	if s.Claims != nil && len(leases) > 0 {
		if err := s.Claims.DoneAll(context.WithoutCancel(ctx), leases, deliveredKeep); err != nil {
			s.logger().Warn("delivery claims not marked done", "sink", sinkName, "claims", len(leases), "err", err)
		}
	}
	mu.Lock()
	rep.RecordsPushed += len(leases)
	mu.Unlock()
	for range leases {
		s.Metrics.PushAttempt(sinkName, metrics.PushDelivered)
	}
}

// failed records a failed attempt of one entry: its next attempt, or a
// place in the dead-letter queue. The caller releases its claim.
func (s *Sync) failed(ctx context.Context, sinkName string, e ledger.OutboxEntry, err error, now time.Time, opts PushOptions, rep *Report, mu *sync.Mutex) error {
	rec := e.Record
	dead := e.Attempts+1 >= opts.MaxAttempts || errors.Is(err, connectors.ErrPermanent)
	if merr := s.Ledger.MarkFailed(ctx, e.ID, err.Error(), now.Add(opts.Backoff(e.Attempts+1)), dead); merr != nil {
		return fmt.Errorf("sync: record failed delivery %d to %s: %w", e.ID, sinkName, merr)
	}
	mu.Lock()
	rep.PushFailures++
	if dead {
		rep.DeadLettered++
	}
	mu.Unlock()
	s.Metrics.PushAttempt(sinkName, pushOutcome(dead))
	s.logger().Warn("delivery failed", "sink", sinkName, "employee_id", rec.EmployeeID,
		"date", rec.Date, "version", rec.Version, "attempt", e.Attempts+1, "dead", dead, "err", err)
	return nil
}

func pushOutcome(dead bool) metrics.PushOutcome {
	if dead {
		return metrics.PushDeadLettered
	}
	return metrics.PushFailed
}

// carriesEvents reports whether a sink takes raw events instead of day
// records.
func carriesEvents(sink connectors.Sink) bool {
	es, ok := sink.(connectors.EventSink)
	return ok && es.CarriesEvents()
}

// pushEvents delivers the sink's due event revisions, a batch at a time,
// with the sink's location policy applied, and records each outcome.
func (s *Sync) pushEvents(ctx context.Context, sink connectors.EventSink, now time.Time, opts PushOptions, rep *Report) error {
	eo, ok := s.Ledger.(ledger.EventOutbox)
	if !ok {
		return fmt.Errorf("sync: sink %s carries events, but the ledger has no event outbox", sink.Name())
	}
	for {
		due, err := eo.DueEvents(ctx, sink.Name(), now, opts.Batch)
		if err != nil {
			return fmt.Errorf("sync: list due events of %s: %w", sink.Name(), err)
		}
		if len(due) == 0 {
			return nil
		}
		ds := make([]connectors.EventDelivery, len(due))
		for i, e := range due {
			ds[i] = connectors.EventDelivery{Event: mapping.ReduceLocation(e.Event, opts.Location), IdempotencyKey: connectors.EventIdempotencyKey(sink.Name(), e.Event)}
		}
		errs := sink.DeliverEvents(ctx, ds)
		for i, e := range due {
			if errs[i] == nil {
				if err := eo.MarkEventDelivered(ctx, e.ID, now); err != nil {
					return fmt.Errorf("sync: record event delivery %d to %s: %w", e.ID, sink.Name(), err)
				}
				rep.EventsPushed++
				s.Metrics.PushAttempt(sink.Name(), metrics.PushDelivered)
				continue
			}
			dead := e.Attempts+1 >= opts.MaxAttempts || errors.Is(errs[i], connectors.ErrPermanent)
			if err := eo.MarkEventFailed(ctx, e.ID, errs[i].Error(), now.Add(opts.Backoff(e.Attempts+1)), dead); err != nil {
				return fmt.Errorf("sync: record failed event delivery %d to %s: %w", e.ID, sink.Name(), err)
			}
			rep.PushFailures++
			if dead {
				rep.DeadLettered++
			}
			s.Metrics.PushAttempt(sink.Name(), pushOutcome(dead))
			s.logger().Warn("event delivery failed", "sink", sink.Name(), "event_id", e.Event.ID, "attempt", e.Attempts+1, "dead", dead, "err", errs[i])
		}
	}
}
