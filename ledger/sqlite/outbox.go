package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Enqueue adds a pending entry, due at once, unless (sink, key, version) is
// already in the outbox.
func (l *Ledger) Enqueue(ctx context.Context, sink string, rec mapping.DayRecord) error {
	if sink == "" {
		return errors.New("sqlite ledger: enqueue: sink is empty; give the sink's name")
	}
	if err := ledger.CheckDayKey(rec.Key()); err != nil {
		return fmt.Errorf("sqlite ledger: enqueue for %s: %w", sink, err)
	}
	if rec.Version < 1 {
		return fmt.Errorf("sqlite ledger: enqueue %s/%s/%s for %s: version %d is not a stored version; enqueue the record PutDay returned",
			rec.EmployeeID, rec.Date, rec.Shift, sink, rec.Version)
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("sqlite ledger: enqueue for %s: %w", sink, err)
	}
	now := l.clock().UnixMilli()
	_, err = l.w.ExecContext(ctx, `INSERT INTO outbox (sink, employee_id, date, shift, version, body, state, created_ms, updated_ms)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (sink, employee_id, date, shift, version) DO NOTHING`,
		sink, rec.EmployeeID, rec.Date, rec.Shift, rec.Version, string(body), now, now)
	if err != nil {
		return fmt.Errorf("sqlite ledger: enqueue %s/%s/%s v%d for %s: %w", rec.EmployeeID, rec.Date, rec.Shift, rec.Version, sink, err)
	}
	return nil
}

// entryColumns are an entry's columns, read from outbox o joined with
// entryDays: an entry without a body of its own is the stored version's.
const (
	entryColumns = `o.id, o.sink, coalesce(o.body, d.body), o.state, o.attempts, o.last_error, o.next_ms, o.created_ms, o.updated_ms`
	entryDays    = ` LEFT JOIN days d ON d.employee_id = o.employee_id AND d.date = o.date AND d.shift = o.shift AND d.version = o.version`
)

// dueQuery lists a sink's due entries after an entry id in the order they
// were enqueued.
const dueQuery = `SELECT ` + entryColumns + ` FROM outbox o INDEXED BY outbox_pending` + entryDays + `
	WHERE o.sink = ? AND o.state = 'pending' AND o.next_ms <= ? AND o.id > ? ORDER BY o.id LIMIT ?`

// Due lists the sink's pending entries whose next attempt is due at now, in
// the order they were enqueued, so that versions of one day go out in order.
// A limit of 0 or less means all.
func (l *Ledger) Due(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.OutboxEntry, error) {
	return l.DueAfter(ctx, sink, now, 0, limit)
}

// DueAfter is Due for the entries enqueued after the entry with id after,
// so that a push can read its next round while the last one, still
// pending, is being delivered.
func (l *Ledger) DueAfter(ctx context.Context, sink string, now time.Time, after int64, limit int) ([]ledger.OutboxEntry, error) {
	// INDEXED BY: the planner would rather use another index and sort every
	// pending entry by id on each call (migration 0007 says why).
	es, err := l.queryEntries(ctx, dueQuery, sink, now.UnixMilli(), after, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: due entries of %s: %w", sink, err)
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
		where, args = append(where, "o.sink = ?"), append(args, sink)
	}
	if state != "" {
		where, args = append(where, "o.state = ?"), append(args, string(state))
	}
	q := `SELECT ` + entryColumns + ` FROM outbox o` + entryDays
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	es, err := l.queryEntries(ctx, q+` ORDER BY o.id LIMIT ?`, append(args, limitArg(limit))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: outbox of %q in state %q: %w", sink, state, err)
	}
	return es, nil
}

func (l *Ledger) queryEntries(ctx context.Context, q string, args ...any) ([]ledger.OutboxEntry, error) {
	rows, err := l.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []ledger.OutboxEntry
	for rows.Next() {
		var (
			e                        ledger.OutboxEntry
			body                     sql.NullString
			state                    string
			next, created, updatedAt int64
		)
		if err := rows.Scan(&e.ID, &e.Sink, &body, &state, &e.Attempts, &e.LastError, &next, &created, &updatedAt); err != nil {
			return nil, err
		}
		if !body.Valid {
			return nil, fmt.Errorf("outbox entry %d: the day-record version it delivers is not in the days table", e.ID)
		}
		if err := mapping.UnmarshalDay([]byte(body.String), &e.Record); err != nil {
			return nil, fmt.Errorf("decode outbox entry %d: %w", e.ID, err)
		}
		e.State = ledger.DeliveryState(state)
		e.NextAt, e.CreatedAt, e.UpdatedAt = fromMS(next), fromMS(created), fromMS(updatedAt)
		es = append(es, e)
	}
	return es, rows.Err()
}

// MarkDelivered sets the entry delivered and records when the sink
// acknowledged it. It is idempotent: marking an entry again keeps the
// first delivery time.
//
// Concurrent calls (the push workers') share a transaction.
func (l *Ledger) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	if err := l.markDelivered(ctx, []int64{id}, at); err != nil {
		return fmt.Errorf("sqlite ledger: mark outbox entry %d delivered: %w", id, err)
	}
	return nil
}

