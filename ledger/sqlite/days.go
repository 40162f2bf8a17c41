package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// MarkDirty records the employee-days in one transaction. Marking a day
// that is already dirty bumps its generation (see ClearDirty).
func (l *Ledger) MarkDirty(ctx context.Context, days []mapping.EmployeeDay) error {
	for _, d := range days {
		if err := ledger.CheckEmployeeDay(d); err != nil {
			return fmt.Errorf("sqlite ledger: mark dirty: %w", err)
		}
	}
	st, err := l.stmts(ctx)
	if err != nil {
		return fmt.Errorf("sqlite ledger: mark %d days dirty: %w", len(days), err)
	}
	now := l.clock().UnixMilli()
	err = l.write(ctx, func(tx *sql.Tx) error { return markDirty(ctx, tx, st, days, now) })
	if err != nil {
		return fmt.Errorf("sqlite ledger: mark %d days dirty: %w", len(days), err)
	}
	return nil
}

// markDirty marks days with one multi-row upsert; a day listed twice is
// marked twice, as two statements would.
func markDirty(ctx context.Context, tx *sql.Tx, st *appendStmts, days []mapping.EmployeeDay, now int64) error {
	return insertRows(ctx, tx, st, insertDirty, days,
		func(d mapping.EmployeeDay, args []any) []any { return append(args, d.EmployeeID, d.Date, 1, now) })
}

// uniqueDays sorts days in the table's key order (date, employee) and
// drops repeats. The ingests one transaction groups mark many of the same
// days (an employee's punches of one morning), and rows inserted in key
// order touch each B-tree page once.
func uniqueDays(days []mapping.EmployeeDay) []mapping.EmployeeDay {
	slices.SortFunc(days, compareDays)
	return slices.Compact(days)
}

// compareDays orders employee-days as dirty_days' key does: by date, then
// employee.
func compareDays(a, b mapping.EmployeeDay) int {
	return cmp.Or(strings.Compare(a.Date, b.Date), strings.Compare(a.EmployeeID, b.EmployeeID))
}

