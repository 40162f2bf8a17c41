package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// MarkDirty records the employee-days with one statement. Marking a day
// that is already dirty bumps its generation (see ClearDirty).
func (l *Ledger) MarkDirty(ctx context.Context, days []mapping.EmployeeDay) error {
	if len(days) == 0 {
		return nil
	}
	err := l.tx(ctx, func(tx pgx.Tx) error { return markDirty(ctx, tx, days, l.now()) })
	if err != nil {
		return fmt.Errorf("postgres ledger: mark %d days dirty: %w", len(days), err)
	}
	return nil
}

// markDirty marks days dirty in tx, with one statement.
func markDirty(ctx context.Context, tx pgx.Tx, days []mapping.EmployeeDay, now time.Time) error {
	for _, d := range days {
		if err := ledger.CheckEmployeeDay(d); err != nil {
			return err
		}
	}
	// One row per day (an upsert may not touch a row twice), in key order
	// so that concurrent markers lock rows in the same order.
	days = slices.Clone(days)
	slices.SortFunc(days, func(a, b mapping.EmployeeDay) int {
		return cmp.Or(cmp.Compare(a.EmployeeID, b.EmployeeID), cmp.Compare(a.Date, b.Date))
	})
	days = slices.Compact(days)
	if len(days) == 0 {
		return nil
	}
	emps, dates := make([]string, len(days)), make([]string, len(days))
	for i, d := range days {
		emps[i], dates[i] = d.EmployeeID, d.Date
	}
	_, err := tx.Exec(ctx, `INSERT INTO dirty_days (employee_id, date, generation, marked_at)
		SELECT u.employee_id, u.date::date, 1, $3 FROM unnest($1::text[], $2::text[]) AS u(employee_id, date)
		ON CONFLICT (employee_id, date) DO UPDATE
		SET generation = dirty_days.generation + 1, marked_at = excluded.marked_at`, emps, dates, now)
	return err
}

// DirtyDays lists every dirty employee-day ordered by employee then date.
func (l *Ledger) DirtyDays(ctx context.Context) ([]mapping.EmployeeDay, error) {
	days, err := query(ctx, l, func(row pgx.CollectableRow) (mapping.EmployeeDay, error) {
		var (
			d    mapping.EmployeeDay
			date time.Time
		)
		err := row.Scan(&d.EmployeeID, &date)
		d.Date = dateString(date)
		return d, err
	}, `SELECT employee_id, date FROM dirty_days ORDER BY employee_id, date`)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: dirty days: %w", err)
	}
	return days, nil
}