// MarkDeliveredAll is MarkDelivered for several entries, all in one shared
// transaction; an unknown id leaves every entry as it was.
func (l *Ledger) MarkDeliveredAll(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if err := l.markDelivered(ctx, ids, at); err != nil {
		return fmt.Errorf("sqlite ledger: mark %d outbox entries delivered: %w", len(ids), err)
	}
	return nil
}

func (l *Ledger) markDelivered(ctx context.Context, ids []int64, at time.Time) error {
	return l.writeShared(ctx, func(tx *sql.Tx) error {
		// Every entry is found before any is written: a callerError must
		// leave the shared transaction untouched.
		if err := outboxHas(ctx, tx, ids); err != nil {
			return err
		}
		now := l.clock().UnixMilli()
		return inChunks(ids, func(chunk []any) error {
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'delivered', updated_ms = ?, delivered_ms = ?
				WHERE state != 'delivered' AND id IN (`+placeholders(len(chunk), 1)+`)`,
				append([]any{now, at.UnixMilli()}, chunk...)...)
			return err
		})
	})
}

// outboxHas returns a callerError wrapping ledger.ErrNotFound naming the
// first of ids the outbox does not hold.
func outboxHas(ctx context.Context, tx *sql.Tx, ids []int64) error {
	found := make(map[int64]bool, len(ids))
	err := inChunks(ids, func(chunk []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM outbox WHERE id IN (`+placeholders(len(chunk), 1)+`)`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			found[id] = true
		}
		return errors.Join(rows.Err(), rows.Close())
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !found[id] {
			return callerError{fmt.Errorf("outbox entry %d: %w", id, ledger.ErrNotFound)}
		}
	}
	return nil
}

// MarkFailed counts a failed attempt and schedules the next one at next, or
// moves the entry to the dead-letter queue. A delivered entry stays
// delivered: a late failure report from a racing attempt must not send a
// record twice. Concurrent calls share a transaction.
func (l *Ledger) MarkFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error {
	state := ledger.DeliveryPending
	if dead {
		state = ledger.DeliveryDead
	}
	err := l.writeShared(ctx, func(tx *sql.Tx) error {
		var current string
		err := l.stmt(ctx, tx, qEntryState).QueryRowContext(ctx, id).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return callerError{ledger.ErrNotFound}
		}
		if err != nil || current == string(ledger.DeliveryDelivered) {
			return err
		}
		_, err = l.stmt(ctx, tx, qSetFailed).ExecContext(ctx, errMsg, ms(next), string(state), l.clock().UnixMilli(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: mark outbox entry %d failed: %w", id, err)
	}
	return nil
}

// deliveredChunk is how many records one DeliveredAll query names: four
// values each, well under SQLite's limit on a statement's values.
const deliveredChunk = 250

// deliveredQuery lists which of n (employee, date, shift, version) values
// the sink has acknowledged.
func deliveredQuery(n int) string {
	return `SELECT employee_id, date, shift, version FROM outbox
		WHERE sink = ? AND delivered_ms != 0 AND (employee_id, date, shift, version) IN (VALUES ` + placeholders(n, 4) + `)`
}

// DeliveredAll reports, for each record, whether the sink acknowledged its
// version: a query per deliveredChunk records, each a search of the
// outbox's (sink, key, version) index.
func (l *Ledger) DeliveredAll(ctx context.Context, sink string, recs []mapping.DayRecord) ([]bool, error) {
	var found []ledger.DayVersion
	for start := 0; start < len(recs); start += deliveredChunk {
		chunk := recs[start:min(start+deliveredChunk, len(recs))]
		args := make([]any, 0, 1+4*len(chunk))
		args = append(args, sink)
		for _, r := range chunk {
			args = append(args, r.EmployeeID, r.Date, r.Shift, r.Version)
		}
		err := func() error {
			rows, err := l.r.QueryContext(ctx, deliveredQuery(len(chunk)), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var v ledger.DayVersion
				if err := rows.Scan(&v.Key.EmployeeID, &v.Key.Date, &v.Key.Shift, &v.Version); err != nil {
					return err
				}
				found = append(found, v)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("sqlite ledger: delivered: %d records to %s: %w", len(recs), sink, err)
		}
	}
	return ledger.DeliveredOf(recs, found), nil
}

// Delivered reports whether the sink acknowledged that version of the day.
func (l *Ledger) Delivered(ctx context.Context, sink string, key mapping.DayKey, version int) (bool, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox
		WHERE sink = ? AND employee_id = ? AND date = ? AND shift = ? AND version = ? AND delivered_ms != 0`,
		sink, key.EmployeeID, key.Date, key.Shift, version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite ledger: delivered %s/%s/%s v%d to %s: %w", key.EmployeeID, key.Date, key.Shift, version, sink, err)
	}
	return n > 0, nil
}
