package ledgertest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// DayBatcher is a ledger that stores many day records at once, as
// reconciliation's DayBatcher does.
type DayBatcher interface {
	ledger.Ledger
	PutDays(ctx context.Context, days []ledger.PreparedDay, sinks []string) (changed []bool, err error)
}

// RunDayBatcher stores the same records with PutDays in one ledger from
// open and with PutDay and Enqueue one by one in another, and compares
// versions, changed flags, histories and the outbox; and checks that
// PutDays refuses records without a key or not prepared.
func RunDayBatcher(t *testing.T, open Open) {
	open = closing(open)

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

	l, ok := open(t).(DayBatcher)
	if !ok {
		t.Fatal("the ledger does not store days in batches")
	}
	batched, single := l, open(t)
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