// DirtyEmployees lists the employees with dirty days and the earliest of
// each one's, sorted by employee.
func (l *Ledger) DirtyEmployees(ctx context.Context) ([]ledger.DirtyEmployee, error) {
	emps, err := query(ctx, l, func(row pgx.CollectableRow) (ledger.DirtyEmployee, error) {
		var (
			e    ledger.DirtyEmployee
			date time.Time
		)
		err := row.Scan(&e.EmployeeID, &date)
		e.Earliest = dateString(date)
		return e, err
	}, `SELECT employee_id, min(date) FROM dirty_days GROUP BY employee_id ORDER BY employee_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: dirty employees: %w", err)
	}
	return emps, nil
}

// DirtyDaysBetween lists the dirty days of the employees first..last dated
// from..to, with their generations: a range of the table's key, which
// leads with the employee.
func (l *Ledger) DirtyDaysBetween(ctx context.Context, first, last, from, to string) ([]ledger.DirtyDay, error) {
	if err := ledger.CheckDirtyRange(first, last, from, to); err != nil {
		return nil, fmt.Errorf("postgres ledger: dirty days between: %w", err)
	}
	days, err := query(ctx, l, func(row pgx.CollectableRow) (ledger.DirtyDay, error) {
		var (
			d    ledger.DirtyDay
			date time.Time
		)
		err := row.Scan(&d.EmployeeID, &date, &d.Generation)
		d.Date = dateString(date)
		return d, err
	}, `SELECT employee_id, date, generation FROM dirty_days
		WHERE employee_id BETWEEN $1 AND $2 AND date BETWEEN $3::date AND $4::date`, first, last, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: dirty days of %s..%s %s..%s: %w", first, last, from, to, err)
	}
	return days, nil
}

// ClearDirty removes the dirty days whose generation is still the one
// given, or whatever it is for a zero generation, in one statement.
// Malformed days are skipped: MarkDirty refuses them, so none is dirty.
func (l *Ledger) ClearDirty(ctx context.Context, days []ledger.DirtyDay) error {
	var (
		emps, dates []string
		gens        []int64
	)
	for _, d := range days {
		if ledger.CheckEmployeeDay(d.EmployeeDay) != nil {
			continue
		}
		emps, dates, gens = append(emps, d.EmployeeID), append(dates, d.Date), append(gens, d.Generation)
	}
	if len(emps) == 0 {
		return nil
	}
	_, err := l.exec(ctx, `DELETE FROM dirty_days d
		USING unnest($1::text[], $2::text[], $3::bigint[]) AS u(employee_id, date, generation)
		WHERE d.employee_id = u.employee_id AND d.date = u.date::date
		  AND (u.generation = 0 OR d.generation = u.generation)`, emps, dates, gens)
	if err != nil {
		return fmt.Errorf("postgres ledger: clear %d dirty days: %w", len(days), err)
	}
	return nil
}

// PutDay stores rec as a new version unless its content equals the latest
// version's. It holds an advisory lock on the day's employee while it reads the
// latest version and writes the next, so that replicas computing the same
// content concurrently store it once. The returned record is the stored
// one, decoded again.
func (l *Ledger) PutDay(ctx context.Context, rec mapping.DayRecord) (mapping.DayRecord, bool, error) {
	if err := ledger.CheckDayKey(rec.Key()); err != nil {
		return mapping.DayRecord{}, false, fmt.Errorf("postgres ledger: put day: %w", err)
	}
	hash := rec.ContentHash()
	var (
		body    string
		changed bool
	)
	err := l.tx(ctx, func(tx pgx.Tx) error {
		var err error
		body, changed, err = putDay(ctx, tx, rec, hash, l.now())
		return err
	})
	if err == nil {
		var stored mapping.DayRecord
		if stored, err = decodeDay([]byte(body)); err == nil {
			return stored, changed, nil
		}
	}
	return mapping.DayRecord{}, false, fmt.Errorf("postgres ledger: put day %s/%s/%s: %w", rec.EmployeeID, rec.Date, rec.Shift, err)
}

func putDay(ctx context.Context, tx pgx.Tx, rec mapping.DayRecord, hash string, now time.Time) (string, bool, error) {
	if err := lockDays(ctx, tx, []string{rec.EmployeeID}); err != nil {
		return "", false, err
	}
	var (
		version    int
		storedHash string
		body       string
	)
	err := tx.QueryRow(ctx, `SELECT version, content_hash, body FROM days
		WHERE employee_id = $1 AND date = $2::date AND shift = $3 AND latest`,
		rec.EmployeeID, rec.Date, rec.Shift).Scan(&version, &storedHash, &body)
	switch {
	case err == nil && storedHash == hash:
		return body, false, nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return "", false, err
	}
	rec.Version = version + 1
	b, err := json.Marshal(rec)
	if err != nil {
		return "", false, err
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE days SET latest = false WHERE employee_id = $1 AND date = $2::date AND shift = $3 AND latest`,
		rec.EmployeeID, rec.Date, rec.Shift)
	batch.Queue(`INSERT INTO days (employee_id, date, shift, version, latest, content_hash, body, created_at)
		VALUES ($1, $2::date, $3, $4, true, $5, $6, $7)`, rec.EmployeeID, rec.Date, rec.Shift, rec.Version, hash, string(b), now)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return "", false, err
	}
	return string(b), true, nil
}

