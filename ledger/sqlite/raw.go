package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

var _ ledger.RawStore = (*Ledger)(nil)

// StoreRaw implements ledger.RawStore.
func (l *Ledger) StoreRaw(ctx context.Context, ps []ledger.RawPayload) error {
	if len(ps) == 0 {
		return nil
	}
	err := l.write(ctx, func(tx *sql.Tx) error { return insertRaw(ctx, tx, ps) })
	if err != nil {
		return fmt.Errorf("sqlite ledger: store %d raw payloads: %w", len(ps), err)
	}
	return nil
}

// RawFor implements ledger.RawStore.
func (l *Ledger) RawFor(ctx context.Context, eventID string) ([]ledger.RawPayload, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT event_id, fingerprint, connector, received_ms, body FROM raw_payloads
		WHERE event_id = ? ORDER BY received_ms, fingerprint`, eventID)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: raw payloads of %s: %w", eventID, err)
	}
	defer rows.Close()
	var out []ledger.RawPayload
	for rows.Next() {
		var (
			p        ledger.RawPayload
			received int64
			body     string
		)
		if err := rows.Scan(&p.EventID, &p.Fingerprint, &p.Connector, &received, &body); err != nil {
			return nil, fmt.Errorf("sqlite ledger: raw payloads of %s: %w", eventID, err)
		}
		p.ReceivedAt, p.Body = fromMS(received), json.RawMessage(body)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PurgeRaw implements ledger.RawStore.
func (l *Ledger) PurgeRaw(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := l.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM raw_payloads WHERE received_ms < ?`, ms(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite ledger: purge raw payloads before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(n), nil
}

// insertRaw writes payloads with multi-row statements; a payload stored
// already is left as it is.
func insertRaw(ctx context.Context, tx *sql.Tx, ps []ledger.RawPayload) error {
	return insertRows(ctx, tx, ps, `INSERT INTO raw_payloads (event_id, fingerprint, connector, received_ms, body) VALUES `,
		` ON CONFLICT DO NOTHING`, 5, func(p ledger.RawPayload, args []any) []any {
			return append(args, p.EventID, p.Fingerprint, p.Connector, ms(p.ReceivedAt), string(p.Body))
		})
}
