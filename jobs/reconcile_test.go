package jobs

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// oneByOne hides the ledger's DayBatcher and DueReader, so that
// reconciliation stores with PutDay and Enqueue and the push reads each
// round of the outbox after the last.
type oneByOne struct{ ledger.Ledger }

// TestReconcileWritesTheSameWithOrWithoutBatches runs the nightly job over
// many employees twice, once storing days in batches and once a day at a
// time, and compares the reports, the days and what was pushed; a second
// run after a late punch must give one correction in both.
func TestReconcileWritesTheSameWithOrWithoutBatches(t *testing.T) {
	ctx := context.Background()
	type outcome struct {
		reports []Report
		days    []mapping.DayRecord
		pushed  map[string]int
	}
	defer func(n int) { dayBatch = n }(dayBatch)
	dayBatch = 50
	run := func(batched bool) outcome {
		f := newFixture(t)
		if _, ok := f.ledger.(DayBatcher); !ok {
			t.Fatalf("%T is not a DayBatcher", f.ledger)
		}
		if !batched {
			f.job.Ledger = oneByOne{f.ledger}
		}
		// Rounds of 7 due entries: the batched ledger, a DueReader, reads
		// each round while the last is delivered; oneByOne reads after.
		f.job.Push.Batch = 7
		// 60 employees over three days: several batches of days.
		f.src.users = nil
		for i := range 60 {
			u := fmt.Sprintf("u%d", i)
			f.src.users = append(f.src.users, connectors.User{UserID: u, JobNumber: fmt.Sprintf("E%03d", i)})
			for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-20"} {
				f.src.add(u, at(d, "08:55"), at(d, "08:56"))
				if i%7 != 0 || d != "2026-11-19" {
					f.src.add(u, at(d, "18:05"), at(d, "18:06"))
				}
			}
		}
		var o outcome
		rep, err := f.job.Run(ctx, at("2026-11-21", "02:00"))
		if err != nil {
			t.Fatal(err)
		}
		o.reports = append(o.reports, rep)
		// A late punch out for E007's Thursday.
		f.src.add("u7", at("2026-11-19", "18:01"), at("2026-11-22", "09:00"))
		if rep, err = f.job.Run(ctx, at("2026-11-22", "10:00")); err != nil {
			t.Fatal(err)
		}
		o.reports = append(o.reports, rep)
		if o.days, err = f.ledger.Days(ctx, "", "2026-11-18", "2026-11-20"); err != nil {
			t.Fatal(err)
		}
		o.pushed = f.sink.delivered()
		return o
	}
	batched, single := run(true), run(false)
	for i := range batched.reports {
		b, s := batched.reports[i], single.reports[i]
		if b.DaysReconciled != s.DaysReconciled || b.DaysChanged != s.DaysChanged || b.RecordsPushed != s.RecordsPushed {
			t.Errorf("run %d: batched reconciled %d changed %d pushed %d; one by one %d, %d, %d",
				i+1, b.DaysReconciled, b.DaysChanged, b.RecordsPushed, s.DaysReconciled, s.DaysChanged, s.RecordsPushed)
		}
	}
	if got := batched.reports[0].DaysReconciled; got != 180 {
		t.Errorf("first run reconciled %d days, want 60 employees × 3", got)
	}
	// The second run corrects E007's Thursday and adds the Saturday, a
	// rest day, that the later watermark closed.
	if got := batched.reports[1].DaysChanged; got != 61 {
		t.Errorf("second run changed %d days, want 60 Saturdays and the corrected Thursday", got)
	}
	if !reflect.DeepEqual(batched.days, single.days) {
		t.Error("the stored days differ between batched and one-by-one writes")
	}
	if !reflect.DeepEqual(batched.pushed, single.pushed) || len(batched.pushed) != 241 {
		t.Errorf("pushed %d versions batched, %d one by one; want 241 each", len(batched.pushed), len(single.pushed))
	}
}

// TestStoredRunsLetGoOfTheirRecords: the plan holds every employee's run
// until reconciliation ends, so a run must drop its records once they are
// stored, or a month's records would all stay in memory at once.
func TestStoredRunsLetGoOfTheirRecords(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	w := dayWriter{s: f.job, rep: &Report{}}
	var runs []*employeeRun
	for i := range 3 {
		emp := fmt.Sprintf("E%03d", i)
		recs := []mapping.DayRecord{{EmployeeID: emp, Date: "2026-11-20", Shift: "standard", Status: mapping.DayAbsent}}
		r := &employeeRun{emp: emp, from: "2026-11-20", to: "2026-11-20", recs: recs, days: ledger.PrepareDays(recs)}
		runs = append(runs, r)
		if err := w.add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.recs != nil || r.days != nil {
			t.Errorf("run of %s still holds %d records and %d prepared days after they were stored", r.emp, len(r.recs), len(r.days))
		}
	}
	if w.rep.DaysReconciled != 3 || w.rep.DaysChanged != 3 {
		t.Errorf("report %+v, want 3 days reconciled and changed", w.rep)
	}
}