// DirtyDays lists every dirty employee-day ordered by employee then date.
func (l *Ledger) DirtyDays(ctx context.Context) ([]mapping.EmployeeDay, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT employee_id, date FROM dirty_days ORDER BY employee_id, date`)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days: %w", err)
	}
	defer rows.Close()
	var days []mapping.EmployeeDay
	for rows.Next() {
		var d mapping.EmployeeDay
		if err := rows.Scan(&d.EmployeeID, &d.Date); err != nil {
			return nil, fmt.Errorf("sqlite ledger: dirty days: %w", err)
		}
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days: %w", err)
	}
	return days, nil
}

// DirtyEmployees lists the employees with dirty days and the earliest of
// each one's, sorted by employee.
func (l *Ledger) DirtyEmployees(ctx context.Context) ([]ledger.DirtyEmployee, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT employee_id, MIN(date) FROM dirty_days GROUP BY employee_id ORDER BY employee_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty employees: %w", err)
	}
	defer rows.Close()
	var emps []ledger.DirtyEmployee
	for rows.Next() {
		var e ledger.DirtyEmployee
		if err := rows.Scan(&e.EmployeeID, &e.Earliest); err != nil {
			return nil, fmt.Errorf("sqlite ledger: dirty employees: %w", err)
		}
		emps = append(emps, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty employees: %w", err)
	}
	return emps, nil
}

// dirtyDaysBetweenQuery reads a range of employees' dirty days date by
// date: dirty_days is keyed by date first, so each date of the range is a
// search of the key for the employees' range; a range on the date would
// read every employee's days in it. CROSS JOIN keeps the dates the outer
// loop.
const dirtyDaysBetweenQuery = `WITH RECURSIVE dates(date) AS (
		SELECT ?3 UNION ALL SELECT date(date, '+1 day') FROM dates WHERE date < ?4)
	SELECT d.employee_id, d.date, d.generation FROM dates CROSS JOIN dirty_days AS d
	WHERE d.date = dates.date AND d.employee_id BETWEEN ?1 AND ?2`

// DirtyDaysBetween lists the dirty days of the employees first..last dated
// from..to, with their generations.
func (l *Ledger) DirtyDaysBetween(ctx context.Context, first, last, from, to string) ([]ledger.DirtyDay, error) {
	if err := ledger.CheckDirtyRange(first, last, from, to); err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days between: %w", err)
	}
	if from > to || first > last {
		return nil, nil
	}
	rows, err := l.r.QueryContext(ctx, dirtyDaysBetweenQuery, first, last, from, to)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days of %s..%s %s..%s: %w", first, last, from, to, err)
	}
	defer rows.Close()
	var days []ledger.DirtyDay
	for rows.Next() {
		var d ledger.DirtyDay
		if err := rows.Scan(&d.EmployeeID, &d.Date, &d.Generation); err != nil {
			return nil, fmt.Errorf("sqlite ledger: dirty days of %s..%s %s..%s: %w", first, last, from, to, err)
		}
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days of %s..%s %s..%s: %w", first, last, from, to, err)
	}
	return days, nil
}

// ClearDirty removes the dirty days whose generation is still the one
// given, or whatever it is for a zero generation.
func (l *Ledger) ClearDirty(ctx context.Context, days []ledger.DirtyDay) error {
	if len(days) == 0 {
		return nil
	}
	// Deleted in the table's key order, each page is visited once; callers
	// clear employee by employee, across every date.
	days = slices.Clone(days)
	slices.SortFunc(days, func(a, b ledger.DirtyDay) int { return compareDays(a.EmployeeDay, b.EmployeeDay) })
	err := l.write(ctx, func(tx *sql.Tx) error {
		byGen, err := tx.PrepareContext(ctx, `DELETE FROM dirty_days WHERE employee_id = ? AND date = ? AND generation = ?`)
		if err != nil {
			return err
		}
		defer byGen.Close()
		whole, err := tx.PrepareContext(ctx, `DELETE FROM dirty_days WHERE employee_id = ? AND date = ?`)
		if err != nil {
			return err
		}
		defer whole.Close()
		for _, d := range days {
			if d.Generation != 0 {
				_, err = byGen.ExecContext(ctx, d.EmployeeID, d.Date, d.Generation)
			} else {
				_, err = whole.ExecContext(ctx, d.EmployeeID, d.Date)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: clear %d dirty days: %w", len(days), err)
	}
	return nil
}

// PutDay stores rec as a new version unless its content equals the latest
// version's. The returned record is the stored one, decoded again.
func (l *Ledger) PutDay(ctx context.Context, rec mapping.DayRecord) (mapping.DayRecord, bool, error) {
	if err := ledger.CheckDayKey(rec.Key()); err != nil {
		return mapping.DayRecord{}, false, fmt.Errorf("sqlite ledger: put day: %w", err)
	}
	hash := rec.ContentHash()
	var (
		body    string
		changed bool
	)
	err := l.write(ctx, func(tx *sql.Tx) error {
		var (
			version    int
			storedHash string
		)
		err := tx.QueryRowContext(ctx, `SELECT version, content_hash, body FROM days
			WHERE employee_id = ? AND date = ? AND shift = ? AND latest = 1`,
			rec.EmployeeID, rec.Date, rec.Shift).Scan(&version, &storedHash, &body)
		switch {
		case err == nil && storedHash == hash:
			changed = false
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		rec.Version = version + 1
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		body, changed = string(b), true
		if _, err := tx.ExecContext(ctx, `UPDATE days SET latest = 0 WHERE employee_id = ? AND date = ? AND shift = ? AND latest = 1`,
			rec.EmployeeID, rec.Date, rec.Shift); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO days (employee_id, date, shift, version, latest, content_hash, body, created_ms)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?)`, rec.EmployeeID, rec.Date, rec.Shift, rec.Version, hash, body, l.clock().UnixMilli())
		return err
	})
	if err != nil {
		return mapping.DayRecord{}, false, fmt.Errorf("sqlite ledger: put day %s/%s/%s: %w", rec.EmployeeID, rec.Date, rec.Shift, err)
	}
	stored, err := decodeDay(body)
	if err != nil {
		return mapping.DayRecord{}, false, fmt.Errorf("sqlite ledger: put day %s/%s/%s: %w", rec.EmployeeID, rec.Date, rec.Shift, err)
	}
	return stored, changed, nil
}

// Day returns the latest version of the day record, or an error wrapping
// ledger.ErrNotFound.
func (l *Ledger) Day(ctx context.Context, key mapping.DayKey) (mapping.DayRecord, error) {
	recs, err := l.queryDays(ctx, `SELECT body FROM days WHERE employee_id = ? AND date = ? AND shift = ? AND latest = 1`,
		key.EmployeeID, key.Date, key.Shift)
	if err == nil && len(recs) == 0 {
		err = ledger.ErrNotFound
	}
	if err != nil {
		return mapping.DayRecord{}, fmt.Errorf("sqlite ledger: day %s/%s/%s: %w", key.EmployeeID, key.Date, key.Shift, err)
	}
	return recs[0], nil
}

