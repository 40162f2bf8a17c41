package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

var _ ledger.EventOutbox = (*Ledger)(nil)

// EnqueueEvents implements ledger.EventOutbox.
func (l *Ledger) EnqueueEvents(ctx context.Context, sink string, events []mapping.Event) error {
	if len(events) == 0 {
		return nil
	}
	ids := make([]string, len(events))
	fps := make([]string, len(events))
	bodies := make([]string, len(events))
	for i, e := range events {
		body, err := e.Marshal()
		if err != nil {
			return fmt.Errorf("postgres ledger: queue event %s: %w", e.ID, err)
		}
		ids[i], fps[i], bodies[i] = e.ID, mapping.Fingerprint(e), string(body)
	}
	now := l.now()
	_, err := l.exec(ctx, `INSERT INTO event_outbox (sink, event_id, fingerprint, body, state, created_at, updated_at)
		SELECT $1, id, fp, body, 'pending', $5, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(id, fp, body)
		ON CONFLICT DO NOTHING`, sink, ids, fps, bodies, now)
	if err != nil {
		return fmt.Errorf("postgres ledger: queue %d events for %s: %w", len(events), sink, err)
	}
	return nil
}

type eventRow struct {
	ID                   int64
	Sink, Body, State    string
	Attempts             int
	LastError            string
	NextAt               *time.Time
	CreatedAt, UpdatedAt time.Time
}

const eventEntryColumns = `id, sink, body, state, attempts, last_error, next_at, created_at, updated_at`

func (l *Ledger) eventEntries(ctx context.Context, q string, args ...any) ([]ledger.EventEntry, error) {
	rows, err := query(ctx, l, pgx.RowToStructByPos[eventRow], q, args...)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.EventEntry, len(rows))
	for i, r := range rows {
		e := ledger.EventEntry{ID: r.ID, Sink: r.Sink, State: ledger.DeliveryState(r.State), Attempts: r.Attempts, LastError: r.LastError,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		if r.NextAt != nil {
			e.NextAt = r.NextAt.UTC()
		}
		if err := mapping.UnmarshalEvent([]byte(r.Body), &e.Event); err != nil {
			return nil, fmt.Errorf("entry %d: %w", r.ID, err)
		}
		out[i] = e
	}
	return out, nil
}

// DueEvents implements ledger.EventOutbox.
func (l *Ledger) DueEvents(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.EventEntry, error) {
	es, err := l.eventEntries(ctx, `SELECT `+eventEntryColumns+` FROM event_outbox
		WHERE sink = $1 AND state = 'pending' AND (next_at IS NULL OR next_at <= $2) ORDER BY id LIMIT $3`, sink, ms(now), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: due events of %s: %w", sink, err)
	}
	return es, nil
}

// EventEntries implements ledger.EventOutbox.
func (l *Ledger) EventEntries(ctx context.Context, sink string, state ledger.DeliveryState, limit int) ([]ledger.EventEntry, error) {
	es, err := l.eventEntries(ctx, `SELECT `+eventEntryColumns+` FROM event_outbox
		WHERE ($1 = '' OR sink = $1) AND ($2 = '' OR state = $2) ORDER BY id LIMIT $3`, sink, string(state), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: event outbox of %q in state %q: %w", sink, state, err)
	}
	return es, nil
}

// MarkEventDelivered implements ledger.EventOutbox.
func (l *Ledger) MarkEventDelivered(ctx context.Context, id int64, at time.Time) error {
	return l.markEvent(ctx, id, "delivered", `UPDATE event_outbox SET state = 'delivered', updated_at = $2 WHERE id = $1 AND state <> 'delivered'`, id, ms(at))
}

// MarkEventFailed implements ledger.EventOutbox.
func (l *Ledger) MarkEventFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error {
	state := ledger.DeliveryPending
	if dead {
		state = ledger.DeliveryDead
	}
	return l.markEvent(ctx, id, "failed", `UPDATE event_outbox SET attempts = attempts + 1, last_error = $2, next_at = $3, state = $4, updated_at = $5
		WHERE id = $1 AND state <> 'delivered'`, id, errMsg, msPtr(next), string(state), l.now())
}

func (l *Ledger) markEvent(ctx context.Context, id int64, what, q string, args ...any) error {
	tag, err := l.exec(ctx, q, args...)
	if err == nil && tag.RowsAffected() == 0 {
		var exists []bool
		exists, err = query(ctx, l, pgx.RowTo[bool], `SELECT true FROM event_outbox WHERE id = $1`, id)
		if err == nil && len(exists) == 0 {
			err = ledger.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres ledger: mark event entry %d %s: %w", id, what, err)
	}
	return nil
}
