package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// PutDays stores days in one transaction, each as PutDay would, one after
// another, and queues each changed one for every sink in sinks as Enqueue
// would; it reports which records changed. On error nothing is stored. The
// days come prepared (ledger.PrepareDays): the caller has hashed and
// encoded them. Reconciliation uses it to store hundreds of employees' days
// in a few statements instead of a transaction and a round trip or two a
// day. It locks the days' employees as PutDay does (lockDays), so replicas
// storing the same days wait for each other.
func (l *Ledger) PutDays(ctx context.Context, days []ledger.PreparedDay, sinks []string) ([]bool, error) {
	if err := ledger.CheckPutDays(days, sinks); err != nil {
		return nil, fmt.Errorf("postgres ledger: put days: %w", err)
	}
	changed := make([]bool, len(days))
	if len(days) == 0 {
		return changed, nil
	}
	now := l.now()
	err := l.tx(ctx, func(tx pgx.Tx) error {
		clear(changed)
		return putDays(ctx, tx, days, sinks, changed, now)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: put %d days: %w", len(days), err)
	}
	return changed, nil
}

// dayColumns holds rows of days or outbox entries as one array a column,
// for unnest.
type dayColumns struct {
	emps, dates, shifts []string
	versions            []int
	latest              []bool
	hashes, bodies      []string
}

func (c *dayColumns) add(k mapping.DayKey, version int, latest bool, hash, body string) {
	c.emps, c.dates, c.shifts = append(c.emps, k.EmployeeID), append(c.dates, k.Date), append(c.shifts, k.Shift)
	c.versions, c.latest = append(c.versions, version), append(c.latest, latest)
	c.hashes, c.bodies = append(c.hashes, hash), append(c.bodies, body)
}

func putDays(ctx context.Context, tx pgx.Tx, days []ledger.PreparedDay, sinks []string, changed []bool, now time.Time) error {
	var keys dayColumns // each day key once
	seen := map[mapping.DayKey]bool{}
	for _, d := range days {
		if k := d.Record.Key(); !seen[k] {
			seen[k] = true
			keys.add(k, 0, false, "", "")
		}
	}
	if err := lockDays(ctx, tx, keys.emps); err != nil {
		return err
	}
	type version struct {
		n    int
		hash string
	}
	latest := map[mapping.DayKey]version{}
	rows, err := tx.Query(ctx, `SELECT d.employee_id, d.date, d.shift, d.version, d.content_hash FROM days d
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(employee_id, date, shift)
		  ON d.employee_id = u.employee_id AND d.date = u.date::date AND d.shift = u.shift
		WHERE d.latest`, keys.emps, keys.dates, keys.shifts)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			k    mapping.DayKey
			date time.Time
			v    version
		)
		if err := rows.Scan(&k.EmployeeID, &date, &k.Shift, &v.n, &v.hash); err != nil {
			rows.Close()
			return err
		}
		k.Date = dateString(date)
		latest[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	var (
		superseded dayColumns // stored latest versions a new one replaces
		inserted   dayColumns
		lastOf     = map[mapping.DayKey]int{} // index in inserted of a key's newest row
	)
	for i, d := range days {
		k := d.Record.Key()
		cur, stored := latest[k]
		if stored && cur.hash == d.Hash {
			continue
		}
		if j, ok := lastOf[k]; ok {
			inserted.latest[j] = false // superseded within this batch
		} else if stored {
			superseded.add(k, 0, false, "", "")
		}
		v := cur.n + 1
		lastOf[k] = len(inserted.emps)
		inserted.add(k, v, true, d.Hash, string(d.Body(v)))
		latest[k] = version{n: v, hash: d.Hash}
		changed[i] = true
	}
	if len(inserted.emps) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	if len(superseded.emps) > 0 {
		batch.Queue(`UPDATE days d SET latest = false
			FROM unnest($1::text[], $2::text[], $3::text[]) AS u(employee_id, date, shift)
			WHERE d.employee_id = u.employee_id AND d.date = u.date::date AND d.shift = u.shift AND d.latest`,
			superseded.emps, superseded.dates, superseded.shifts)
	}
	batch.Queue(`INSERT INTO days (employee_id, date, shift, version, latest, content_hash, body, created_at)
		SELECT u.employee_id, u.date::date, u.shift, u.version, u.latest, u.hash, u.body, $8
		FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::boolean[], $6::text[], $7::text[])
		  AS u(employee_id, date, shift, version, latest, hash, body)`,
		inserted.emps, inserted.dates, inserted.shifts, inserted.versions, inserted.latest, inserted.hashes, inserted.bodies, now)
	for _, sink := range sinks {
		// In the batch's order, as Enqueue after each PutDay would number
		// them: Due sends a day's versions in the order of their ids.
		batch.Queue(`INSERT INTO outbox (sink, employee_id, date, shift, version, body, state, created_at, updated_at)
			SELECT $1, u.employee_id, u.date::date, u.shift, u.version, u.body, 'pending', $7, $7
			FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[]) WITH ORDINALITY
			  AS u(employee_id, date, shift, version, body, n)
			ORDER BY u.n
			ON CONFLICT (sink, employee_id, date, shift, version) DO NOTHING`,
			sink, inserted.emps, inserted.dates, inserted.shifts, inserted.versions, inserted.bodies, now)
	}
	return tx.SendBatch(ctx, batch).Close()
}
