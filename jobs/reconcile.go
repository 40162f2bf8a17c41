package jobs

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// settleMargin is how far behind the watermark a dirty date must lie before
// it is cleared even though no record came back for it: by then every
// occurrence dated that day (overnight shifts end the next day, plus their
// checkout windows) has closed, so nothing further can be computed for it.
const settleMargin = 48 * time.Hour

// dayBatch is how many day records reconciliation stores in one write when
// the ledger can store several at once (DayBatcher); tests lower it.
var dayBatch = 1000

// dirtyChunk is how many employees' dirty days reconciliation reads at a
// time: enough that a read's fixed cost is spread thin, few enough that
// their days (a month each at most, usually) take little memory. Tests
// lower it.
var dirtyChunk = 256

// DayBatcher is a ledger that stores several day records in one
// transaction: each as PutDay would, one after another, and each changed
// one queued for every sink in sinks as Enqueue would; it reports which
// changed. Both ledgers implement it; reconciliation falls back to
// PutDay and Enqueue for a ledger that does not.
type DayBatcher interface {
	PutDays(ctx context.Context, days []ledger.PreparedDay, sinks []string) (changed []bool, err error)
}

// employeeRun is the work of reconciling one employee.
type employeeRun struct {
	emp, from, to string
	wm            time.Time
	clearBefore   string            // dirty dates before it are cleared even without a record
	earliest      string            // the earliest dirty date when planned; "" if none
	dirty         []ledger.DirtyDay // the dirty days from..to, read before the events
	recs          []mapping.DayRecord
	days          []ledger.PreparedDay // recs prepared, for a DayBatcher
	err           error
}

