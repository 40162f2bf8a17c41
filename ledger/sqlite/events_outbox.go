package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

var _ ledger.EventOutbox = (*Ledger)(nil)

// EnqueueEvents implements ledger.EventOutbox.
func (l *Ledger) EnqueueEvents(ctx context.Context, sink string, events []mapping.Event) error {
	if len(events) == 0 {
		return nil
	}
	err := l.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO event_outbox (sink, event_id, fingerprint, body, state, created_ms, updated_ms)
			VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := l.clock().UnixMilli()
		for _, e := range events {
			body, err := e.Marshal()
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, sink, e.ID, mapping.Fingerprint(e), string(body), now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: queue %d events for %s: %w", len(events), sink, err)
	}
	return nil
}

const eventEntryColumns = `id, sink, body, state, attempts, last_error, next_ms, created_ms, updated_ms`

// DueEvents implements ledger.EventOutbox.
func (l *Ledger) DueEvents(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.EventEntry, error) {
	es, err := l.queryEventEntries(ctx, `SELECT `+eventEntryColumns+` FROM event_outbox
		WHERE sink = ? AND state = 'pending' AND next_ms <= ? ORDER BY id LIMIT ?`, sink, ms(now), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: due events of %s: %w", sink, err)
	}
	return es, nil
}

// EventEntries implements ledger.EventOutbox.
func (l *Ledger) EventEntries(ctx context.Context, sink string, state ledger.DeliveryState, limit int) ([]ledger.EventEntry, error) {
	var where []string
	var args []any
	if sink != "" {
		where, args = append(where, "sink = ?"), append(args, sink)
	}
	if state != "" {
		where, args = append(where, "state = ?"), append(args, string(state))
	}
	q := `SELECT ` + eventEntryColumns + ` FROM event_outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	es, err := l.queryEventEntries(ctx, q+` ORDER BY id LIMIT ?`, append(args, limitArg(limit))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: event outbox of %q in state %q: %w", sink, state, err)
	}
	return es, nil
}

func (l *Ledger) queryEventEntries(ctx context.Context, q string, args ...any) ([]ledger.EventEntry, error) {
	rows, err := l.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.EventEntry
	for rows.Next() {
		var (
			e                      ledger.EventEntry
			body, state            string
			next, created, updated int64
		)
		if err := rows.Scan(&e.ID, &e.Sink, &body, &state, &e.Attempts, &e.LastError, &next, &created, &updated); err != nil {
			return nil, err
		}
		if err := mapping.UnmarshalEvent([]byte(body), &e.Event); err != nil {
			return nil, fmt.Errorf("entry %d: %w", e.ID, err)
		}
		e.State, e.NextAt, e.CreatedAt, e.UpdatedAt = ledger.DeliveryState(state), fromMS(next), fromMS(created), fromMS(updated)
		out = append(out, e)
	}
	return out, rows.Err()
}

// MarkEventDelivered implements ledger.EventOutbox.
func (l *Ledger) MarkEventDelivered(ctx context.Context, id int64, at time.Time) error {
	return l.markEvent(ctx, id, "delivered", `UPDATE event_outbox SET state = 'delivered', updated_ms = ? WHERE id = ? AND state <> 'delivered'`, ms(at), id)
}

// MarkEventFailed implements ledger.EventOutbox.
func (l *Ledger) MarkEventFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error {
	state := ledger.DeliveryPending
	if dead {
		state = ledger.DeliveryDead
	}
	return l.markEvent(ctx, id, "failed", `UPDATE event_outbox SET attempts = attempts + 1, last_error = ?, next_ms = ?, state = ?, updated_ms = ?
		WHERE id = ? AND state <> 'delivered'`, errMsg, ms(next), string(state), l.clock().UnixMilli(), id)
}

func (l *Ledger) markEvent(ctx context.Context, id int64, what, q string, args ...any) error {
	err := l.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM event_outbox WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ledger.ErrNotFound
		}
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: mark event entry %d %s: %w", id, what, err)
	}
	return nil
}
