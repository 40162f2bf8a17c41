package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/ledger/ledgertest"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
)

// TestPutDaysMatchesPutDay holds PutDays to PutDay and Enqueue.
func TestPutDaysMatchesPutDay(t *testing.T) {
	ledgertest.RunDayBatcher(t, freshLedger)
}

// TestDueReadsInOrderWithoutSorting checks the query plan of Due: it must
// walk the pending entries of the sink in id order and stop at its limit,
// not sort every pending entry on each call.
func TestDueReadsInOrderWithoutSorting(t *testing.T) {
	joined := strings.Join(queryPlan(t, sqlite.DueQuery, "hr", 0, 0, 10), "; ")
	if !strings.Contains(joined, "outbox_pending") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("Due's plan is %q; want the outbox_pending index and no sort", joined)
	}
}

// TestEventsSearchesTheIndexes holds Events to its indexes: reading an
// employee's range must search the day index day by day and the
// approvals' index by employee, never scan the events. A query SQLite
// could not match to the expression index (the day written otherwise
// than time_ms / 86400000, say) would still answer correctly, through a
// scan of every event, and only this test would notice.
func TestEventsSearchesTheIndexes(t *testing.T) {
	plan := queryPlan(t, sqlite.EventsQuery, "E1", int64(1_700_000_000_000), int64(1_700_086_400_000))
	wantPlan(t, plan, []string{
		"SEARCH events USING INDEX events_by_day (<expr>=? AND employee_id=? AND time_ms>? AND time_ms<?)",
		"SEARCH events USING INDEX spans_by_employee (employee_id=?)",
	}, "SCAN events")
}

// TestPutDaysReadsTheBatchsDates holds PutDays' read of the stored
// versions to the days' key, by employee and date: a read of every stored
// day of the employees (a year of them in an aged ledger) would still
// answer correctly, and only this test and BenchmarkPutDaysAged would
// notice.
func TestPutDaysReadsTheBatchsDates(t *testing.T) {
	plan := queryPlan(t, sqlite.LatestDaysQuery(2), "E1", "E2", "2026-11-01", "2026-11-30")
	wantPlan(t, plan, []string{"employee_id=? AND date>? AND date<?"}, "SCAN days")
}

// TestPutDaysSupersedesBySearches holds the statement that takes the
// latest flag from superseded versions to a search of the days' whole key
// for each version it names: a scan would read every stored day for each
// batch of a night's corrections, and a search by day every version of
// it, answering correctly all the while.
func TestPutDaysSupersedesBySearches(t *testing.T) {
	plan := queryPlan(t, sqlite.UnlatestQuery(2), "E1", "2026-11-02", "standard", 1, "E2", "2026-11-02", "standard", 3)
	wantPlan(t, plan, []string{"sqlite_autoindex_days_1 (employee_id=? AND date=? AND shift=? AND version=?)"}, "SCAN days")
}

// TestDaysOfEveryEmployeeSearchTheKey holds the read of every employee's
// latest days in a range of dates to searches of the days' key, an
// employee at a time: the days have no index by date (migration 12), and a
// scan would read every version of every day the ledger holds, answering
// correctly all the while.
func TestDaysOfEveryEmployeeSearchTheKey(t *testing.T) {
	plan := queryPlan(t, sqlite.AllLatestDaysQuery, "2026-11-01", "2026-11-30")
	wantPlan(t, plan, []string{
		"SEARCH days USING COVERING INDEX sqlite_autoindex_days_1 (employee_id>?)",
		"SEARCH d USING INDEX sqlite_autoindex_days_1 (employee_id=? AND date>? AND date<?)",
	}, "SCAN d", "SCAN days", "USE TEMP B-TREE")
}

// TestEventLookupsSearchTheKey holds every read of events by id to a
// search of the events' key by day and id (migration 13): without the day
// SQLite can only scan the events, and every de-duplication would read the
// whole ledger, answering correctly all the while.
func TestEventLookupsSearchTheKey(t *testing.T) {
	const key = "USING INDEX events_key (id_day=? AND id=?"
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"the writer's lookup":  {sqlite.LookupQuery(2), []any{1, "a", "b"}},
		"RawFor":               {sqlite.RawForQuery, []any{1, "a"}},
		"a payload's revision": {sqlite.RevisionQuery, []any{1, "a", "f"}},
	} {
		plan := queryPlan(t, q.sql, q.args...)
		if !strings.Contains(strings.Join(plan, "; "), key) {
			t.Errorf("%s: the plan is %q; want a search %q", name, plan, key)
		}
		wantPlan(t, plan, nil, "SCAN events", "SCAN e")
	}
}

// wantPlan fails t unless plan names each of searches and has none of
// steps, such as a scan of a table ("SCAN d" is that step, alone or with
// the index it scans, and not "SCAN dates").
func wantPlan(t *testing.T, plan, searches []string, steps ...string) {
	t.Helper()
	joined := strings.Join(plan, "; ")
	for _, want := range searches {
		if !strings.Contains(joined, want) {
			t.Errorf("the plan is %q; want %q in it", joined, want)
		}
	}
	for _, step := range plan {
		for _, not := range steps {
			if step == not || strings.HasPrefix(step, not+" ") {
				t.Errorf("the plan is %q; want no step %q", joined, step)
			}
		}
	}
}

// newLedgerDB returns a connection to a new ledger's file, its schema
// migrated, closed when t ends.
func newLedgerDB(t testing.TB) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryPlan returns the steps of q's plan in a new ledger.
func queryPlan(t *testing.T, q string, args ...any) []string {
	t.Helper()
	rows, err := newLedgerDB(t).Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestDirtyDaysBetweenSearchesEachDate holds the read of a range of
// employees' dirty days to a search of dirty_days' key for each date:
// reconciliation reads every employee's this way, and a scan of the dates'
// range would read every other employee's days too (a month of a
// company's, for each range), answering correctly all the while.
func TestDirtyDaysBetweenSearchesEachDate(t *testing.T) {
	plan := queryPlan(t, sqlite.DirtyDaysBetweenQuery, "E1", "E2", "2026-11-01", "2026-11-30")
	wantPlan(t, plan, []string{"SEARCH d USING PRIMARY KEY (date=? AND employee_id>? AND employee_id<?)"}, "SCAN d")
}

// TestDeliveredAllSearchesEachRecord: DeliveredAll looks each record up in
// the outbox's (sink, key, version) index, not by scanning the sink's
// entries.
func TestDeliveredAllSearchesEachRecord(t *testing.T) {
	plan := queryPlan(t, sqlite.DeliveredQuery(2), "hr", "E1", "2026-11-02", "standard", 1, "E2", "2026-11-02", "standard", 2)
	wantPlan(t, plan, []string{"SEARCH outbox USING INDEX sqlite_autoindex_outbox_1 (sink=? AND employee_id=? AND date=? AND shift=? AND version=?)"}, "SCAN outbox")
}
