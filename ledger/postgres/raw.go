package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/punchbridge/punchbridge/ledger"
)

var _ ledger.RawStore = (*Ledger)(nil)

// StoreRaw implements ledger.RawStore.
func (l *Ledger) StoreRaw(ctx context.Context, ps []ledger.RawPayload) error {
	if len(ps) == 0 {
		return nil
	}
	err := l.pool.with(ctx, func(c *pgx.Conn) error { return storeRaw(ctx, c, ps) })
	if err != nil {
		return fmt.Errorf("postgres ledger: store %d raw payloads: %w", len(ps), err)
	}
	return nil
}

// execer is a connection or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// storeRaw keeps payloads with one statement; one kept already is left.
func storeRaw(ctx context.Context, db execer, ps []ledger.RawPayload) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]string, len(ps))
	fps := make([]string, len(ps))
	conns := make([]string, len(ps))
	times := make([]time.Time, len(ps))
	bodies := make([]string, len(ps))
	for i, p := range ps {
		ids[i], fps[i], conns[i], times[i], bodies[i] = p.EventID, p.Fingerprint, p.Connector, ms(p.ReceivedAt), string(p.Body)
	}
	_, err := db.Exec(ctx, `INSERT INTO raw_payloads (event_id, fingerprint, connector, received_at, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[]) ON CONFLICT DO NOTHING`,
		ids, fps, conns, times, bodies)
	return err
}

type rawRow struct {
	EventID, Fingerprint, Connector string
	ReceivedAt                      time.Time
	Body                            []byte
}

// RawFor implements ledger.RawStore.
func (l *Ledger) RawFor(ctx context.Context, eventID string) ([]ledger.RawPayload, error) {
	rows, err := query(ctx, l, pgx.RowToStructByPos[rawRow], `SELECT event_id, fingerprint, connector, received_at, body::text::bytea
		FROM raw_payloads WHERE event_id = $1 ORDER BY received_at, fingerprint`, eventID)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: raw payloads of %s: %w", eventID, err)
	}
	out := make([]ledger.RawPayload, len(rows))
	for i, r := range rows {
		out[i] = ledger.RawPayload{EventID: r.EventID, Fingerprint: r.Fingerprint, Connector: r.Connector, ReceivedAt: r.ReceivedAt.UTC(), Body: r.Body}
	}
	return out, nil
}

// PurgeRaw implements ledger.RawStore.
func (l *Ledger) PurgeRaw(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := l.exec(ctx, `DELETE FROM raw_payloads WHERE received_at < $1`, ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("postgres ledger: purge raw payloads before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}