// Day returns the latest version of the day record, or an error wrapping
// ledger.ErrNotFound, also for a key whose date is malformed.
func (l *Ledger) Day(ctx context.Context, key mapping.DayKey) (mapping.DayRecord, error) {
	if err := ledger.CheckDate("date", key.Date); err != nil {
		return mapping.DayRecord{}, fmt.Errorf("postgres ledger: day %s/%s/%s: %w (%v)", key.EmployeeID, key.Date, key.Shift, ledger.ErrNotFound, err)
	}
	recs, err := l.queryDays(ctx, `SELECT body FROM days WHERE employee_id = $1 AND date = $2::date AND shift = $3 AND latest`,
		key.EmployeeID, key.Date, key.Shift)
	if err == nil && len(recs) == 0 {
		err = ledger.ErrNotFound
	}
	if err != nil {
		return mapping.DayRecord{}, fmt.Errorf("postgres ledger: day %s/%s/%s: %w", key.EmployeeID, key.Date, key.Shift, err)
	}
	return recs[0], nil
}

// DayHistory returns every version of the day record, oldest first; none
// for an unknown day, malformed dates included.
func (l *Ledger) DayHistory(ctx context.Context, key mapping.DayKey) ([]mapping.DayRecord, error) {
	if ledger.CheckDate("date", key.Date) != nil {
		return nil, nil // PutDay refuses such a key: it has no versions
	}
	recs, err := l.queryDays(ctx, `SELECT body FROM days WHERE employee_id = $1 AND date = $2::date AND shift = $3 ORDER BY version`,
		key.EmployeeID, key.Date, key.Shift)
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: history of day %s/%s/%s: %w", key.EmployeeID, key.Date, key.Shift, err)
	}
	return recs, nil
}

// Days lists the latest versions in [from, to] ordered by employee, date
// and shift.
func (l *Ledger) Days(ctx context.Context, employeeID, from, to string) ([]mapping.DayRecord, error) {
	for _, d := range []struct{ field, v string }{{"from", from}, {"to", to}} {
		if err := ledger.CheckDate(d.field, d.v); err != nil {
			return nil, fmt.Errorf("postgres ledger: days: %w", err)
		}
	}
	var (
		recs []mapping.DayRecord
		err  error
	)
	if employeeID == "" {
		recs, err = l.queryDays(ctx, `SELECT body FROM days WHERE latest AND date >= $1::date AND date <= $2::date
			ORDER BY employee_id, date, shift`, from, to)
	} else {
		recs, err = l.queryDays(ctx, `SELECT body FROM days WHERE latest AND employee_id = $1 AND date >= $2::date AND date <= $3::date
			ORDER BY date, shift`, employeeID, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: days of %q from %s to %s: %w", employeeID, from, to, err)
	}
	return recs, nil
}

func (l *Ledger) queryDays(ctx context.Context, q string, args ...any) ([]mapping.DayRecord, error) {
	return query(ctx, l, func(row pgx.CollectableRow) (mapping.DayRecord, error) {
		var body []byte
		if err := row.Scan(&body); err != nil {
			return mapping.DayRecord{}, err
		}
		return decodeDay(body)
	}, q, args...)
}

func decodeDay(body []byte) (mapping.DayRecord, error) {
	var rec mapping.DayRecord
	if err := mapping.UnmarshalDay(body, &rec); err != nil {
		return rec, fmt.Errorf("decode stored day record: %w", err)
	}
	return rec, nil
}

// Checkpoint returns the connector's checkpoint in UTC.
func (l *Ledger) Checkpoint(ctx context.Context, connector string) (time.Time, bool, error) {
	ts, err := query(ctx, l, pgx.RowTo[time.Time], `SELECT at FROM checkpoints WHERE connector = $1`, connector)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres ledger: checkpoint of %s: %w", connector, err)
	}
	if len(ts) == 0 {
		return time.Time{}, false, nil
	}
	return ts[0].UTC(), true, nil
}

// SetCheckpoint records the connector's checkpoint, at millisecond
// precision.
func (l *Ledger) SetCheckpoint(ctx context.Context, connector string, t time.Time) error {
	if connector == "" {
		return errors.New("postgres ledger: set checkpoint: connector is empty; give the connector's name")
	}
	_, err := l.exec(ctx, `INSERT INTO checkpoints (connector, at, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (connector) DO UPDATE SET at = excluded.at, updated_at = excluded.updated_at`,
		connector, ms(t), l.now())
	if err != nil {
		return fmt.Errorf("postgres ledger: set checkpoint of %s: %w", connector, err)
	}
	return nil
}
