package jobs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// oneByOne hides the ledger's DayBatcher and DueReader, so that
// reconciliation stores with PutDay and Enqueue and the push reads each
// round of the outbox after the last.
type oneByOne struct{ ledger.Ledger }

// staff replaces the fixture's users with n mapped ones, job numbers
// formatted by jobNumber, each punching in on the 18th to the 20th and out
// on the days where out(i, date) holds.
func (f *fixture) staff(n int, jobNumber string, out func(i int, date string) bool) {
	f.src.users = nil
	for i := range n {
		u := fmt.Sprintf("u%d", i)
		f.src.users = append(f.src.users, connectors.User{UserID: u, JobNumber: fmt.Sprintf(jobNumber, i)})
		for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-20"} {
			f.src.add(u, at(d, "08:55"), at(d, "08:56"))
			if out(i, d) {
				f.src.add(u, at(d, "18:05"), at(d, "18:06"))
			}
		}
	}
}

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
	defer func(n, m int) { dayBatch, dirtyChunk = n, m }(dayBatch, dirtyChunk)
	dayBatch, dirtyChunk = 50, 7
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
		f.staff(60, "E%03d", func(i int, d string) bool { return i%7 != 0 || d != "2026-11-19" })
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
// until reconciliation ends, so a run must drop its records and dirty days
// once they are stored, or a month's would all stay in memory at once.
func TestStoredRunsLetGoOfTheirRecords(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var failed error
	w := startDayWriter(ctx, f.job, &Report{}, func(err error) { failed = err })
	var runs []*employeeRun
	for i := range 3 {
		emp := fmt.Sprintf("E%03d", i)
		recs := []mapping.DayRecord{{EmployeeID: emp, Date: "2026-11-20", Shift: "standard", Status: mapping.DayAbsent}}
		dirty := []ledger.DirtyDay{{EmployeeDay: mapping.EmployeeDay{EmployeeID: emp, Date: "2026-11-20"}, Generation: 1}}
		r := &employeeRun{emp: emp, from: "2026-11-20", to: "2026-11-20", recs: recs, days: ledger.PrepareDays(recs), dirty: dirty}
		runs = append(runs, r)
		w.add(r)
	}
	w.close()
	if failed != nil {
		t.Fatal(failed)
	}
	for _, r := range runs {
		if r.recs != nil || r.days != nil || r.dirty != nil {
			t.Errorf("run of %s still holds %d records, %d prepared days and %d dirty days after they were stored", r.emp, len(r.recs), len(r.days), len(r.dirty))
		}
	}
	if w.rep.DaysReconciled != 3 || w.rep.DaysChanged != 3 {
		t.Errorf("report %+v, want 3 days reconciled and changed", w.rep)
	}
}

// storeGate is a ledger whose first PutDays waits until the events of an
// employee after ahead (in the order of employee ids) have been read, or a
// second has passed.
type storeGate struct {
	ledger.Ledger
	ahead     string
	readAhead chan struct{} // closed when such an employee is read
	closeOnce sync.Once
	putOnce   sync.Once
	overlap   bool // whether the first PutDays saw it
}

func (g *storeGate) Events(ctx context.Context, emp string, from, to time.Time) ([]mapping.Event, error) {
	if emp > g.ahead {
		g.closeOnce.Do(func() { close(g.readAhead) })
	}
	return g.Ledger.Events(ctx, emp, from, to)
}

func (g *storeGate) PutDays(ctx context.Context, days []ledger.PreparedDay, sinks []string) ([]bool, error) {
	g.putOnce.Do(func() {
		select {
		case <-g.readAhead:
			g.overlap = true
		case <-time.After(time.Second):
		}
	})
	return g.Ledger.(DayBatcher).PutDays(ctx, days, sinks)
}

// TestWorkersComputeWhileABatchIsStored: while the ledger's one writer
// stores a batch, the workers go on through the next batch and beyond,
// instead of stopping a few employees later until the store is done.
func TestWorkersComputeWhileABatchIsStored(t *testing.T) {
	ctx := context.Background()
	defer func(n int) { dayBatch = n }(dayBatch)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // two workers
	dayBatch = 30                                   // ten employees' three days
	f := newFixture(t)
	f.staff(30, "E%02d", func(int, string) bool { return true })
	// Storing on the collecting goroutine, the workers could compute at
	// most two employees each past the first batch (E00..E09) during its
	// store: E13 at most.
	gate := &storeGate{Ledger: f.ledger, ahead: "E15", readAhead: make(chan struct{})}
	f.job.Ledger = gate
	rep, err := f.job.Run(ctx, at("2026-11-21", "02:00"))
	if err != nil {
		t.Fatal(err)
	}
	if !gate.overlap {
		t.Error("no employee after E15 was read while the first batch (E00..E09) was being stored")
	}
	if rep.DaysReconciled != 90 || rep.DaysChanged != 90 {
		t.Errorf("reconciled %d, changed %d; want 30 employees' three days", rep.DaysReconciled, rep.DaysChanged)
	}
}

// putFails is a ledger whose PutDays fails.
type putFails struct{ ledger.Ledger }

