package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Events returns the latest revisions of the employee's events in [from,
// to), and the approvals whose [start, end] overlaps it. Times compare at
// millisecond precision.
func (l *Ledger) Events(ctx context.Context, employeeID string, from, to time.Time) ([]mapping.Event, error) {
	const q = `SELECT body FROM events
		WHERE latest AND employee_id = $1
		  AND ((event_time >= $2 AND event_time < $3) OR (start_at < $3 AND end_at >= $2))
		ORDER BY event_time, id`
	events, err := query(ctx, l, scanEvent, q, employeeID, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: events of %s: %w", employeeID, err)
	}
	return events, nil
}

// Quarantined lists the latest revisions without an employee id, ordered
// by time then id; a limit of 0 or less means all.
func (l *Ledger) Quarantined(ctx context.Context, limit int) ([]mapping.Event, error) {
	const q = `SELECT body FROM events WHERE latest AND employee_id = ''
		ORDER BY event_time, id LIMIT $1`
	events, err := query(ctx, l, scanEvent, q, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: quarantined events: %w", err)
	}
	return events, nil
}

func scanEvent(row pgx.CollectableRow) (mapping.Event, error) {
	var (
		body []byte
		e    mapping.Event
	)
	if err := row.Scan(&body); err != nil {
		return e, err
	}
	if err := mapping.UnmarshalEvent(body, &e); err != nil {
		return e, fmt.Errorf("decode stored event: %w", err)
	}
	return e, nil
}

// Employees lists, sorted, every employee id that the latest revision of an
// event carries.
func (l *Ledger) Employees(ctx context.Context) ([]string, error) {
	ids, err := query(ctx, l, pgx.RowTo[string], `SELECT DISTINCT employee_id FROM events
		WHERE latest AND employee_id <> '' ORDER BY employee_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: employees: %w", err)
	}
	return ids, nil
}

// Remap gives every quarantined revision of the user's events the employee
// id, and returns the latest revisions among them ordered by time then id.
// It locks the event ids it touches as Append does, so a remap and an
// append of the same event never interleave.
func (l *Ledger) Remap(ctx context.Context, platform, tenant, userID, employeeID string) ([]mapping.Event, error) {
	if employeeID == "" {
		return nil, fmt.Errorf("postgres ledger: remap %s/%s/%s: employee id is empty; give the HR employee id to assign", platform, tenant, userID)
	}
	var out []mapping.Event
	err := l.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = remap(ctx, tx, platform, tenant, userID, employeeID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: remap %s/%s/%s to %s: %w", platform, tenant, userID, employeeID, err)
	}
	slices.SortFunc(out, func(a, b mapping.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func remap(ctx context.Context, tx pgx.Tx, platform, tenant, userID, employeeID string) ([]mapping.Event, error) {
	const where = `platform = $1 AND tenant = $2 AND user_id = $3 AND employee_id = ''`
	rows, err := tx.Query(ctx, `SELECT DISTINCT id FROM events WHERE `+where, platform, tenant, userID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if err := lockEvents(ctx, tx, ids); err != nil {
		return nil, err
	}
	// Read again under the locks; events of ids first seen after the first
	// read are left for the next Remap.
	rows, err = tx.Query(ctx, `SELECT seq, body, latest FROM events WHERE `+where+` AND id = ANY($4::text[])`,
		platform, tenant, userID, ids)
	if err != nil {
		return nil, err
	}
	type stored struct {
		seq    int64
		body   []byte
		latest bool
	}
	qs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stored, error) {
		var s stored
		return s, row.Scan(&s.seq, &s.body, &s.latest)
	})
	if err != nil {
		return nil, err
	}
	var (
		out    []mapping.Event
		seqs   []int64
		bodies []string
	)
	for _, q := range qs {
		var e mapping.Event
		if err := mapping.UnmarshalEvent(q.body, &e); err != nil {
			return nil, fmt.Errorf("decode stored event %d: %w", q.seq, err)
		}
		e.EmployeeID = employeeID
		body, err := e.Marshal()
		if err != nil {
			return nil, err
		}
		seqs, bodies = append(seqs, q.seq), append(bodies, string(body))
		if q.latest {
			out = append(out, e)
		}
	}
	_, err = tx.Exec(ctx, `UPDATE events SET employee_id = $1, body = u.body
		FROM unnest($2::bigint[], $3::text[]) AS u(seq, body) WHERE events.seq = u.seq`, employeeID, seqs, bodies)
	return out, err
}

// Reject stores the rejections with one statement. A rejection without a
// ReceivedAt is stamped with the ledger's clock.
func (l *Ledger) Reject(ctx context.Context, rs []ledger.Rejection) error {
	if len(rs) == 0 {
		return nil
	}
	now := l.now()
	var (
		ids, connectors, reasons []string
		raws                     [][]byte
		ats                      []time.Time
	)
	for _, r := range rs {
		at := r.ReceivedAt
		if at.IsZero() {
			at = now
		}
		ids, connectors, reasons = append(ids, r.ID), append(connectors, r.Connector), append(reasons, r.Reason)
		raws, ats = append(raws, r.Raw), append(ats, ms(at))
	}
	_, err := l.exec(ctx, `INSERT INTO rejections (id, connector, reason, raw, received_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[])`,
		ids, connectors, reasons, raws, ats)
	if err != nil {
		return fmt.Errorf("postgres ledger: store %d rejections: %w", len(rs), err)
	}
	return nil
}

// Rejections lists rejections received at or after since, oldest first; a
// limit of 0 or less means all. Times come back in UTC.
func (l *Ledger) Rejections(ctx context.Context, since time.Time, limit int) ([]ledger.Rejection, error) {
	out, err := query(ctx, l, func(row pgx.CollectableRow) (ledger.Rejection, error) {
		var r ledger.Rejection
		err := row.Scan(&r.ID, &r.Connector, &r.Reason, &r.Raw, &r.ReceivedAt)
		r.ReceivedAt = r.ReceivedAt.UTC()
		return r, err
	}, `SELECT id, connector, reason, raw, received_at FROM rejections
		WHERE received_at >= $1 ORDER BY received_at, seq LIMIT $2`, ms(since), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: rejections: %w", err)
	}
	return out, nil
}
