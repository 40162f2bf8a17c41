package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	err := s.push(ctx, now, &rep)
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
		for {
			if carriesEvents(sink) {
				if err := s.pushEvents(ctx, sink.(connectors.EventSink), now, opts, rep); err != nil {
					errs = append(errs, err)
				}
				break
			}
			due, err := s.Ledger.Due(ctx, sink.Name(), now, opts.Batch)
			if err != nil {
				errs = append(errs, fmt.Errorf("sync: list due deliveries of %s: %w", sink.Name(), err))
				break
			}
			if len(due) == 0 {
				break
			}
			if err := s.deliverAll(ctx, sink, due, now, opts, rep); err != nil {
				errs = append(errs, err)
				break
			}
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

// DeliveryClaims keeps two replicas from sending one delivery at once
// (coord.Deliveries).
type DeliveryClaims interface {
	Claim(ctx context.Context, key coord.DeliveryKey) (coord.Lease, bool, error)
}

// deliveredKeep is how long a delivery's Redis key says "done" after the
// ledger recorded it; the delivery log remains the truth after that.
const deliveredKeep = 24 * time.Hour

// deliverAll sends entries with a bounded worker pool and records each
// outcome in the ledger.
func (s *Sync) deliverAll(ctx context.Context, sink connectors.Sink, due []ledger.OutboxEntry, now time.Time, opts PushOptions, rep *Report) error {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan ledger.OutboxEntry)
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
			for e := range next {
				if err := s.deliverOne(ctx, sink, e, now, opts, rep, &mu); err != nil {
					record(err)
				}
			}
		}()
	}
	for _, e := range due {
		select {
		case next <- e:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// deliverOne sends one outbox entry: claimed in Redis first when replicas
// share the outbox (and skipped if another replica holds it or the delivery
// log already has it), then delivered, then recorded — delivered, or failed
// with its next attempt or a place in the dead-letter queue. The claim is
// marked done after the delivery log write, or released after a failure.
func (s *Sync) deliverOne(ctx context.Context, sink connectors.Sink, e ledger.OutboxEntry, now time.Time, opts PushOptions, rep *Report, mu *sync.Mutex) error {
	rec := e.Record
	var lease coord.Lease
	if s.Claims != nil {
		l, ok, err := s.Claims.Claim(ctx, coord.DeliveryKey{Sink: sink.Name(), EmployeeID: rec.EmployeeID, Date: rec.Date, Shift: rec.Shift, Version: rec.Version})
		if err != nil {
			return fmt.Errorf("sync: claim delivery %d to %s: %w", e.ID, sink.Name(), err)
		}
		if !ok {
			return nil // another replica is sending it
		}
		lease = l
		done, err := s.Ledger.Delivered(ctx, sink.Name(), rec.Key(), rec.Version)
		if err != nil || done {
			lease.Release(context.WithoutCancel(ctx))
			return err
		}
	}
	err := sink.Deliver(ctx, connectors.Delivery{Record: rec, IdempotencyKey: connectors.IdempotencyKey(sink.Name(), rec)})
	if err == nil {
		if err := s.Ledger.MarkDelivered(ctx, e.ID, now); err != nil {
			return fmt.Errorf("sync: record delivery %d to %s: %w", e.ID, sink.Name(), err)
		}
		if s.Claims != nil {
			if err := lease.Done(context.WithoutCancel(ctx), deliveredKeep); err != nil {
				s.logger().Warn("delivery claim not marked done", "sink", sink.Name(), "err", err)
			}
		}
		mu.Lock()
		rep.RecordsPushed++
		mu.Unlock()
		s.Metrics.PushAttempt(sink.Name(), metrics.PushDelivered)
		return nil
	}
	if s.Claims != nil {
		defer lease.Release(context.WithoutCancel(ctx))
	}
	dead := e.Attempts+1 >= opts.MaxAttempts || errors.Is(err, connectors.ErrPermanent)
	if merr := s.Ledger.MarkFailed(ctx, e.ID, err.Error(), now.Add(opts.Backoff(e.Attempts+1)), dead); merr != nil {
		return fmt.Errorf("sync: record failed delivery %d to %s: %w", e.ID, sink.Name(), merr)
	}
	mu.Lock()
	rep.PushFailures++
	if dead {
		rep.DeadLettered++
	}
	mu.Unlock()
	s.Metrics.PushAttempt(sink.Name(), pushOutcome(dead))
	s.logger().Warn("delivery failed", "sink", sink.Name(), "employee_id", rec.EmployeeID,
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
