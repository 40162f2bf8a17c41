package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/revisions"
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
	res, err := l.AppendBatches(ctx, [][]mapping.Event{events})
	if err != nil {
		return ledger.AppendResult{}, err
	}
	return res[0], nil
}

// AppendBatches stores several callers' batches in one transaction, in
// order, and reports each batch's result as if each had been appended on
// its own in that order: IngestBatches for batches of events alone, which
// ledger/groupcommit uses to commit many webhook requests at once. Either
// every batch is stored or, on error, none.
//
// The transaction reads the stored revisions of every id in the batches
// with a few IN queries, works the batches out in memory, event by event,
// and then writes: the latest flags of revised ids, remapped quarantined
// copies, and the new revisions in multi-row INSERTs.
func (l *Ledger) AppendBatches(ctx context.Context, batches [][]mapping.Event) ([]ledger.AppendResult, error) {
	ibs := make([]ledger.IngestBatch, len(batches))
	for b, events := range batches {
		p, err := ledger.PrepareEvents(events, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlite ledger: append: %w", err)
		}
		ibs[b] = ledger.IngestBatch{Events: p}
	}
	return l.IngestBatches(ctx, ibs)
}

// IngestBatch writes one caller's events, raw payloads and dirty days in
// one transaction (ledger.IngestBatch).
func (l *Ledger) IngestBatch(ctx context.Context, b ledger.IngestBatch) (ledger.AppendResult, error) {
	res, err := l.IngestBatches(ctx, []ledger.IngestBatch{b})
	if err != nil {
		return ledger.AppendResult{}, err
	}
	return res[0], nil
}

// IngestBatches writes several callers' IngestBatches in one transaction:
// the events of each as AppendBatches does, in order, with the callers'
// fingerprints and JSON as prepared; then every raw payload as StoreRaw
// does; then the dirty days each batch's changes make, as MarkDirty does.
// Either all of it is stored or, on error, none.
func (l *Ledger) IngestBatches(ctx context.Context, ibs []ledger.IngestBatch) ([]ledger.AppendResult, error) {
	batches, total, err := ledger.CheckIngestBatches(ibs)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: %w", err)
	}
	results := make([]ledger.AppendResult, len(batches))
	if total == 0 {
		return results, nil
	}
	st, err := l.stmts(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: append %d events: %w", total, err)
	}
	err = l.write(ctx, func(tx *sql.Tx) error {
		clear(results)
		hs, ids, err := loadHistories(ctx, tx, st, batches)
		if err != nil {
			return err
		}
		var w writes
		for b, events := range batches {
			for _, p := range events {
				r, err := hs[p.Event.ID].Add(p.Event, p.Fingerprint, p.JSON, &results[b])
				if err != nil {
					return fmt.Errorf("event %s: %w", p.Event.ID, err)
				}
				if r != nil {
					w.inserts = append(w.inserts, r)
				}
			}
		}
		now := l.clock().UnixMilli()
		if err := numberInserts(ctx, tx, st, &w); err != nil {
			return err
		}
		if err := writeHistories(ctx, tx, st, ids, hs, &w, now); err != nil {
			return err
		}
		raw, dirty := ledger.IngestRest(ibs, results)
		// The batches' payloads belong to the batches' own events, all of
		// them in hs; one naming another revision is not kept.
		rows, _, err := bindRaw(ctx, tx, raw, hs)
		if err != nil {
			return fmt.Errorf("raw payloads: %w", err)
		}
		if err := insertRaw(ctx, tx, st, rows); err != nil {
			return fmt.Errorf("raw payloads: %w", err)
		}
		for _, d := range dirty {
			if err := ledger.CheckEmployeeDay(d); err != nil {
				return fmt.Errorf("dirty day: %w", err)
			}
		}
		return markDirty(ctx, tx, st, uniqueDays(dirty), now)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: append %d events: %w", total, err)
	}
	return results, nil
}

// writes lists, in the order of their events, the revisions a
// transaction adds.
type writes struct{ inserts []*revisions.Revision }

// Statement sizes: a history lookup names up to lookupSizes[0] ids, padded
// to the next size by repeating an id, and a multi-row INSERT adds up to
// insertSizes[0] rows. Each size is prepared once (see stmts), so a batch
// of any size costs a few statements, none of them parsed again.
var (
	lookupSizes = []int{512, 128, 32, 8, 1}
	insertSizes = []int{256, 64, 16, 4, 1}
)

// insertColumns is how many values one inserted revision binds.
const insertColumns = 15

