package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/revisions"
	"github.com/punchbridge/punchbridge/mapping"
)

// Append stores the batch in one transaction.
//
// The transaction first takes an advisory lock on every event id of the
// batch, in one statement and in key order, so writers in any number of
// processes serialize per id without deadlocking. It then reads the stored
// revisions of those ids in one query, works out the batch in memory, event
// by event, and writes the outcome in one pipelined round trip: clearing
// the latest flag of revised ids, remapping quarantined copies, and one
// multi-row INSERT ... ON CONFLICT DO NOTHING of the new revisions.
//
// A duplicate normally changes nothing. One exception: when the stored
// copies of an id have no employee id and the new copy has one (the user
// was mapped since the first copy arrived), the stored copies are remapped
// to it, and if that takes the latest revision out of quarantine it is
// listed in Changed. Such a copy still counts as a duplicate. A duplicate
// naming another employee than the stored copy does not move the event:
// re-assigning mapped events is not something a re-delivery may do.
//
// A copy identical to an older revision is a duplicate too; the latest
// revision stays the most recently stored content.
func (l *Ledger) Append(ctx context.Context, events []mapping.Event) (ledger.AppendResult, error) {
	res, err := l.AppendBatches(ctx, [][]mapping.Event{events})
	if err != nil {
		return ledger.AppendResult{}, err
	}
	return res[0], nil
}

// AppendBatches stores several callers' batches in one transaction, in
// order, and reports each batch's result as if each had been appended on
// its own in that order; ledger/groupcommit uses it to commit many webhook
// requests at once. It works as Append does, over the union of the
// batches' ids. Either every batch is stored or, on error, none.
func (l *Ledger) AppendBatches(ctx context.Context, batches [][]mapping.Event) ([]ledger.AppendResult, error) {
	total := 0
	for _, events := range batches {
		for i, e := range events {
			if e.ID == "" {
				return nil, fmt.Errorf("postgres ledger: append: event %d: id is empty; validate events before appending them", i)
			}
		}
		total += len(events)
	}
	results := make([]ledger.AppendResult, len(batches))
	if total == 0 {
		return results, nil
	}
	prepared := make([][]ledger.PreparedEvent, len(batches))
	for b, events := range batches {
		var err error
		if prepared[b], err = ledger.PrepareEvents(events, nil); err != nil {
			return nil, fmt.Errorf("postgres ledger: append: %w", err)
		}
	}
	err := l.tx(ctx, func(tx pgx.Tx) error {
		clear(results)
		return appendBatches(ctx, tx, prepared, results, l.now())
	})
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: append %d events: %w", total, err)
	}
	return results, nil
}

// IngestBatch writes one caller's events, raw payloads and dirty days in
// one transaction (ledger.IngestBatch).
func (l *Ledger) IngestBatch(ctx context.Context, b ledger.IngestBatch) (ledger.AppendResult, error) {
	res, err := l.IngestBatches(ctx, []ledger.IngestBatch{b})
	if err != nil {
		return ledger.AppendResult{}, err
	}
	return res[0], nil
}

// IngestBatches writes several callers' IngestBatches in one transaction:
// the events of each as AppendBatches does, in order, with the callers'
// fingerprints and JSON as prepared; then every raw payload as StoreRaw
// does; then the dirty days each batch's changes make, as MarkDirty does.
// Either all of it is stored or, on error, none. Through groupcommit this
// makes an ingest one transaction, not three, and leaves the encoding of
// events to the goroutines that prepared them.
func (l *Ledger) IngestBatches(ctx context.Context, ibs []ledger.IngestBatch) ([]ledger.AppendResult, error) {
	batches, total, err := ledger.CheckIngestBatches(ibs)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: %w", err)
	}
	results := make([]ledger.AppendResult, len(ibs))
	if total == 0 {
		return results, nil
	}
	err = l.tx(ctx, func(tx pgx.Tx) error {
		clear(results)
		now := l.now()
		if err := appendBatches(ctx, tx, batches, results, now); err != nil {
			return err
		}
		raw, dirty := ledger.IngestRest(ibs, results)
		if err := storeRaw(ctx, tx, raw); err != nil {
			return fmt.Errorf("raw payloads: %w", err)
		}
		return markDirty(ctx, tx, dirty, now)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: append %d events: %w", total, err)
	}
	return results, nil
}

// appendBatches works out every batch against the stored histories of
// its ids, counting each batch in its own result, and writes the outcome.
func appendBatches(ctx context.Context, tx pgx.Tx, batches [][]ledger.PreparedEvent, results []ledger.AppendResult, now time.Time) error {
	var ids []string
	seen := map[string]bool{}
	for _, events := range batches {
		for _, p := range events {
			if !seen[p.Event.ID] {
				seen[p.Event.ID] = true
				ids = append(ids, p.Event.ID)
			}
		}
	}
	if err := lockEvents(ctx, tx, ids); err != nil {
		return err
	}
	// Read only after the locks: under READ COMMITTED this statement sees
	// every revision a writer committed before releasing them.
	hs, err := loadHistories(ctx, tx, ids)
	if err != nil {
		return err
	}
	for b, events := range batches {
		for _, p := range events {
			if _, err := hs[p.Event.ID].Add(p.Event, p.Fingerprint, p.JSON, &results[b]); err != nil {
				return fmt.Errorf("event %s: %w", p.Event.ID, err)
			}
		}
	}
	return writeHistories(ctx, tx, ids, hs, now)
}