// DayHistory returns every version of the day record, oldest first; none
// for an unknown day.
func (l *Ledger) DayHistory(ctx context.Context, key mapping.DayKey) ([]mapping.DayRecord, error) {
	recs, err := l.queryDays(ctx, `SELECT body FROM days WHERE employee_id = ? AND date = ? AND shift = ? ORDER BY version`,
		key.EmployeeID, key.Date, key.Shift)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: history of day %s/%s/%s: %w", key.EmployeeID, key.Date, key.Shift, err)
	}
	return recs, nil
}

// Days lists the latest versions in [from, to] ordered by employee, date
// and shift.
func (l *Ledger) Days(ctx context.Context, employeeID, from, to string) ([]mapping.DayRecord, error) {
	for _, d := range []struct{ field, v string }{{"from", from}, {"to", to}} {
		if err := ledger.CheckDate(d.field, d.v); err != nil {
			return nil, fmt.Errorf("sqlite ledger: days: %w", err)
		}
	}
	var (
		recs []mapping.DayRecord
		err  error
	)
	if employeeID == "" {
		recs, err = l.queryDays(ctx, allLatestDaysQuery, from, to)
		// The query yields the records in this order already; sorting
		// here keeps the promise without SQLite copying every body into
		// a sorter to make sure of it.
		slices.SortFunc(recs, func(a, b mapping.DayRecord) int {
			return cmp.Or(cmp.Compare(a.EmployeeID, b.EmployeeID), cmp.Compare(a.Date, b.Date), cmp.Compare(a.Shift, b.Shift))
		})
	} else {
		recs, err = l.queryDays(ctx, `SELECT body FROM days WHERE latest = 1 AND employee_id = ? AND date >= ? AND date <= ?
			ORDER BY date, shift`, employeeID, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: days of %q from %s to %s: %w", employeeID, from, to, err)
	}
	return recs, nil
}

// allLatestDaysQuery reads every employee's latest days between two dates
// by the days' key: it walks the distinct employees of the key, one search
// each for the next, and searches each one's dates. The days have no index
// by date (migration 12), and a scan of the key would read every version
// of every day the ledger holds (a query plan test holds it to the
// searches).
const allLatestDaysQuery = `WITH RECURSIVE employee(id) AS (
		SELECT min(employee_id) FROM days
		UNION ALL
		SELECT (SELECT min(employee_id) FROM days WHERE employee_id > employee.id) FROM employee WHERE employee.id IS NOT NULL
	)
	SELECT d.body FROM employee CROSS JOIN days d ON d.employee_id = employee.id
	WHERE d.latest = 1 AND d.date >= ?1 AND d.date <= ?2`

func (l *Ledger) queryDays(ctx context.Context, q string, args ...any) ([]mapping.DayRecord, error) {
	rows, err := l.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []mapping.DayRecord
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		rec, err := decodeDay(body)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, rows.Err()
}

func decodeDay(body string) (mapping.DayRecord, error) {
	var rec mapping.DayRecord
	if err := mapping.UnmarshalDay([]byte(body), &rec); err != nil {
		return rec, fmt.Errorf("decode stored day record: %w", err)
	}
	return rec, nil
}

// Checkpoint returns the connector's checkpoint in UTC.
func (l *Ledger) Checkpoint(ctx context.Context, connector string) (time.Time, bool, error) {
	var at int64
	err := l.r.QueryRowContext(ctx, `SELECT at_ms FROM checkpoints WHERE connector = ?`, connector).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("sqlite ledger: checkpoint of %s: %w", connector, err)
	}
	return time.UnixMilli(at).UTC(), true, nil
}

// SetCheckpoint records the connector's checkpoint, at millisecond
// precision.
func (l *Ledger) SetCheckpoint(ctx context.Context, connector string, t time.Time) error {
	if connector == "" {
		return errors.New("sqlite ledger: set checkpoint: connector is empty; give the connector's name")
	}
	_, err := l.w.ExecContext(ctx, `INSERT INTO checkpoints (connector, at_ms, updated_ms) VALUES (?, ?, ?)
		ON CONFLICT (connector) DO UPDATE SET at_ms = excluded.at_ms, updated_ms = excluded.updated_ms`,
		connector, t.UnixMilli(), l.clock().UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite ledger: set checkpoint of %s: %w", connector, err)
	}
	return nil
}