// loadHistories reads every stored revision of the ids in batches and
// returns them with the ids in order of first appearance.
func loadHistories(ctx context.Context, tx *sql.Tx, st *appendStmts, batches [][]ledger.PreparedEvent) (map[string]*revisions.History, []string, error) {
	hs := map[string]*revisions.History{}
	var ids []string
	for _, events := range batches {
		for _, p := range events {
			if _, ok := hs[p.Event.ID]; !ok {
				hs[p.Event.ID] = &revisions.History{}
				ids = append(ids, p.Event.ID)
			}
		}
	}
	// The ids of one key day go in one query, a few queries a batch: a
	// morning's webhooks name one day, a pull's answer a week.
	byDay := map[int64][]string{}
	var days []int64
	for _, id := range ids {
		d := eventKeyDay(id)
		if _, ok := byDay[d]; !ok {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], id)
	}
	args := make([]any, 0, 1+holding(lookupSizes, len(ids)))
	for _, day := range days {
		for rest := byDay[day]; len(rest) > 0; {
			size := holding(lookupSizes, len(rest))
			n := min(size, len(rest))
			args = append(args[:0], day)
			for i := range size {
				args = append(args, rest[min(i, n-1)])
			}
			rest = rest[n:]
			if err := readRevisions(ctx, tx.StmtContext(ctx, st.lookup[size]), args, hs); err != nil {
				return nil, nil, err
			}
		}
	}
	return hs, ids, nil
}

// readRevisions runs a lookup and adds the revisions it reads to hs.
func readRevisions(ctx context.Context, lookup *sql.Stmt, args []any, hs map[string]*revisions.History) error {
	rows, err := lookup.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			id string
			r  revisions.Revision
		)
		if err := rows.Scan(&id, &r.Seq, &r.Fingerprint, &r.Number, &r.Employee, &r.Latest, &r.Body); err != nil {
			rows.Close()
			return err
		}
		r.WasLatest = r.Latest
		hs[id].Revs = append(hs[id].Revs, &r)
	}
	return errors.Join(rows.Err(), rows.Close())
}

// lookupQuery reads the stored revisions of n ids of one key day
// (eventKeyDay), bound as the day and then the ids: a search of the
// events' key each (a query plan test holds it to that).
func lookupQuery(n int) string {
	return `SELECT id, seq, fingerprint, revision, employee_id, latest,
		CASE WHEN employee_id = '' THEN body ELSE '' END
		FROM events WHERE id_day = ? AND id IN (` + placeholders(n, 1) + `)`
}

// eventKeyDay is the id_day of an event id, the first column of the
// events' unique key (migration 13): the UTC day of the unix-millisecond
// time the id ends with after a '-', as DingTalk's punch ids do, and 0
// for any other id. It must equal the column's SQL expression for every
// id, or a lookup would miss the id's stored revisions (a test and a fuzz
// target hold the two together).
func eventKeyDay(id string) int64 {
	const digits = 13
	if len(id) < digits+1 || id[len(id)-digits-1] != '-' {
		return 0
	}
	var ms int64
	for _, c := range []byte(id[len(id)-digits:]) {
		if c < '0' || c > '9' {
			return 0
		}
		ms = ms*10 + int64(c-'0')
	}
	return ms / 86400000
}

// fit returns the largest of sizes (largest first, the last 1) that n
// items fill.
func fit(sizes []int, n int) int {
	for _, s := range sizes {
		if n >= s {
			return s
		}
	}
	return sizes[len(sizes)-1]
}

// holding returns the smallest of sizes (largest first) that holds n
// items, or the largest when none does.
func holding(sizes []int, n int) int {
	for i := len(sizes) - 1; i >= 0; i-- {
		if sizes[i] >= n {
			return sizes[i]
		}
	}
	return sizes[0]
}

// numberInserts gives the revisions the transaction adds the rows after
// the last stored one, in the order of their events, so that their raw
// payloads can name them before they are written. The write lock the
// transaction holds keeps the numbers free.
func numberInserts(ctx context.Context, tx *sql.Tx, st *appendStmts, w *writes) error {
	if len(w.inserts) == 0 {
		return nil
	}
	var last int64
	if err := tx.StmtContext(ctx, st.lastSeq).QueryRowContext(ctx).Scan(&last); err != nil {
		return fmt.Errorf("last event row: %w", err)
	}
	for i, r := range w.inserts {
		r.Seq = last + 1 + int64(i)
	}
	return nil
}

