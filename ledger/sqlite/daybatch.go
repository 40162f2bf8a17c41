package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// PutDays stores days in one transaction, each as PutDay would, one after
// another, and queues each changed one for every sink in sinks as Enqueue
// would; it reports which records changed. On error nothing is stored. The
// days come prepared (ledger.PrepareDays): the caller has hashed and
// encoded them, so the one writer only stores them.
// Reconciliation uses it to store hundreds of employees' days in one write
// instead of two writes a day: the latest versions are read with a few IN
// queries and the rows written with multi-row statements.
func (l *Ledger) PutDays(ctx context.Context, days []ledger.PreparedDay, sinks []string) ([]bool, error) {
	if err := ledger.CheckPutDays(days, sinks); err != nil {
		return nil, fmt.Errorf("sqlite ledger: put days: %w", err)
	}
	changed := make([]bool, len(days))
	if len(days) == 0 {
		return changed, nil
	}
	st, err := l.stmts(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: put %d days: %w", len(days), err)
	}
	now := l.clock().UnixMilli()
	err = l.write(ctx, func(tx *sql.Tx) error {
		clear(changed)
		latest, err := latestDays(ctx, tx, days)
		if err != nil {
			return err
		}
		var (
			unlatest []any // employee_id, date, shift, version of stored versions superseded
			rows     []*dayRow
			added    = map[mapping.DayKey]*dayRow{}
		)
		for i, d := range days {
			rec := d.Record
			key, hash := rec.Key(), d.Hash
			cur, stored := latest[key]
			if stored && cur.hash == hash {
				continue
			}
			if prev, ok := added[key]; ok {
				prev.latest = false // superseded within this batch
			} else if stored {
				unlatest = append(unlatest, key.EmployeeID, key.Date, key.Shift, cur.version)
			}
			rec.Version = cur.version + 1
			row := &dayRow{rec: rec, hash: hash, body: string(d.Body(rec.Version)), latest: true}
			rows = append(rows, row)
			added[key] = row
			latest[key] = dayVersion{version: rec.Version, hash: hash}
			changed[i] = true
		}
		for rest := unlatest; len(rest) > 0; {
			n := min(len(rest)/4, lookupSizes[0])
			if _, err := tx.ExecContext(ctx, unlatestQuery(n), rest[:4*n]...); err != nil {
				return err
			}
			rest = rest[4*n:]
		}
		if err := insertRows(ctx, tx, st, insertDay, rows,
			func(r *dayRow, args []any) []any {
				return append(args, r.rec.EmployeeID, r.rec.Date, r.rec.Shift, r.rec.Version, r.latest, r.hash, r.body, now)
			}); err != nil {
			return err
		}
		for _, sink := range sinks {
			// The entry of a stored version keeps no copy of the record
			// (body NULL): reading it joins days (migration 9).
			if err := insertRows(ctx, tx, st, insertOutbox, rows,
				func(r *dayRow, args []any) []any {
					return append(args, sink, r.rec.EmployeeID, r.rec.Date, r.rec.Shift, r.rec.Version, "pending", now, now)
				}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: put %d days: %w", len(days), err)
	}
	return changed, nil
}

// latestDaysQuery reads the latest versions of n employees' days between
// two dates: a search of the days' key for each employee (a query plan
// test holds it to that).
func latestDaysQuery(n int) string {
	return `SELECT employee_id, date, shift, version, content_hash FROM days
		WHERE latest = 1 AND employee_id IN (` + placeholders(n, 1) + `) AND date >= ? AND date <= ?`
}

// unlatestQuery takes the latest flag from n stored versions, each named
// by its whole key (employee, date, shift, version): one search of the
// days' key finds each row, however many versions of its day there are (a
// query plan test holds it to that; SQLite 3.40 scanned the whole table
// against a VALUES list in an UPDATE, the 3.54 built in here does not).
func unlatestQuery(n int) string {
	return `UPDATE days SET latest = 0 WHERE (employee_id, date, shift, version) IN (VALUES ` + placeholders(n, 4) + `)`
}

// dayVersion is the latest stored version of a day and its content hash.
type dayVersion struct {
	version int
	hash    string
}

// dayRow is a day-record version PutDays inserts.
type dayRow struct {
	rec    mapping.DayRecord
	hash   string
	body   string
	latest bool
}

// latestDays reads the latest versions of days: those of days' employees
// within the dates days span. Bounded by the dates, the read is as large
// as the batch, however long the employees' history: reading all of it,
// as it once did, made a night's batch cost grow with the ledger's age, a
// day more every night (BenchmarkPutDaysAged).
func latestDays(ctx context.Context, tx *sql.Tx, days []ledger.PreparedDay) (map[mapping.DayKey]dayVersion, error) {
	out := map[mapping.DayKey]dayVersion{}
	seen := map[string]bool{}
	var emps []string
	first, last := days[0].Record.Date, days[0].Record.Date
	for _, d := range days {
		if emp := d.Record.EmployeeID; !seen[emp] {
			seen[emp] = true
			emps = append(emps, emp)
		}
		first, last = min(first, d.Record.Date), max(last, d.Record.Date)
	}
	err := inChunks(emps, func(chunk []any) error {
		rows, err := tx.QueryContext(ctx, latestDaysQuery(len(chunk)), append(chunk, first, last)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				k mapping.DayKey
				v dayVersion
			)
			if err := rows.Scan(&k.EmployeeID, &k.Date, &k.Shift, &v.version, &v.hash); err != nil {
				rows.Close()
				return err
			}
			out[k] = v
		}
		return errors.Join(rows.Err(), rows.Close())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rowInsert is a multi-row INSERT: prefix, then width placeholders a
// row, then suffix. The writer prepares it once for each of insertSizes
// (stmts), so that a transaction compiles none: compiling a statement of a
// few hundred rows cost as much as running it.
type rowInsert struct {
	prefix, suffix string
	width          int
}

// The multi-row inserts of the writer's transactions.
var (
	insertDirty = rowInsert{`INSERT INTO dirty_days (employee_id, date, generation, marked_ms) VALUES `,
		` ON CONFLICT (date, employee_id) DO UPDATE SET generation = generation + 1, marked_ms = excluded.marked_ms`, 4}
	insertEmployee   = rowInsert{`INSERT INTO employees (employee_id) VALUES `, ` ON CONFLICT DO NOTHING`, 1}
	insertRawPayload = rowInsert{`INSERT INTO raw_payloads (seq, connector, received_ms, body) VALUES `, ` ON CONFLICT DO NOTHING`, 4}
	insertDay        = rowInsert{`INSERT INTO days (employee_id, date, shift, version, latest, content_hash, body, created_ms) VALUES `, "", 8}
	insertOutbox     = rowInsert{`INSERT INTO outbox (sink, employee_id, date, shift, version, state, created_ms, updated_ms) VALUES `,
		` ON CONFLICT (sink, employee_id, date, shift, version) DO NOTHING`, 8}
	rowInserts = []rowInsert{insertDirty, insertEmployee, insertRawPayload, insertDay, insertOutbox}
)

// insertRows inserts rows with ins, prepared in st, in statements of the
// sizes in insertSizes; args appends a row's values.
func insertRows[T any](ctx context.Context, tx *sql.Tx, st *appendStmts, ins rowInsert, rows []T, args func(T, []any) []any) error {
	prepared := st.rows[ins]
	buf := make([]any, 0, min(len(rows), insertSizes[0])*ins.width)
	for rest := rows; len(rest) > 0; {
		n := fit(insertSizes, len(rest))
		buf = buf[:0]
		for _, r := range rest[:n] {
			buf = args(r, buf)
		}
		if _, err := tx.StmtContext(ctx, prepared[n]).ExecContext(ctx, buf...); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}

// inChunks calls fn with items as the arguments of an IN list, at most
// lookupSizes[0] at a time.
func inChunks[T any](items []T, fn func(chunk []any) error) error {
	args := make([]any, 0, min(len(items), lookupSizes[0]))
	for rest := items; len(rest) > 0; {
		n := min(len(rest), lookupSizes[0])
		args = args[:0]
		for _, it := range rest[:n] {
			args = append(args, it)
		}
		if err := fn(args); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}
