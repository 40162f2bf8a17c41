// Package ingest is the one path every event takes into the ledger, whether
// it was pulled or pushed by a webhook: validate, map the platform user to
// an employee, store (de-duplicated by the ledger's own key), keep what
// fails validation as rejected, and mark the employee-days the stored events
// touch as dirty so that reconciliation recomputes them.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics"
)

// Calendar tells which days an event can affect. reconcile.Engine
// implements it.
type Calendar interface {
	// DatesFor lists the dates whose shift occurrences may contain instant t.
	DatesFor(employeeID string, t time.Time) []string
	// DatesBetween lists the dates whose occurrences overlap [start, end].
	DatesBetween(employeeID string, start, end time.Time) []string
}

// Counts is what ingestion did with the events it was given.
type Counts struct {
	Received    int `json:"received"`
	Stored      int `json:"stored"`
	Revisions   int `json:"revisions"`
	Duplicates  int `json:"duplicates"`
	Rejected    int `json:"rejected"`
	Quarantined int `json:"quarantined"`
}

// Add merges o into c.
func (c *Counts) Add(o Counts) {
	c.Received += o.Received
	c.Stored += o.Stored
	c.Revisions += o.Revisions
	c.Duplicates += o.Duplicates
	c.Rejected += o.Rejected
	c.Quarantined += o.Quarantined
}

// Claimer de-duplicates events across replicas before the ledger write
// (coord.Dedupe): claim, write, then commit or release. The states Claim
// returns belong to the caller, which may reuse them.
type Claimer interface {
	Claim(ctx context.Context, keys []coord.ClaimKey) ([]coord.ClaimState, error)
	Commit(ctx context.Context, keys []coord.ClaimKey) error
	Release(ctx context.Context, keys []coord.ClaimKey) error
}

// laterCommitter is a Claimer that can commit claims without the caller
// waiting for the commit (groupcommit.Claims); failed hears of a failure.
type laterCommitter interface {
	CommitLater(ctx context.Context, keys []coord.ClaimKey, failed func(error)) error
}

// Ingester stores events. It is safe for concurrent use.
type Ingester struct {
	ledger   ledger.Ledger
	ids      *mapping.Identities
	calendar Calendar
	log      *slog.Logger
	claims   Claimer // nil: the ledger's unique key alone de-duplicates
	// eventSinks carry raw events instead of day records; every mapped
	// event stored is queued for each of them.
	eventSinks []string
	metrics    *metrics.Metrics // nil records nothing

	total atomicCounts
}

// atomicCounts is Counts that concurrent Ingest calls add to without a
// lock: every webhook adds to it, and a lock every webhook takes is where
// they queue behind a holder the scheduler set aside (docs/PERFORMANCE.md,
// lock convoys).
type atomicCounts struct {
	received, stored, revisions, duplicates, rejected, quarantined atomic.Int64
}

func (a *atomicCounts) add(c Counts) {
	a.received.Add(int64(c.Received))
	a.stored.Add(int64(c.Stored))
	a.revisions.Add(int64(c.Revisions))
	a.duplicates.Add(int64(c.Duplicates))
	a.rejected.Add(int64(c.Rejected))
	a.quarantined.Add(int64(c.Quarantined))
}

// load returns the counts, each read on its own: a Counts read while
// Ingest calls run may hold one call's stored events and not yet its
// received ones.
func (a *atomicCounts) load() Counts {
	return Counts{Received: int(a.received.Load()), Stored: int(a.stored.Load()), Revisions: int(a.revisions.Load()),
		Duplicates: int(a.duplicates.Load()), Rejected: int(a.rejected.Load()), Quarantined: int(a.quarantined.Load())}
}

// New returns an Ingester writing to l, mapping users with ids and marking
// dirty days with cal.
func New(l ledger.Ledger, ids *mapping.Identities, cal Calendar, log *slog.Logger) *Ingester {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ingester{ledger: l, ids: ids, calendar: cal, log: log}
}

// WithClaimer makes the Ingester claim every event in Redis before writing
// it, so that replicas skip each other's committed events without a ledger
// round trip; without Redis the ledger's unique key alone de-duplicates.
func (in *Ingester) WithClaimer(c Claimer) *Ingester {
	in.claims = c
	return in
}

