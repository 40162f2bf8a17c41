package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Enqueue adds a pending entry, due at once, unless (sink, key, version) is
// already in the outbox.
func (l *Ledger) Enqueue(ctx context.Context, sink string, rec mapping.DayRecord) error {
	if sink == "" {
		return errors.New("postgres ledger: enqueue: sink is empty; give the sink's name")
	}
	if err := ledger.CheckDayKey(rec.Key()); err != nil {
		return fmt.Errorf("postgres ledger: enqueue for %s: %w", sink, err)
	}
	if rec.Version < 1 {
		return fmt.Errorf("postgres ledger: enqueue %s/%s/%s for %s: version %d is not a stored version; enqueue the record PutDay returned",
			rec.EmployeeID, rec.Date, rec.Shift, sink, rec.Version)
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("postgres ledger: enqueue for %s: %w", sink, err)
	}
	now := l.now()
	_, err = l.exec(ctx, `INSERT INTO outbox (sink, employee_id, date, shift, version, body, state, created_at, updated_at)
		VALUES ($1, $2, $3::date, $4, $5, $6, 'pending', $7, $7)
		ON CONFLICT (sink, employee_id, date, shift, version) DO NOTHING`,
		sink, rec.EmployeeID, rec.Date, rec.Shift, rec.Version, string(body), now)
	if err != nil {
		return fmt.Errorf("postgres ledger: enqueue %s/%s/%s v%d for %s: %w", rec.EmployeeID, rec.Date, rec.Shift, rec.Version, sink, err)
	}
	return nil
}

const entryColumns = `id, sink, body, state, attempts, last_error, next_at, created_at, updated_at`

// Due lists the sink's pending entries whose next attempt is due at now, in
// the order they were enqueued, so that versions of one day go out in order.
// A limit of 0 or less means all. It only reads: replicas that list the
// same entry must claim it (in Redis) before sending.
func (l *Ledger) Due(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.OutboxEntry, error) {
	return l.DueAfter(ctx, sink, now, 0, limit)
}

// DueAfter is Due for the entries enqueued after the entry with id after,
// so that a push can read its next round while the last one, still
// pending, is being delivered.
func (l *Ledger) DueAfter(ctx context.Context, sink string, now time.Time, after int64, limit int) ([]ledger.OutboxEntry, error) {
	es, err := query(ctx, l, scanEntry, `SELECT `+entryColumns+` FROM outbox
		WHERE sink = $1 AND state = 'pending' AND (next_at IS NULL OR next_at <= $2) AND id > $3
		ORDER BY id LIMIT $4`, sink, ms(now), after, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: due entries of %s: %w", sink, err)
	}
	return es, nil
}

// Outbox lists entries in the order they were enqueued; an empty sink or
// state means any, a limit of 0 or less means all.
func (l *Ledger) Outbox(ctx context.Context, sink string, state ledger.DeliveryState, limit int) ([]ledger.OutboxEntry, error) {
	var (
		where []string
		args  []any
	)
	if sink != "" {
		args = append(args, sink)
		where = append(where, "sink = $"+strconv.Itoa(len(args)))
	}
	if state != "" {
		args = append(args, string(state))
		where = append(where, "state = $"+strconv.Itoa(len(args)))
	}
	q := `SELECT ` + entryColumns + ` FROM outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limitArg(limit))
	es, err := query(ctx, l, scanEntry, q+` ORDER BY id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: outbox of %q in state %q: %w", sink, state, err)
	}
	return es, nil
}

func scanEntry(row pgx.CollectableRow) (ledger.OutboxEntry, error) {
	var (
		e     ledger.OutboxEntry
		body  []byte
		state string
		next  *time.Time
	)
	if err := row.Scan(&e.ID, &e.Sink, &body, &state, &e.Attempts, &e.LastError, &next, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return e, err
	}
	if err := mapping.UnmarshalDay(body, &e.Record); err != nil {
		return e, fmt.Errorf("decode outbox entry %d: %w", e.ID, err)
	}
	e.State = ledger.DeliveryState(state)
	if next != nil {
		e.NextAt = next.UTC()
	}
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, nil
}

// MarkDelivered sets the entry delivered and writes the delivery log. It
// locks the entry's row, so racing calls (and MarkFailed) take turns; it is
// idempotent: marking an entry again keeps the first delivery time.
func (l *Ledger) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	if err := l.markDelivered(ctx, []int64{id}, at); err != nil {
		return fmt.Errorf("postgres ledger: mark outbox entry %d delivered: %w", id, err)
	}
	return nil
}

// MarkDeliveredAll is MarkDelivered for several entries in one
// transaction; an unknown id leaves every entry as it was.
func (l *Ledger) MarkDeliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if err := l.markDelivered(ctx, ids, at); err != nil {
		return fmt.Errorf("postgres ledger: mark %d outbox entries delivered: %w", len(ids), err)
	}
	return nil
}

