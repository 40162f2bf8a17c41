package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/revisions"
)

var _ ledger.RawStore = (*Ledger)(nil)

// StoreRaw implements ledger.RawStore. A payload is kept with the stored
// revision it belongs to (its event id and fingerprint), so the revision
// must be stored first; payloads naming a revision the ledger does not
// hold are not kept, and StoreRaw, having kept the others, says so with an
// error wrapping ledger.ErrRawNotKept.
func (l *Ledger) StoreRaw(ctx context.Context, ps []ledger.RawPayload) error {
	if len(ps) == 0 {
		return nil
	}
	st, err := l.stmts(ctx)
	if err != nil {
		return fmt.Errorf("sqlite ledger: store %d raw payloads: %w", len(ps), err)
	}
	var missing []string
	err = l.write(ctx, func(tx *sql.Tx) error {
		rows, miss, err := bindRaw(ctx, tx, ps, nil)
		if err != nil {
			return err
		}
		missing = miss
		return insertRaw(ctx, tx, st, rows)
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: store %d raw payloads: %w", len(ps), err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("sqlite ledger: %d of %d raw payloads name an event revision the ledger does not hold (first: %s); append the events before their payloads: %w",
			len(missing), len(ps), missing[0], ledger.ErrRawNotKept)
	}
	return nil
}

// rawForQuery reads an event's raw payloads, searching the events' key by
// the id's day (eventKeyDay) and id.
const rawForQuery = `SELECT e.id, e.fingerprint, r.connector, r.received_ms, r.body
	FROM events e JOIN raw_payloads r ON r.seq = e.seq
	WHERE e.id_day = ? AND e.id = ? ORDER BY r.received_ms, e.fingerprint`

// revisionQuery finds the row of one revision by the events' key.
const revisionQuery = `SELECT seq FROM events WHERE id_day = ? AND id = ? AND fingerprint = ?`

// RawFor implements ledger.RawStore.
func (l *Ledger) RawFor(ctx context.Context, eventID string) ([]ledger.RawPayload, error) {
	rows, err := l.r.QueryContext(ctx, rawForQuery, eventKeyDay(eventID), eventID)
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

// rawRow is a payload bound to the events row of its revision.
type rawRow struct {
	seq int64
	p   ledger.RawPayload
}

// bindRaw finds the events row of each payload's revision: in known (the
// histories a transaction has read and written) when it lists the id, else
// in the table. It returns the bound payloads, and the ids of those whose
// revision the ledger does not hold.
func bindRaw(ctx context.Context, tx *sql.Tx, ps []ledger.RawPayload, known map[string]*revisions.History) ([]rawRow, []string, error) {
	rows := make([]rawRow, 0, len(ps))
	var (
		missing []string
		lookup  *sql.Stmt
	)
	defer func() {
		if lookup != nil {
			lookup.Close()
		}
	}()
	for _, p := range ps {
		seq := int64(0)
		if h, ok := known[p.EventID]; ok {
			seq = h.SeqOf(p.Fingerprint)
		} else {
			if lookup == nil {
				var err error
				if lookup, err = tx.PrepareContext(ctx, revisionQuery); err != nil {
					return nil, nil, err
				}
			}
			err := lookup.QueryRowContext(ctx, eventKeyDay(p.EventID), p.EventID, p.Fingerprint).Scan(&seq)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, nil, fmt.Errorf("find the revision of %s: %w", p.EventID, err)
			}
		}
		if seq == 0 {
			missing = append(missing, p.EventID)
			continue
		}
		rows = append(rows, rawRow{seq: seq, p: p})
	}
	return rows, missing, nil
}

// insertRaw writes payloads with multi-row statements; a revision whose
// payload is stored already keeps it.
func insertRaw(ctx context.Context, tx *sql.Tx, st *appendStmts, rows []rawRow) error {
	return insertRows(ctx, tx, st, insertRawPayload, rows, func(r rawRow, args []any) []any {
		return append(args, r.seq, r.p.Connector, ms(r.p.ReceivedAt), string(r.p.Body))
	})
}
