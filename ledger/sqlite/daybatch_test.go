package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// TestPutDaysMatchesPutDay stores the same records with PutDays and with
// PutDay and Enqueue one by one, and compares versions, changed flags,
// histories and the outbox.
func TestPutDaysMatchesPutDay(t *testing.T) {
	day := func(emp, date string, worked int) mapping.DayRecord {
		return mapping.DayRecord{EmployeeID: emp, Date: date, Shift: "standard", Status: mapping.DayPresent, WorkedMinutes: worked}
	}
	first := []mapping.DayRecord{day("E1", "2026-11-19", 480), day("E1", "2026-11-20", 500), day("E2", "2026-11-20", 510)}
	// A second run: one day unchanged, one corrected twice, one new.
	second := []mapping.DayRecord{day("E1", "2026-11-19", 480), day("E1", "2026-11-20", 505), day("E3", "2026-11-20", 300), day("E1", "2026-11-20", 506)}
	// Runs whose dates span less than the stored days: each must still
	// find the stored version it supersedes, at either end of its span.
	third := []mapping.DayRecord{day("E1", "2026-11-19", 470)}
	fourth := []mapping.DayRecord{day("E2", "2026-11-20", 515), day("E2", "2026-11-18", 400), day("E1", "2026-11-18", 420)}
	sinks := []string{"hr", "payroll"}

	batched := open(t, filepath.Join(t.TempDir(), "a.db"))
	defer batched.Close()
	single := open(t, filepath.Join(t.TempDir(), "b.db"))
	defer single.Close()
	for _, run := range [][]mapping.DayRecord{first, second, third, fourth} {
		gotChanged, err := batched.PutDays(t.Context(), ledger.PrepareDays(run), sinks)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range run {
			stored, changed, err := single.PutDay(t.Context(), rec)
			if err != nil {
				t.Fatal(err)
			}
			if changed {
				for _, sink := range sinks {
					if err := single.Enqueue(t.Context(), sink, stored); err != nil {
						t.Fatal(err)
					}
				}
			}
			if changed != gotChanged[i] {
				t.Errorf("%s %s: PutDays says changed %v, PutDay %v", rec.EmployeeID, rec.Date, gotChanged[i], changed)
			}
		}
	}
	for _, rec := range slices.Concat(first, second, third, fourth) {
		a, errA := batched.DayHistory(t.Context(), rec.Key())
		b, errB := single.DayHistory(t.Context(), rec.Key())
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("history of %v: %v, %v vs %v, %v", rec.Key(), a, errA, b, errB)
		}
	}
	for _, sink := range sinks {
		a, errA := batched.Outbox(t.Context(), sink, ledger.DeliveryPending, 0)
		b, errB := single.Outbox(t.Context(), sink, ledger.DeliveryPending, 0)
		if errA != nil || errB != nil || len(a) != 10 || len(a) != len(b) {
			t.Fatalf("%s outbox: %d entries (%v) vs %d (%v); want 10 each", sink, len(a), errA, len(b), errB)
		}
		for i := range a {
			if !reflect.DeepEqual(a[i].Record, b[i].Record) {
				t.Errorf("%s outbox entry %d: %+v vs %+v", sink, i, a[i].Record, b[i].Record)
			}
		}
	}
	if _, err := batched.PutDays(t.Context(), ledger.PrepareDays([]mapping.DayRecord{{Date: "2026-11-20", Shift: "standard"}}), nil); err == nil {
		t.Error("PutDays of a record without an employee succeeded")
	}
	if _, err := batched.PutDays(t.Context(), []ledger.PreparedDay{{Record: day("E1", "2026-11-21", 480)}}, nil); err == nil || !strings.Contains(err.Error(), "PrepareDays") {
		t.Errorf("PutDays of an unprepared day = %v, want an error naming ledger.PrepareDays", err)
	}
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
	joined := strings.Join(plan, "; ")
	for _, want := range []string{
		"SEARCH events USING INDEX events_by_day (<expr>=? AND employee_id=? AND time_ms>? AND time_ms<?)",
		"SEARCH events USING INDEX spans_by_employee (employee_id=?)",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("Events' plan is %q; want %q", joined, want)
		}
	}
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN events") {
			t.Errorf("Events' plan is %q; want no scan of the events", joined)
		}
	}
}

// TestPutDaysReadsTheBatchsDates holds PutDays' read of the stored
// versions to the days' key, by employee and date: a read of every stored
// day of the employees (a year of them in an aged ledger) would still
// answer correctly, and only this test and BenchmarkPutDaysAged would
// notice.
func TestPutDaysReadsTheBatchsDates(t *testing.T) {
	plan := queryPlan(t, sqlite.LatestDaysQuery(2), "E1", "E2", "2026-11-01", "2026-11-30")
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "employee_id=? AND date>? AND date<?") {
		t.Errorf("the plan is %q; want a search of the key by employee and dates", joined)
	}
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN days") {
			t.Errorf("the plan is %q; want no scan of the days", joined)
		}
	}
}

// queryPlan returns the steps of q's plan in a new ledger.
func queryPlan(t *testing.T, q string, args ...any) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, args...)
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
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "SEARCH d USING PRIMARY KEY (date=? AND employee_id>? AND employee_id<?)") {
		t.Errorf("the plan is %q; want a search of the key by date and employees", joined)
	}
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN d ") || step == "SCAN d" {
			t.Errorf("the plan is %q; want no scan of dirty_days", joined)
		}
	}
}