// reconcile recomputes, for every employee on the roster, the dates from
// the start of the look-back window (or the employee's oldest dirty date, if
// older) to the date of the employee's watermark, stores changed day records
// as new versions and queues them for every sink.
//
// Employees are the unit of work. A pool of one worker per core loads one
// employee's events and computes the days; this goroutine collects the
// records of finished employees into batches of dayBatch records, and the
// day writer's goroutine stores each batch in one transaction and then
// clears its dirty days, while the workers go on. Memory grows with the
// employees in flight (the workers', and up to three batches), never with
// the whole period's events. The first error stops the run: what was stored
// stays stored, and the days not yet cleared stay dirty for the next run.
func (s *Sync) reconcile(ctx context.Context, now time.Time, wms watermarks, rep *Report) error {
	runs, err := s.plan(ctx, now, wms)
	if err != nil || len(runs) == 0 {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := min(runtime.GOMAXPROCS(0), len(runs))
	pending := make(chan *employeeRun)
	done := make(chan *employeeRun, workers)
	go func() {
		defer close(pending)
		for chunk := range slices.Chunk(runs, dirtyChunk) {
			if err := s.readDirty(ctx, chunk); err != nil {
				// Handed on as a run's error, which stops reconciliation;
				// no worker computes it.
				chunk[0].err = err
				select {
				case pending <- chunk[0]:
				case <-ctx.Done():
				}
				return
			}
			for _, r := range chunk {
				select {
				case pending <- r:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	// A DayBatcher's days are prepared here, on every core, rather than by
	// the ledger's one writer.
	_, batched := s.Ledger.(DayBatcher)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range pending {
				if r.err == nil {
					r.recs, r.err = s.computeEmployee(ctx, r)
				}
				if batched && r.err == nil {
					r.days = ledger.PrepareDays(r.recs)
				}
				select {
				case done <- r:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()

	// The first error stops the run and is the one reported: the errors
	// that follow it are its cancellation's.
	var (
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	w := startDayWriter(ctx, s, rep, fail)
	for r := range done {
		switch {
		case failed():
			continue // drain until the workers stop
		case r.err != nil:
			fail(r.err)
		default:
			w.add(r)
		}
	}
	if failed() {
		// The batch being stored may be cut short; what was stored stays.
		w.stop()
	} else {
		w.close()
	}
	return firstErr
}

// plan lists the employees to reconcile and each one's range of dates,
// sorted by employee. It reads one row an employee, the earliest dirty
// date, not the dirty days themselves: a month of a large company's is
// millions, and they are read a few hundred employees at a time as their
// runs start (readDirty).
func (s *Sync) plan(ctx context.Context, now time.Time, wms watermarks) ([]*employeeRun, error) {
	loc := s.Engine.Location()
	from := now.Add(-s.Lookback).In(loc).Format(time.DateOnly)
	dirty, err := s.Ledger.DirtyEmployees(ctx)
	if err != nil {
		return nil, fmt.Errorf("sync: list employees with dirty days: %w", err)
	}
	earliest := make(map[string]string, len(dirty))
	for _, d := range dirty {
		earliest[d.EmployeeID] = d.Earliest
	}
	roster, err := s.roster(ctx, earliest)
	if err != nil {
		return nil, err
	}
	var runs []*employeeRun
	for _, emp := range roster {
		wm := wms.For(s.Identities.Tenants(emp))
		if wm.IsZero() {
			continue // a source feeding this employee has never been pulled
		}
		r := &employeeRun{emp: emp, from: from, to: wm.In(loc).Format(time.DateOnly), wm: wm,
			clearBefore: wm.Add(-settleMargin).In(loc).Format(time.DateOnly), earliest: earliest[emp]}
		if r.earliest != "" && r.earliest < r.from {
			r.from = r.earliest
		}
		if r.from > r.to {
			continue
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// readDirty reads the dirty days of a chunk of runs, sorted by employee,
// in one call, and gives each run its own within its dates. It runs before
// any of their events are read: a day marked again after this read keeps
// a newer generation and stays dirty, whether or not the events read
// later include what marked it.
func (s *Sync) readDirty(ctx context.Context, runs []*employeeRun) error {
	byEmp := make(map[string]*employeeRun, len(runs))
	var from, to string
	for _, r := range runs {
		if r.earliest == "" {
			continue // none when planned; any marked since wait for the next run
		}
		byEmp[r.emp] = r
		if from == "" || r.from < from {
			from = r.from
		}
		to = max(to, r.to)
	}
	if len(byEmp) == 0 {
		return nil
	}
	first, last := runs[0].emp, runs[len(runs)-1].emp
	days, err := s.Ledger.DirtyDaysBetween(ctx, first, last, from, to)
	if err != nil {
		return fmt.Errorf("sync: read dirty days of %s..%s: %w", first, last, err)
	}
	for _, d := range days {
		if r := byEmp[d.EmployeeID]; r != nil && d.Date >= r.from && d.Date <= r.to {
			r.dirty = append(r.dirty, d)
		}
	}
	return nil
}

// computeEmployee loads one employee's events and computes the days.
func (s *Sync) computeEmployee(ctx context.Context, r *employeeRun) ([]mapping.DayRecord, error) {
	start, end := s.Engine.EventSpan(r.from, r.to)
	events, err := s.Ledger.Events(ctx, r.emp, start, end)
	if err != nil {
		return nil, fmt.Errorf("sync: load events of %s: %w", r.emp, err)
	}
	recs, err := s.Engine.Employee(r.emp, events, r.from, r.to, r.wm)
	if err != nil {
		return nil, fmt.Errorf("sync: reconcile %s %s..%s: %w", r.emp, r.from, r.to, err)
	}
	return recs, nil
}

// dayWriter stores computed employees in batches and clears their dirty
// days once their records are stored. The reconcile goroutine adds runs;
// a goroutine of the writer's own stores each full batch, so that the
// workers compute the next batch while the ledger's one writer stores this
// one (storing on the reconcile goroutine left both cores idle in turn).
// At most three batches are held: one being filled, one waiting, one being
// stored.
type dayWriter struct {
	s       *Sync
	rep     *Report // written by the storing goroutine until it is done
	pending []*employeeRun
	n       int // records pending

	batches chan []*employeeRun
	done    chan struct{}
}

// startDayWriter starts the storing goroutine. A failed store is handed to
// fail, which stops the run; the batches after it are not stored.
func startDayWriter(ctx context.Context, s *Sync, rep *Report, fail func(error)) *dayWriter {
	w := &dayWriter{s: s, rep: rep, batches: make(chan []*employeeRun, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		stopped := false
		for b := range w.batches {
			if stopped {
				continue // drain, so that add never blocks on a writer that stopped
			}
			if err := w.store(ctx, b); err != nil {
				stopped = true
				fail(err)
			}
		}
	}()
	return w
}

// add queues r's records, and hands the batch to the storing goroutine
// once it holds dayBatch records.
func (w *dayWriter) add(r *employeeRun) {
	w.pending = append(w.pending, r)
	w.n += len(r.recs)
	if w.n >= dayBatch {
		w.batches <- w.pending
		w.pending, w.n = nil, 0
	}
}

// close stores what is pending and waits for every batch to be stored.
func (w *dayWriter) close() {
	if len(w.pending) > 0 {
		w.batches <- w.pending
		w.pending, w.n = nil, 0
	}
	w.stop()
}

// stop waits for the batches handed on so far, and drops what is pending.
func (w *dayWriter) stop() {
	close(w.batches)
	<-w.done
}

// store writes a batch's records, queues the changed ones for the sinks
// and clears the batch's finished dirty days.
func (w *dayWriter) store(ctx context.Context, batch []*employeeRun) error {
	var sinks []string
	for _, sink := range w.s.Sinks {
		if !carriesEvents(sink) { // such a sink gets the events, not the day
			sinks = append(sinks, sink.Name())
		}
	}
	n := 0
	for _, r := range batch {
		n += len(r.recs)
	}
	changed, err := w.put(ctx, batch, n, sinks)
	if err != nil {
		return err
	}
	w.rep.DaysReconciled += n
	w.rep.DaysChanged += changed
	var finished []ledger.DirtyDay
	for _, r := range batch {
		got := make(map[string]bool, len(r.recs))
		for _, rec := range r.recs {
			got[rec.Date] = true
		}
		for _, d := range r.dirty {
			if got[d.Date] || d.Date < r.clearBefore {
				finished = append(finished, d)
			}
		}
	}
	// The plan holds every employee's run until reconciliation ends; a
	// stored run's records and dirty days must not stay reachable through it.
	for _, r := range batch {
		r.recs, r.days, r.dirty = nil, nil, nil
	}
	return w.s.clearDirty(ctx, finished)
}

// put writes the n records of a batch and queues the changed ones for
// sinks, and returns how many changed: in one transaction when the ledger
// is a DayBatcher, else a PutDay and an Enqueue at a time.
func (w *dayWriter) put(ctx context.Context, batch []*employeeRun, n int, sinks []string) (int, error) {
	if n == 0 {
		return 0, nil
	}
	if b, ok := w.s.Ledger.(DayBatcher); ok {
		days := make([]ledger.PreparedDay, 0, n)
		for _, r := range batch {
			days = append(days, r.days...)
		}
		changed, err := b.PutDays(ctx, days, sinks)
		if err != nil {
			first, last := days[0].Record, days[len(days)-1].Record
			return 0, fmt.Errorf("sync: store %d days of %s..%s: %w", len(days), first.EmployeeID, last.EmployeeID, err)
		}
		count := 0
		for _, c := range changed {
			if c {
				count++
			}
		}
		return count, nil
	}
	count := 0
	for _, r := range batch {
		for _, rec := range r.recs {
			stored, changed, err := w.s.Ledger.PutDay(ctx, rec)
			if err != nil {
				return count, fmt.Errorf("sync: store day %s %s: %w", rec.EmployeeID, rec.Date, err)
			}
			if !changed {
				continue
			}
			count++
			for _, sink := range sinks {
				if err := w.s.Ledger.Enqueue(ctx, sink, stored); err != nil {
					return count, fmt.Errorf("sync: queue day %s %s v%d for %s: %w", rec.EmployeeID, rec.Date, stored.Version, sink, err)
				}
			}
		}
	}
	return count, nil
}

// roster is every employee that can have a day: those the directories map,
// those with events, and those with dirty days.
func (s *Sync) roster(ctx context.Context, dirty map[string]string) ([]string, error) {
	set := map[string]bool{}
	for _, e := range s.Identities.Employees() {
		set[e] = true
	}
	withEvents, err := s.Ledger.Employees(ctx)
	if err != nil {
		return nil, fmt.Errorf("sync: list employees: %w", err)
	}
	for _, e := range withEvents {
		set[e] = true
	}
	for e := range dirty {
		set[e] = true
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out, nil
}

func (s *Sync) clearDirty(ctx context.Context, days []ledger.DirtyDay) error {
	if len(days) == 0 {
		return nil
	}
	if err := s.Ledger.ClearDirty(ctx, days); err != nil {
		return fmt.Errorf("sync: clear %d dirty days: %w", len(days), err)
	}
	return nil
}