func (l *Ledger) markDelivered(ctx context.Context, ids []int64, at time.Time) error {
	return l.tx(ctx, func(tx pgx.Tx) error {
		// Locking the rows in id order keeps two batches that share
		// entries from deadlocking.
		rows, err := tx.Query(ctx, `SELECT id FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if len(found) < len(uniqueIDs(ids)) {
			return fmt.Errorf("outbox entry %d: %w", missingID(ids, found), ledger.ErrNotFound)
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE outbox SET state = 'delivered', updated_at = $2 WHERE id = ANY($1) AND state <> 'delivered'`, ids, l.now())
		b.Queue(`INSERT INTO deliveries (sink, employee_id, date, shift, version, outbox_id, delivered_at)
			SELECT sink, employee_id, date, shift, version, id, $2 FROM outbox WHERE id = ANY($1)
			ON CONFLICT DO NOTHING`, ids, ms(at))
		return tx.SendBatch(ctx, b).Close()
	})
}

// uniqueIDs returns the distinct ids.
func uniqueIDs(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// missingID returns the first of ids that found lacks.
func missingID(ids, found []int64) int64 {
	have := uniqueIDs(found)
	for _, id := range ids {
		if !have[id] {
			return id
		}
	}
	return 0
}

// MarkFailed counts a failed attempt and schedules the next one at next (the
// zero time: at once), or moves the entry to the dead-letter queue. A
// delivered entry stays delivered: a late failure report from a racing
// attempt must not send a record twice. The check and the update are one
// conditional UPDATE, so no interleaving can undo a delivery.
func (l *Ledger) MarkFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error {
	state := ledger.DeliveryPending
	if dead {
		state = ledger.DeliveryDead
	}
	tag, err := l.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_at = $3, state = $4, updated_at = $5
		WHERE id = $1 AND state <> 'delivered'`, id, errMsg, msPtr(next), string(state), l.now())
	if err == nil && tag.RowsAffected() == 0 {
		var exists []bool
		exists, err = query(ctx, l, pgx.RowTo[bool], `SELECT true FROM outbox WHERE id = $1`, id)
		if err == nil && len(exists) == 0 {
			err = ledger.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres ledger: mark outbox entry %d failed: %w", id, err)
	}
	return nil
}

// DeliveredAll reports, for each record, whether the sink acknowledged its
// version, in one query joining the delivery log's key. A record whose
// date is not a date was never delivered (Enqueue refuses it).
func (l *Ledger) DeliveredAll(ctx context.Context, sink string, recs []mapping.DayRecord) ([]bool, error) {
	var emps, dates, shifts []string
	var versions []int32
	for _, r := range recs {
		if ledger.CheckDate("date", r.Date) == nil {
			emps, dates, shifts = append(emps, r.EmployeeID), append(dates, r.Date), append(shifts, r.Shift)
			versions = append(versions, int32(r.Version))
		}
	}
	if len(emps) == 0 {
		return make([]bool, len(recs)), nil
	}
	found, err := query(ctx, l, func(row pgx.CollectableRow) (ledger.DayVersion, error) {
		var v ledger.DayVersion
		err := row.Scan(&v.Key.EmployeeID, &v.Key.Date, &v.Key.Shift, &v.Version)
		return v, err
	}, `SELECT d.employee_id, d.date::text, d.shift, d.version
		FROM unnest($2::text[], $3::date[], $4::text[], $5::int[]) AS r(employee_id, date, shift, version)
		JOIN deliveries d ON d.sink = $1 AND d.employee_id = r.employee_id AND d.date = r.date
			AND d.shift = r.shift AND d.version = r.version`, sink, emps, dates, shifts, versions)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: delivered: %d records to %s: %w", len(recs), sink, err)
	}
	return ledger.DeliveredOf(recs, found), nil
}

// Delivered reports whether the sink acknowledged that version of the day.
func (l *Ledger) Delivered(ctx context.Context, sink string, key mapping.DayKey, version int) (bool, error) {
	if ledger.CheckDate("date", key.Date) != nil {
		return false, nil // Enqueue refuses such a key: it was never delivered
	}
	ok, err := query(ctx, l, pgx.RowTo[bool], `SELECT EXISTS (SELECT 1 FROM deliveries
		WHERE sink = $1 AND employee_id = $2 AND date = $3::date AND shift = $4 AND version = $5)`,
		sink, key.EmployeeID, key.Date, key.Shift, version)
	if err != nil {
		return false, fmt.Errorf("postgres ledger: delivered %s/%s/%s v%d to %s: %w", key.EmployeeID, key.Date, key.Shift, version, sink, err)
	}
	return ok[0], nil
}
