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

// DirtyDays lists the dirty employee-days ordered by employee then date, and
// remembers the generation of each for ClearDirty.
func (l *Ledger) DirtyDays(ctx context.Context) ([]mapping.EmployeeDay, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT employee_id, date, generation FROM dirty_days ORDER BY employee_id, date`)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days: %w", err)
	}
	defer rows.Close()
	var days []mapping.EmployeeDay
	listed := map[mapping.EmployeeDay]int64{}
	for rows.Next() {
		var (
			d   mapping.EmployeeDay
			gen int64
		)
		if err := rows.Scan(&d.EmployeeID, &d.Date, &gen); err != nil {
			return nil, fmt.Errorf("sqlite ledger: dirty days: %w", err)
		}
		days = append(days, d)
		listed[d] = gen
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: dirty days: %w", err)
	}
	l.mu.Lock()
	l.listed = listed
	l.mu.Unlock()
	return days, nil
}

// ClearDirty removes the employee-days. A day that was marked dirty again
// after DirtyDays listed it stays dirty: the recomputation the caller just
// finished may have read the events before the new one arrived.
func (l *Ledger) ClearDirty(ctx context.Context, days []mapping.EmployeeDay) error {
	// The generations of just these days, not a copy of every listed one:
	// a month's run lists hundreds of thousands and clears them in parts.
	type clearing struct {
		day    mapping.EmployeeDay
		gen    int64
		listed bool
	}
	cs := make([]clearing, len(days))
	l.mu.Lock()
	for i, d := range days {
		cs[i].day = d
		cs[i].gen, cs[i].listed = l.listed[d]
	}
	l.mu.Unlock()
	// Deleted in the table's key order, each page is visited once; callers
	// clear employee by employee, across every date.
	slices.SortFunc(cs, func(a, b clearing) int { return compareDays(a.day, b.day) })
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
		for _, c := range cs {
			if c.listed {
				_, err = byGen.ExecContext(ctx, c.day.EmployeeID, c.day.Date, c.gen)
			} else {
				_, err = whole.ExecContext(ctx, c.day.EmployeeID, c.day.Date)
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
	l.mu.Lock()
	for _, d := range days {
		delete(l.listed, d)
	}
	l.mu.Unlock()
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
		recs, err = l.queryDays(ctx, `SELECT body FROM days WHERE latest = 1 AND date >= ? AND date <= ?
			ORDER BY employee_id, date, shift`, from, to)
	} else {
		recs, err = l.queryDays(ctx, `SELECT body FROM days WHERE latest = 1 AND employee_id = ? AND date >= ? AND date <= ?
			ORDER BY date, shift`, employeeID, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: days of %q from %s to %s: %w", employeeID, from, to, err)
	}
	return recs, nil
}

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
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
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
