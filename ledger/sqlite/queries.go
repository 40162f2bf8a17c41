package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// eventsOf reads an employee's events (?1) of [?2, ?3) in unix
// milliseconds. Punches and make-ups are indexed by UTC day first
// (migration 11), so they are looked up day by day: one index search per
// day of the range, clamped to the days the ledger holds so that an open
// range costs no more than the stored ones. Approvals, indexed by
// employee, are those timed in the range or whose span overlaps it.
//
// The employee is compared as +?1, not ?1: SQLite checks a bare parameter
// against the condition of the partial index events_quarantined (an empty
// employee id), and then compiles the statement again whenever a new value
// is bound to it, which took as long as running it.
const eventsOf = `SELECT body FROM (
	SELECT body, time_ms, id FROM events
	WHERE latest = 1 AND start_ms IS NULL AND employee_id = +?1
	  AND time_ms / 86400000 IN (
	    WITH RECURSIVE day(d) AS (
	      SELECT max(?2 / 86400000, (SELECT min(time_ms / 86400000) FROM events WHERE latest = 1 AND start_ms IS NULL))
	      UNION ALL
	      SELECT d + 1 FROM day
	      WHERE d < min((?3 - 1) / 86400000, (SELECT max(time_ms / 86400000) FROM events WHERE latest = 1 AND start_ms IS NULL)))
	    SELECT d FROM day)
	  AND time_ms >= ?2 AND time_ms < ?3
	UNION ALL
	SELECT body, time_ms, id FROM events
	WHERE latest = 1 AND start_ms IS NOT NULL AND employee_id = +?1
	  AND ((time_ms >= ?2 AND time_ms < ?3) OR (start_ms < ?3 AND end_ms >= ?2)))
	ORDER BY time_ms, id`

// Events returns the latest revisions of the employee's events in [from,
// to), and the approvals whose [start, end] overlaps it. Times compare at
// millisecond precision.
func (l *Ledger) Events(ctx context.Context, employeeID string, from, to time.Time) ([]mapping.Event, error) {
	events, err := scanEvents(l.events.QueryContext(ctx, employeeID, from.UnixMilli(), to.UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: events of %s: %w", employeeID, err)
	}
	return events, nil
}

// Quarantined lists the latest revisions without an employee id, ordered
// by time then id; a limit of 0 or less means all.
func (l *Ledger) Quarantined(ctx context.Context, limit int) ([]mapping.Event, error) {
	const q = `SELECT body FROM events WHERE latest = 1 AND employee_id = ''
		ORDER BY time_ms, id LIMIT ?`
	events, err := scanEvents(l.r.QueryContext(ctx, q, limitArg(limit)))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: quarantined events: %w", err)
	}
	return events, nil
}

// scanEvents decodes the events of a query's rows of one body each, and
// closes rows; it takes the query's error too, so that it can wrap a call.
func scanEvents(rows *sql.Rows, err error) ([]mapping.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []mapping.Event
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var e mapping.Event
		if err := mapping.UnmarshalEvent(body, &e); err != nil {
			return nil, fmt.Errorf("decode stored event: %w", err)
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// Employees lists, sorted, every employee id that an event has carried.
// An employee whose every event was revised to name another stays listed:
// reconciling their days again is what takes those events out of them.
func (l *Ledger) Employees(ctx context.Context) ([]string, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT employee_id FROM employees ORDER BY employee_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: employees: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite ledger: employees: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: employees: %w", err)
	}
	return ids, nil
}

// Remap gives every quarantined revision of the user's events the employee
// id, and returns the latest revisions among them ordered by time then id.
func (l *Ledger) Remap(ctx context.Context, platform, tenant, userID, employeeID string) ([]mapping.Event, error) {
	if employeeID == "" {
		return nil, fmt.Errorf("sqlite ledger: remap %s/%s/%s: employee id is empty; give the HR employee id to assign", platform, tenant, userID)
	}
	st, err := l.stmts(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: remap %s/%s/%s to %s: %w", platform, tenant, userID, employeeID, err)
	}
	var out []mapping.Event
	err = l.write(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT seq, body, latest FROM events
			WHERE platform = ? AND tenant = ? AND user_id = ? AND employee_id = ''`, platform, tenant, userID)
		if err != nil {
			return err
		}
		qs, err := scanQuarantined(rows)
		if err != nil {
			return err
		}
		update, err := tx.PrepareContext(ctx, `UPDATE events SET employee_id = ?, body = ? WHERE seq = ?`)
		if err != nil {
			return err
		}
		defer update.Close()
		for _, q := range qs {
			e, err := remapRow(ctx, update, q, employeeID)
			if err != nil {
				return err
			}
			if q.latest {
				out = append(out, e)
			}
		}
		if len(qs) == 0 {
			return nil
		}
		return insertRows(ctx, tx, st, insertEmployee, []string{employeeID}, employeeArgs)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: remap %s/%s/%s to %s: %w", platform, tenant, userID, employeeID, err)
	}
	slices.SortFunc(out, func(a, b mapping.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Reject stores the rejections in one transaction. A rejection without a
// ReceivedAt is stamped with the ledger's clock.
func (l *Ledger) Reject(ctx context.Context, rs []ledger.Rejection) error {
	now := l.clock()
	err := l.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO rejections (id, connector, reason, raw, received_ms) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rs {
			at := r.ReceivedAt
			if at.IsZero() {
				at = now
			}
			if _, err := stmt.ExecContext(ctx, r.ID, r.Connector, r.Reason, r.Raw, at.UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: store %d rejections: %w", len(rs), err)
	}
	return nil
}

// Rejections lists rejections received at or after since, oldest first; a
// limit of 0 or less means all.
func (l *Ledger) Rejections(ctx context.Context, since time.Time, limit int) ([]ledger.Rejection, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT id, connector, reason, raw, received_ms FROM rejections
		WHERE received_ms >= ? ORDER BY received_ms, seq LIMIT ?`, since.UnixMilli(), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: rejections: %w", err)
	}
	defer rows.Close()
	var out []ledger.Rejection
	for rows.Next() {
		var (
			r  ledger.Rejection
			at int64
		)
		if err := rows.Scan(&r.ID, &r.Connector, &r.Reason, &r.Raw, &at); err != nil {
			return nil, fmt.Errorf("sqlite ledger: rejections: %w", err)
		}
		r.ReceivedAt = time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: rejections: %w", err)
	}
	return out, nil
}
