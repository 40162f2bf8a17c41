package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Append stores the batch in one transaction.
//
// A duplicate normally changes nothing. One exception: when the stored
// copies of an id have no employee id and the new copy has one (the user
// was mapped since the first copy arrived), the stored copies are remapped
// to it, and if that takes the latest revision out of quarantine it is
// listed in Changed. Such a copy still counts as a duplicate. A duplicate
// naming another employee than the stored copy does not move the event:
// re-assigning mapped events is not something a re-delivery may do.
//
// A copy identical to an older revision is a duplicate too; the latest
// revision stays the most recently stored content.
func (l *Ledger) Append(ctx context.Context, events []mapping.Event) (ledger.AppendResult, error) {
	for i, e := range events {
		if e.ID == "" {
			return ledger.AppendResult{}, fmt.Errorf("sqlite ledger: append: event %d: id is empty; validate events before appending them", i)
		}
	}
	var res ledger.AppendResult
	err := l.write(ctx, func(tx *sql.Tx) error {
		res = ledger.AppendResult{}
		a, err := newAppender(ctx, tx, l.clock().UnixMilli())
		if err != nil {
			return err
		}
		defer a.close()
		for _, e := range events {
			if err := a.append(ctx, e, &res); err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return ledger.AppendResult{}, fmt.Errorf("sqlite ledger: append %d events: %w", len(events), err)
	}
	return res, nil
}

// appender holds the statements one Append reuses for every event.
type appender struct {
	now                             int64
	revisions, unlatest, insert     *sql.Stmt
	quarantinedOf, setEmployeeOfRow *sql.Stmt
}

func newAppender(ctx context.Context, tx *sql.Tx, now int64) (*appender, error) {
	a := &appender{now: now}
	for _, s := range []struct {
		dst *(*sql.Stmt)
		sql string
	}{
		{&a.revisions, `SELECT fingerprint, revision FROM events WHERE id = ?`},
		{&a.unlatest, `UPDATE events SET latest = 0 WHERE id = ? AND latest = 1`},
		{&a.insert, `INSERT INTO events (id, fingerprint, revision, latest, kind, platform, tenant, user_id,
			employee_id, time_ms, start_ms, end_ms, body, created_ms) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&a.quarantinedOf, `SELECT seq, body, latest FROM events WHERE id = ? AND employee_id = ''`},
		{&a.setEmployeeOfRow, `UPDATE events SET employee_id = ?, body = ? WHERE seq = ?`},
	} {
		stmt, err := tx.PrepareContext(ctx, s.sql)
		if err != nil {
			a.close()
			return nil, err
		}
		*s.dst = stmt
	}
	return a, nil
}

func (a *appender) close() {
	for _, s := range []*sql.Stmt{a.revisions, a.unlatest, a.insert, a.quarantinedOf, a.setEmployeeOfRow} {
		if s != nil {
			s.Close()
		}
	}
}

func (a *appender) append(ctx context.Context, e mapping.Event, res *ledger.AppendResult) error {
	fp := mapping.Fingerprint(e)
	rows, err := a.revisions.QueryContext(ctx, e.ID)
	if err != nil {
		return err
	}
	maxRev, duplicate := 0, false
	for rows.Next() {
		var (
			f   string
			rev int
		)
		if err := rows.Scan(&f, &rev); err != nil {
			rows.Close()
			return err
		}
		maxRev = max(maxRev, rev)
		duplicate = duplicate || f == fp
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}

	if duplicate {
		res.Duplicates++
		if e.EmployeeID == "" {
			return nil
		}
		remapped, err := a.remapID(ctx, e.ID, e.EmployeeID)
		if err != nil {
			return err
		}
		res.Changed = append(res.Changed, remapped...)
		return nil
	}

	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if maxRev > 0 {
		if _, err := a.unlatest.ExecContext(ctx, e.ID); err != nil {
			return err
		}
		res.Revisions++
	} else {
		res.Stored++
	}
	start, end := approvalSpan(e)
	if _, err := a.insert.ExecContext(ctx, e.ID, fp, maxRev+1, string(e.Kind), e.Platform, e.Tenant, e.UserID,
		e.EmployeeID, e.Time.UnixMilli(), start, end, string(body), a.now); err != nil {
		return err
	}
	if e.EmployeeID == "" {
		res.Quarantined++
	} else {
		res.Changed = append(res.Changed, e)
	}
	return nil
}

// remapID gives every quarantined revision of id the employee id and
// returns the latest revision if it was among them.
func (a *appender) remapID(ctx context.Context, id, employeeID string) ([]mapping.Event, error) {
	rows, err := a.quarantinedOf.QueryContext(ctx, id)
	if err != nil {
		return nil, err
	}
	qs, err := scanQuarantined(rows)
	if err != nil {
		return nil, err
	}
	var latest []mapping.Event
	for _, q := range qs {
		e, err := remapRow(ctx, a.setEmployeeOfRow, q, employeeID)
		if err != nil {
			return nil, err
		}
		if q.latest {
			latest = append(latest, e)
		}
	}
	return latest, nil
}

// quarantinedRow is a stored revision without an employee id.
type quarantinedRow struct {
	seq    int64
	body   string
	latest bool
}

func scanQuarantined(rows *sql.Rows) ([]quarantinedRow, error) {
	var qs []quarantinedRow
	for rows.Next() {
		var q quarantinedRow
		if err := rows.Scan(&q.seq, &q.body, &q.latest); err != nil {
			rows.Close()
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, errors.Join(rows.Err(), rows.Close())
}

// remapRow writes employeeID into a stored revision, column and JSON alike,
// and returns the remapped event.
func remapRow(ctx context.Context, update *sql.Stmt, q quarantinedRow, employeeID string) (mapping.Event, error) {
	var e mapping.Event
	if err := json.Unmarshal([]byte(q.body), &e); err != nil {
		return e, fmt.Errorf("decode stored event %d: %w", q.seq, err)
	}
	e.EmployeeID = employeeID
	body, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	_, err = update.ExecContext(ctx, employeeID, string(body), q.seq)
	return e, err
}

// approvalSpan returns an approval's [start, end] in unix milliseconds, or
// NULLs for other kinds.
func approvalSpan(e mapping.Event) (start, end sql.NullInt64) {
	if e.Approval == nil {
		return start, end
	}
	return sql.NullInt64{Int64: e.Approval.Start.UnixMilli(), Valid: true},
		sql.NullInt64{Int64: e.Approval.End.UnixMilli(), Valid: true}
}