// writeHistories writes what the transaction changed: first the latest
// flags of stored revisions that lost it, then the stored revisions a
// duplicate remapped, then the new revisions in the order of their events.
func writeHistories(ctx context.Context, tx *sql.Tx, st *appendStmts, ids []string, hs map[string]*revisions.History, w *writes, now int64) error {
	var unlatest []any
	for _, id := range ids {
		for _, r := range hs[id].Revs {
			if r.New {
				continue
			}
			if r.WasLatest && !r.Latest {
				unlatest = append(unlatest, r.Seq)
			}
			if r.Remapped {
				body, err := r.Event.Marshal()
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE events SET employee_id = ?, body = ? WHERE seq = ?`, r.Employee, string(body), r.Seq); err != nil {
					return err
				}
			}
		}
	}
	if len(unlatest) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET latest = 0 WHERE seq IN (`+placeholders(len(unlatest), 1)+`)`, unlatest...); err != nil {
			return err
		}
	}
	args := make([]any, 0, min(len(w.inserts), insertSizes[0])*insertColumns)
	for rest := w.inserts; len(rest) > 0; {
		n := fit(insertSizes, len(rest))
		args = args[:0]
		for _, r := range rest[:n] {
			e := r.Event
			body := r.JSON
			if body == nil {
				b, err := e.Marshal()
				if err != nil {
					return err
				}
				body = b
			}
			start, end := approvalSpan(*e)
			args = append(args, r.Seq, e.ID, r.Fingerprint, r.Number, r.Latest, string(e.Kind), e.Platform, e.Tenant, e.UserID,
				e.EmployeeID, e.Time.UnixMilli(), start, end, string(body), now)
		}
		rest = rest[n:]
		if _, err := tx.StmtContext(ctx, st.insert[n]).ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return noteEmployees(ctx, tx, st, ids, hs)
}

// noteEmployees adds the employees that the transaction's new and
// remapped revisions carry to the employees table. One already listed, as
// nearly all are, costs a B-tree search and writes nothing.
func noteEmployees(ctx context.Context, tx *sql.Tx, st *appendStmts, ids []string, hs map[string]*revisions.History) error {
	var emps []string
	for _, id := range ids {
		for _, r := range hs[id].Revs {
			if (r.New || r.Remapped) && r.Employee != "" {
				emps = append(emps, r.Employee)
			}
		}
	}
	slices.Sort(emps)
	return insertRows(ctx, tx, st, insertEmployee, slices.Compact(emps), employeeArgs)
}

// employeeArgs appends insertEmployee's values of one employee.
func employeeArgs(employeeID string, args []any) []any { return append(args, employeeID) }

// appendStmts are Append's statements, prepared once on the write
// connection; a transaction binds them with tx.StmtContext, which reuses
// the connection's prepared statement.
type appendStmts struct {
	lookup  map[int]*sql.Stmt // by number of ids
	insert  map[int]*sql.Stmt // by number of rows
	lastSeq *sql.Stmt
	rows    map[rowInsert]map[int]*sql.Stmt // the rowInserts, by number of rows
}

// stmts returns the prepared statements, preparing them on first use. It
// must not be called inside a write transaction: that holds the one write
// connection the preparation needs.
func (l *Ledger) stmts(ctx context.Context) (*appendStmts, error) {
	l.stmtMu.Lock()
	defer l.stmtMu.Unlock()
	if l.appendStmts != nil {
		return l.appendStmts, nil
	}
	st := &appendStmts{lookup: map[int]*sql.Stmt{}, insert: map[int]*sql.Stmt{}, rows: map[rowInsert]map[int]*sql.Stmt{}}
	prepare := func(dst map[int]*sql.Stmt, n int, q string) error {
		s, err := l.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		dst[n] = s
		return nil
	}
	for _, n := range lookupSizes {
		if err := prepare(st.lookup, n, lookupQuery(n)); err != nil {
			return nil, err
		}
	}
	for _, n := range insertSizes {
		if err := prepare(st.insert, n, `INSERT INTO events (seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
			employee_id, time_ms, start_ms, end_ms, body, created_ms) VALUES `+placeholders(n, insertColumns)); err != nil {
			return nil, err
		}
	}
	for _, ins := range rowInserts {
		st.rows[ins] = map[int]*sql.Stmt{}
		for _, n := range insertSizes {
			if err := prepare(st.rows[ins], n, ins.prefix+valueRows(n, ins.width)+ins.suffix); err != nil {
				return nil, err
			}
		}
	}
	last, err := l.w.PrepareContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	st.lastSeq = last
	l.appendStmts = st
	return st, nil
}

// placeholders returns n groups of k question marks: "(?, ?), (?, ?)", or
// "?, ?" when k is 1.
func placeholders(n, k int) string {
	one := "(" + strings.Repeat("?, ", k-1) + "?)"
	if k == 1 {
		one = "?"
	}
	var b strings.Builder
	b.Grow(n * (len(one) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// valueRows returns the rows of a multi-row VALUES of n rows of k values:
// placeholders, but parenthesized when k is 1 too.
func valueRows(n, k int) string {
	if k > 1 {
		return placeholders(n, k)
	}
	return strings.TrimSuffix(strings.Repeat("(?), ", n), ", ")
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
	if err := mapping.UnmarshalEvent([]byte(q.body), &e); err != nil {
		return e, fmt.Errorf("decode stored event %d: %w", q.seq, err)
	}
	e.EmployeeID = employeeID
	body, err := e.Marshal()
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
