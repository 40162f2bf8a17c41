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

const entryColumns = `id, sink, body, state, attempts, last_error, next_ms, created_ms, updated_ms`

// dueQuery lists a sink's due entries in the order they were enqueued.
const dueQuery = `SELECT ` + entryColumns + ` FROM outbox INDEXED BY outbox_pending
	WHERE sink = ? AND state = 'pending' AND next_ms <= ? ORDER BY id LIMIT ?`

// Due lists the sink's pending entries whose next attempt is due at now, in
// the order they were enqueued, so that versions of one day go out in order.
// A limit of 0 or less means all.
func (l *Ledger) Due(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.OutboxEntry, error) {
	// INDEXED BY: the planner would rather use outbox_due and sort every
	// pending entry by id on each call (migration 0007 says why).
	es, err := l.queryEntries(ctx, dueQuery, sink, now.UnixMilli(), limitArg(limit))
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
		where, args = append(where, "sink = ?"), append(args, sink)
	}
	if state != "" {
		where, args = append(where, "state = ?"), append(args, string(state))
	}
	q := `SELECT ` + entryColumns + ` FROM outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	es, err := l.queryEntries(ctx, q+` ORDER BY id LIMIT ?`, append(args, limitArg(limit))...)
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
			body, state              string
			next, created, updatedAt int64
		)
		if err := rows.Scan(&e.ID, &e.Sink, &body, &state, &e.Attempts, &e.LastError, &next, &created, &updatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &e.Record); err != nil {
			return nil, fmt.Errorf("decode outbox entry %d: %w", e.ID, err)
		}
		e.State = ledger.DeliveryState(state)
		e.NextAt, e.CreatedAt, e.UpdatedAt = fromMS(next), fromMS(created), fromMS(updatedAt)
		es = append(es, e)
	}
	return es, rows.Err()
}

// MarkDelivered sets the entry delivered and writes the delivery log. It is
// idempotent: marking an entry again keeps the first delivery time.
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
	type entry struct {
		sink, emp, date, shift string
		version                int
	}
	return l.writeShared(ctx, func(tx *sql.Tx) error {
		// Every entry is read before any is written: a callerError must
		// leave the shared transaction untouched.
		es := make([]entry, len(ids))
		for i, id := range ids {
			e := &es[i]
			err := l.stmt(ctx, tx, qDeliveredEntry).QueryRowContext(ctx, id).Scan(&e.sink, &e.emp, &e.date, &e.shift, &e.version)
			if errors.Is(err, sql.ErrNoRows) {
				return callerError{fmt.Errorf("outbox entry %d: %w", id, ledger.ErrNotFound)}
			}
			if err != nil {
				return err
			}
		}
		now := l.clock().UnixMilli()
		for i, id := range ids {
			e := es[i]
			if _, err := l.stmt(ctx, tx, qSetDelivered).ExecContext(ctx, now, id); err != nil {
				return err
			}
			if _, err := l.stmt(ctx, tx, qLogDelivery).ExecContext(ctx, e.sink, e.emp, e.date, e.shift, e.version, id, at.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
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

// Delivered reports whether the sink acknowledged that version of the day.
func (l *Ledger) Delivered(ctx context.Context, sink string, key mapping.DayKey, version int) (bool, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries
		WHERE sink = ? AND employee_id = ? AND date = ? AND shift = ? AND version = ?`,
		sink, key.EmployeeID, key.Date, key.Shift, version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite ledger: delivered %s/%s/%s v%d to %s: %w", key.EmployeeID, key.Date, key.Shift, version, sink, err)
	}
	return n > 0, nil
}