func loadHistories(ctx context.Context, tx pgx.Tx, ids []string) (map[string]*revisions.History, error) {
	hs := make(map[string]*revisions.History, len(ids))
	for _, id := range ids {
		hs[id] = &revisions.History{}
	}
	// Each id is looked up on its own (OFFSET 0 keeps the lateral subquery
	// from being flattened into a join), so the lookup takes the index even
	// before ANALYZE has seen a new, fast-growing table: for id = ANY($1)
	// the planner then guesses half the table matches, and scans it all.
	rows, err := tx.Query(ctx, `SELECT k.id, r.seq, r.fingerprint, r.revision, r.employee_id, r.latest, r.body
		FROM unnest($1::text[]) AS k(id)
		CROSS JOIN LATERAL (
			SELECT seq, fingerprint, revision, employee_id, latest,
				CASE WHEN employee_id = '' THEN body ELSE '' END AS body
			FROM events WHERE events.id = k.id OFFSET 0) AS r`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			r  revisions.Revision
		)
		if err := rows.Scan(&id, &r.Seq, &r.Fingerprint, &r.Number, &r.Employee, &r.Latest, &r.Body); err != nil {
			return nil, err
		}
		r.WasLatest = r.Latest
		hs[id].Revs = append(hs[id].Revs, &r)
	}
	return hs, rows.Err()
}

// newRows holds the columns of the revisions a batch inserts, as arrays
// for one INSERT ... SELECT FROM unnest.
type newRows struct {
	id, fp, kind, platform, tenant, user, employee, body []string
	rev                                                  []int32
	latest                                               []bool
	at                                                   []time.Time
	start, end                                           []*time.Time
}

func (n *newRows) add(r *revisions.Revision) error {
	e := r.Event
	body := r.JSON
	if body == nil {
		var err error
		if body, err = e.Marshal(); err != nil {
			return err
		}
	}
	var start, end *time.Time
	if e.Approval != nil {
		s, en := ms(e.Approval.Start), ms(e.Approval.End)
		start, end = &s, &en
	}
	n.id, n.fp, n.kind = append(n.id, e.ID), append(n.fp, r.Fingerprint), append(n.kind, string(e.Kind))
	n.platform, n.tenant, n.user = append(n.platform, e.Platform), append(n.tenant, e.Tenant), append(n.user, e.UserID)
	n.employee, n.body = append(n.employee, e.EmployeeID), append(n.body, string(body))
	n.rev, n.latest = append(n.rev, int32(r.Number)), append(n.latest, r.Latest)
	n.at, n.start, n.end = append(n.at, ms(e.Time)), append(n.start, start), append(n.end, end)
	return nil
}

// writeHistories writes what the batch changed, in one round trip.
func writeHistories(ctx context.Context, tx pgx.Tx, ids []string, hs map[string]*revisions.History, now time.Time) error {
	var (
		unlatest            []int64
		remapSeq            []int64
		remapEmp, remapBody []string
		ins                 newRows
	)
	for _, id := range ids {
		for _, r := range hs[id].Revs {
			switch {
			case r.New:
				if err := ins.add(r); err != nil {
					return err
				}
			case r.Remapped:
				body, err := r.Event.Marshal()
				if err != nil {
					return err
				}
				remapSeq, remapEmp, remapBody = append(remapSeq, r.Seq), append(remapEmp, r.Employee), append(remapBody, string(body))
			}
			if !r.New && r.WasLatest && !r.Latest {
				unlatest = append(unlatest, r.Seq)
			}
		}
	}
	b := &pgx.Batch{}
	// The old latest flags go first: one latest revision per id is a
	// unique index.
	if len(unlatest) > 0 {
		b.Queue(`UPDATE events SET latest = false WHERE seq = ANY($1::bigint[])`, unlatest)
	}
	if len(remapSeq) > 0 {
		b.Queue(`UPDATE events SET employee_id = u.employee_id, body = u.body
			FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(seq, employee_id, body)
			WHERE events.seq = u.seq`, remapSeq, remapEmp, remapBody)
	}
	if len(ins.id) > 0 {
		b.Queue(`INSERT INTO events (id, fingerprint, revision, latest, kind, platform, tenant, user_id,
				employee_id, event_time, start_at, end_at, body, created_at)
			SELECT u.*, $14::timestamptz FROM unnest($1::text[], $2::text[], $3::integer[], $4::boolean[], $5::text[],
				$6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[],
				$13::text[]) AS u
			ON CONFLICT (id, fingerprint) DO NOTHING`,
			ins.id, ins.fp, ins.rev, ins.latest, ins.kind, ins.platform, ins.tenant, ins.user,
			ins.employee, ins.at, ins.start, ins.end, ins.body, now).Exec(func(tag pgconn.CommandTag) error {
			if int(tag.RowsAffected()) != len(ins.id) {
				return errLostRace
			}
			return nil
		})
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}