// WithMetrics counts what ingestion does, per connector.
func (in *Ingester) WithMetrics(m *metrics.Metrics) *Ingester {
	in.metrics = m
	return in
}

// WithEventSinks names the sinks that carry events: each mapped event the
// ledger holds is queued for them (ledger.EventOutbox).
func (in *Ingester) WithEventSinks(sinks ...string) *Ingester {
	in.eventSinks = sinks
	return in
}

// queueEvents queues the mapped events for every event sink. Queueing is
// idempotent per (sink, id, fingerprint), so it covers every valid event,
// not only the new ones: a copy that arrives again after a failed queueing
// is queued then.
func (in *Ingester) queueEvents(ctx context.Context, events []mapping.Event) error {
	if len(in.eventSinks) == 0 {
		return nil
	}
	eo, ok := in.ledger.(ledger.EventOutbox)
	if !ok {
		return fmt.Errorf("ingest: the ledger cannot queue events for %v", in.eventSinks)
	}
	mapped := make([]mapping.Event, 0, len(events))
	for _, e := range events {
		if e.EmployeeID != "" {
			mapped = append(mapped, e)
		}
	}
	for _, sink := range in.eventSinks {
		if err := eo.EnqueueEvents(ctx, sink, mapped); err != nil {
			return fmt.Errorf("ingest: queue %d events for %s: %w", len(mapped), sink, err)
		}
	}
	return nil
}

// Ingest validates and stores events. Events that fail validation are stored
// as rejected with their reasons and counted, not returned as an error: an
// error means the ledger could not be written, and the caller must not
// acknowledge the events (a webhook answers 5xx, a pull fails its run).
func (in *Ingester) Ingest(ctx context.Context, events []mapping.Event) (Counts, error) {
	c := Counts{Received: len(events)}
	valid := make([]mapping.Event, 0, len(events))
	var rejected []ledger.Rejection
	for _, e := range events {
		in.ids.Apply(&e)
		if err := mapping.Validate(e); err != nil {
			raw, _ := e.Marshal()
			rejected = append(rejected, ledger.Rejection{ID: e.ID, Connector: e.Connector, Reason: err.Error(), Raw: raw, ReceivedAt: e.ReceivedAt})
			continue
		}
		valid = append(valid, e)
	}
	if len(rejected) > 0 {
		if err := in.ledger.Reject(ctx, rejected); err != nil {
			return c, fmt.Errorf("ingest: store %d rejected events: %w", len(rejected), err)
		}
		c.Rejected = len(rejected)
		in.log.Warn("events rejected", "count", len(rejected), "first_reason", rejected[0].Reason)
	}
	if len(valid) > 0 {
		if err := in.store(ctx, valid, &c); err != nil {
			return c, err
		}
	}
	in.total.add(c)
	if len(events) > 0 {
		in.metrics.IngestCounts(events[0].Connector, metrics.Counts(c))
	}
	return c, nil
}