func (putFails) PutDays(context.Context, []ledger.PreparedDay, []string) ([]bool, error) {
	return nil, errors.New("database or disk is full")
}

// TestAFailedStoreStopsTheRun: a batch that cannot be stored fails the
// run with the ledger's error, and leaves every day dirty.
func TestAFailedStoreStopsTheRun(t *testing.T) {
	ctx := context.Background()
	defer func(n int) { dayBatch = n }(dayBatch)
	dayBatch = 3
	f := newFixture(t)
	f.week()
	f.job.Ledger = putFails{f.ledger}
	rep, err := f.job.Run(ctx, at("2026-11-21", "02:00"))
	if err == nil || !strings.Contains(err.Error(), "store 3 days of E") || !strings.Contains(err.Error(), "database or disk is full") {
		t.Fatalf("Run = %v, want the failed store of an employee's three days", err)
	}
	if rep.DaysReconciled != 0 {
		t.Errorf("reported %d days reconciled, want 0", rep.DaysReconciled)
	}
	left, err := f.ledger.DirtyDays(ctx)
	if err != nil || len(left) != 8 {
		t.Errorf("dirty after the failed run = %v, %v; want all 8 days", left, err)
	}
}

// markedDuring is a ledger that marks day dirty again when its employee's
// events are first read, as a late punch arriving mid-run would, and that
// refuses to list every dirty day at once.
type markedDuring struct {
	ledger.Ledger
	day  mapping.EmployeeDay
	once sync.Once
}

func (m *markedDuring) Events(ctx context.Context, emp string, from, to time.Time) ([]mapping.Event, error) {
	var err error
	if emp == m.day.EmployeeID {
		m.once.Do(func() { err = m.Ledger.MarkDirty(ctx, []mapping.EmployeeDay{m.day}) })
	}
	if err != nil {
		return nil, err
	}
	return m.Ledger.Events(ctx, emp, from, to)
}

func (m *markedDuring) DirtyDays(context.Context) ([]mapping.EmployeeDay, error) {
	return nil, errors.New("reconciliation listed every dirty day at once")
}

// TestDayMarkedDuringItsRunStaysDirty: reconciliation reads employees'
// dirty days before their events, and clears only the generations it
// read, so a day marked again while its employee is being computed is left
// for the next run; the other days are cleared. Nor does it list the
// month's dirty days whole. Both when the employees' dirty days are read
// in one call and one employee at a time.
func TestDayMarkedDuringItsRunStaysDirty(t *testing.T) {
	defer func(n int) { dirtyChunk = n }(dirtyChunk)
	for _, chunk := range []int{1, 256} {
		t.Run(fmt.Sprintf("chunk %d", chunk), func(t *testing.T) {
			dirtyChunk = chunk
			ctx := context.Background()
			f := newFixture(t)
			f.week()
			late := mapping.EmployeeDay{EmployeeID: "E1", Date: "2026-11-19"}
			f.job.Ledger = &markedDuring{Ledger: f.ledger, day: late}
			rep, err := f.job.Run(ctx, at("2026-11-21", "02:00"))
			if err != nil {
				t.Fatal(err)
			}
			if rep.DaysReconciled == 0 {
				t.Fatalf("report %+v, want days reconciled", rep)
			}
			left, err := f.ledger.DirtyDays(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Saturday the 21st stays dirty too: the watermark has not closed it.
			want := []mapping.EmployeeDay{late, {EmployeeID: "E1", Date: "2026-11-21"}, {EmployeeID: "E2", Date: "2026-11-21"}}
			if !reflect.DeepEqual(left, want) {
				t.Errorf("dirty after the run = %v, want %v: the day marked during it and the open Saturday", left, want)
			}
			if _, err := f.job.Run(ctx, at("2026-11-24", "10:00")); err != nil {
				t.Fatal(err)
			}
			if left, err = f.ledger.DirtyDays(ctx); err != nil || len(left) != 0 {
				t.Errorf("dirty after the next run = %v, %v; want none", left, err)
			}
		})
	}
}

// dirtyFails is a ledger whose dirty days cannot be read.
type dirtyFails struct{ ledger.Ledger }

func (dirtyFails) DirtyDaysBetween(context.Context, string, string, string, string) ([]ledger.DirtyDay, error) {
	return nil, errors.New("disk I/O error")
}

// TestDirtyDaysUnreadStopTheRun: when the dirty days cannot be read the
// run fails, saying so, and every dirty day stays dirty.
func TestDirtyDaysUnreadStopTheRun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.week()
	f.job.Ledger = dirtyFails{f.ledger}
	_, err := f.job.Run(ctx, at("2026-11-21", "02:00"))
	if err == nil || !strings.Contains(err.Error(), "read dirty days of E1..E2") || !strings.Contains(err.Error(), "disk I/O error") {
		t.Fatalf("Run = %v, want the failed read of E1..E2's dirty days", err)
	}
	left, err := f.ledger.DirtyDays(ctx)
	if err != nil || len(left) != 8 {
		t.Errorf("dirty after the failed run = %v, %v; want all 8 days (E1 and E2, the 18th to the 21st)", left, err)
	}
}