// store writes valid events: claimed in Redis first when a Claimer is set,
// appended to the ledger, then the claims committed (or released when the
// append failed, so that the retry is not mistaken for a duplicate). It
// reuses valid's array: the caller must not read valid afterwards.
func (in *Ingester) store(ctx context.Context, valid []mapping.Event, c *Counts) error {
	// Each event's fingerprint is computed once, here, for the claim, the
	// ledger row and the raw payload; a ledger that takes IngestBatches
	// gets the events' JSON from here too, so that its one writer only
	// runs SQL.
	ib, prepare := in.ledger.(ingestBatcher)
	var (
		prepared []ledger.PreparedEvent
		fps      []string
	)
	if prepare {
		var err error
		if prepared, err = ledger.PrepareEvents(valid, nil); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		fps = make([]string, len(prepared))
		for i, p := range prepared {
			fps[i] = p.Fingerprint
		}
	} else if _, raw := in.ledger.(ledger.RawStore); raw || in.claims != nil {
		fps = make([]string, len(valid))
		for i, e := range valid {
			fps[i] = mapping.Fingerprint(e)
		}
	}
	var (
		written []coord.ClaimKey
		states  []coord.ClaimState // of written
	)
	if in.claims != nil {
		keys := make([]coord.ClaimKey, len(valid))
		for i, e := range valid {
			keys[i] = coord.ClaimKey{EventID: e.ID, Fingerprint: fps[i]}
		}
		var err error
		states, err = in.claims.Claim(ctx, keys)
		if err != nil {
			return fmt.Errorf("ingest: claim %d events: %w", len(keys), err)
		}
		// valid, fps, prepared, keys and states are this call's own: the
		// events to write are compacted in place and the duplicates
		// dropped.
		n := 0
		for i, st := range states {
			if st == coord.Done {
				c.Duplicates++
				continue
			}
			valid[n], fps[n], keys[n], states[n] = valid[i], fps[i], keys[i], st
			if prepare {
				prepared[n] = prepared[i]
			}
			n++
		}
		valid, fps, written, states = valid[:n], fps[:n], keys[:n], states[:n]
		if prepare {
			prepared = prepared[:n]
		}
		if len(valid) == 0 {
			return nil
		}
	}
	var (
		res ledger.AppendResult
		err error
	)
	if prepare {
		// Events, raw payloads and dirty days in one write.
		res, err = ib.IngestBatch(ctx, ledger.IngestBatch{Events: prepared, Raw: rawPayloads(valid, fps),
			Dirty: func(changed []mapping.Event) []mapping.EmployeeDay { return DirtyDays(in.calendar, changed) }})
		if errors.Is(err, ledger.ErrRawNotKept) {
			// The events and their days are stored; the payloads are for
			// debugging a mapping.
			in.log.Warn("raw payloads not kept", "events", len(valid), "err", err)
			err = nil
		}
	} else {
		res, err = in.ledger.Append(ctx, valid)
	}
	if err == nil {
		err = in.queueEvents(ctx, valid)
	}
	if err != nil {
		if in.claims != nil {
			if rerr := in.claims.Release(context.WithoutCancel(ctx), claimedKeys(written, states)); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return fmt.Errorf("ingest: append %d events: %w", len(valid), err)
	}
	if in.claims != nil {
		// The events are durable now; a failed commit only leaves pending
		// claims that lapse, and their copies fall through to the ledger.
		// So a claimer that can commit without being waited for is not
		// waited for: the caller (a webhook's reply) goes on at once.
		failed := func(err error) { in.log.Warn("dedupe commit failed", "events", len(written), "err", err) }
		var err error
		if l, ok := in.claims.(laterCommitter); ok {
			err = l.CommitLater(context.WithoutCancel(ctx), written, failed)
		} else {
			err = in.claims.Commit(context.WithoutCancel(ctx), written)
		}
		if err != nil {
			failed(err)
		}
	}
	if prepare {
		in.count(res, c)
		return nil
	}
	in.keepRaw(ctx, valid, fps)
	return in.counted(ctx, res, c)
}

// ingestBatcher is a ledger that writes events, their raw payloads and
// their dirty days in one transaction (the SQLite ledger, and groupcommit).
type ingestBatcher interface {
	IngestBatch(ctx context.Context, b ledger.IngestBatch) (ledger.AppendResult, error)
}

// rawPayloads lists the platform payloads of events, fps their
// fingerprints, for a ledger that keeps them.
func rawPayloads(events []mapping.Event, fps []string) []ledger.RawPayload {
	var ps []ledger.RawPayload
	for i, e := range events {
		if len(e.Raw) > 0 {
			ps = append(ps, ledger.RawPayload{EventID: e.ID, Fingerprint: fps[i], Connector: e.Connector, ReceivedAt: e.ReceivedAt, Body: e.Raw})
		}
	}
	return ps
}

// claimedKeys returns the keys this writer claimed (not another's in
// flight): the ones to release when their events could not be written.
func claimedKeys(keys []coord.ClaimKey, states []coord.ClaimState) []coord.ClaimKey {
	var ours []coord.ClaimKey
	for i, st := range states {
		if st == coord.Claimed {
			ours = append(ours, keys[i])
		}
	}
	return ours
}

// keepRaw stores the platform payloads of the written events beside them,
// where the ledger keeps such payloads; they are for debugging a mapping,
// so a failure is logged and does not fail the events. fps are the
// events' fingerprints.
func (in *Ingester) keepRaw(ctx context.Context, events []mapping.Event, fps []string) {
	rs, ok := in.ledger.(ledger.RawStore)
	if !ok {
		return
	}
	ps := rawPayloads(events, fps)
	if err := rs.StoreRaw(ctx, ps); err != nil {
		in.log.Warn("raw payloads not kept", "events", len(ps), "err", err)
	}
}

func (in *Ingester) counted(ctx context.Context, res ledger.AppendResult, c *Counts) error {
	in.count(res, c)
	return in.markDirty(ctx, res.Changed)
}

// count adds what an append did to c.
func (in *Ingester) count(res ledger.AppendResult, c *Counts) {
	c.Stored += res.Stored
	c.Revisions += res.Revisions
	c.Duplicates += res.Duplicates
	c.Quarantined += res.Quarantined
}

// Emit adapts Ingest to connectors.EmitFunc's shape.
func (in *Ingester) Emit(ctx context.Context, events []mapping.Event) error {
	_, err := in.Ingest(ctx, events)
	return err
}

// Totals returns the counts of every Ingest call so far.
func (in *Ingester) Totals() Counts { return in.total.load() }

// Remap gives the quarantined events of a platform user the employee id the
// identity table now holds, and marks their days dirty. It returns how many
// events left quarantine.
func (in *Ingester) Remap(ctx context.Context, platform, tenant, userID string) (int, error) {
	emp, ok := in.ids.Lookup(platform, tenant, userID)
	if !ok {
		return 0, nil
	}
	events, err := in.ledger.Remap(ctx, platform, tenant, userID, emp)
	if err != nil {
		return 0, fmt.Errorf("ingest: remap %s/%s/%s: %w", platform, tenant, userID, err)
	}
	if err := in.queueEvents(ctx, events); err != nil {
		return 0, err
	}
	return len(events), in.markDirty(ctx, events)
}

// RemapQuarantined re-maps every quarantined user that the identity table
// now knows. It returns how many events left quarantine.
func (in *Ingester) RemapQuarantined(ctx context.Context) (int, error) {
	q, err := in.ledger.Quarantined(ctx, 0)
	if err != nil {
		return 0, fmt.Errorf("ingest: list quarantined events: %w", err)
	}
	type user struct{ platform, tenant, id string }
	seen := map[user]bool{}
	total := 0
	for _, e := range q {
		u := user{e.Platform, e.Tenant, e.UserID}
		if seen[u] {
			continue
		}
		seen[u] = true
		n, err := in.Remap(ctx, u.platform, u.tenant, u.id)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (in *Ingester) markDirty(ctx context.Context, events []mapping.Event) error {
	days := DirtyDays(in.calendar, events)
	if len(days) == 0 {
		return nil
	}
	if err := in.ledger.MarkDirty(ctx, days); err != nil {
		return fmt.Errorf("ingest: mark %d days dirty: %w", len(days), err)
	}
	return nil
}

// DirtyDays lists, without duplicates and sorted, the employee-days that
// events can affect.
func DirtyDays(cal Calendar, events []mapping.Event) []mapping.EmployeeDay {
	set := map[mapping.EmployeeDay]bool{}
	for _, e := range events {
		if e.EmployeeID == "" {
			continue
		}
		var dates []string
		if e.Approval != nil {
			dates = cal.DatesBetween(e.EmployeeID, e.Approval.Start, e.Approval.End)
		} else {
			dates = cal.DatesFor(e.EmployeeID, e.Time)
		}
		for _, d := range dates {
			set[mapping.EmployeeDay{EmployeeID: e.EmployeeID, Date: d}] = true
		}
	}
	out := make([]mapping.EmployeeDay, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].EmployeeID != out[j].EmployeeID {
			return out[i].EmployeeID < out[j].EmployeeID
		}
		return out[i].Date < out[j].Date
	})
	return out
}
