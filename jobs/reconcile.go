package jobs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// settleMargin is how far behind the watermark a dirty date must lie before
// it is cleared even though no record came back for it: by then every
// occurrence dated that day (overnight shifts end the next day, plus their
// checkout windows) has closed, so nothing further can be computed for it.
const settleMargin = 48 * time.Hour

// reconcile recomputes, for every employee on the roster, the dates from
// the start of the look-back window (or the employee's oldest dirty date, if
// older) to the date of the employee's watermark, stores changed day records
// as new versions and queues them for every sink.
func (s *Sync) reconcile(ctx context.Context, now time.Time, wms watermarks, rep *Report) error {
	loc := s.Engine.Location()
	from := now.Add(-s.Lookback).In(loc).Format(time.DateOnly)

	dirty, err := s.Ledger.DirtyDays(ctx)
	if err != nil {
		return fmt.Errorf("sync: list dirty days: %w", err)
	}
	dirtyBy := map[string][]string{}
	for _, d := range dirty {
		dirtyBy[d.EmployeeID] = append(dirtyBy[d.EmployeeID], d.Date)
	}
	roster, err := s.roster(ctx, dirtyBy)
	if err != nil {
		return err
	}
	for _, emp := range roster {
		wm := wms.For(s.Identities.Tenants(emp))
		if wm.IsZero() {
			continue // a source feeding this employee has never been pulled
		}
		to := wm.In(loc).Format(time.DateOnly)
		clearBefore := wm.Add(-settleMargin).In(loc).Format(time.DateOnly)
		efrom := from
		for _, d := range dirtyBy[emp] {
			if d < efrom {
				efrom = d
			}
		}
		if efrom > to {
			continue
		}
		got, err := s.reconcileEmployee(ctx, emp, efrom, to, wm, rep)
		if err != nil {
			return err
		}
		var done []mapping.EmployeeDay
		for _, d := range dirtyBy[emp] {
			if d <= to && (got[d] || d < clearBefore) {
				done = append(done, mapping.EmployeeDay{EmployeeID: emp, Date: d})
			}
		}
		if err := s.clearDirty(ctx, done); err != nil {
			return err
		}
	}
	return nil
}

// reconcileEmployee computes one employee's days and reports which dates
// produced a record.
func (s *Sync) reconcileEmployee(ctx context.Context, emp, from, to string, wm time.Time, rep *Report) (map[string]bool, error) {
	start, end := s.Engine.EventSpan(from, to)
	events, err := s.Ledger.Events(ctx, emp, start, end)
	if err != nil {
		return nil, fmt.Errorf("sync: load events of %s: %w", emp, err)
	}
	recs, err := s.Engine.Employee(emp, events, from, to, wm)
	if err != nil {
		return nil, fmt.Errorf("sync: reconcile %s %s..%s: %w", emp, from, to, err)
	}
	got := make(map[string]bool, len(recs))
	for _, rec := range recs {
		got[rec.Date] = true
		stored, changed, err := s.Ledger.PutDay(ctx, rec)
		if err != nil {
			return nil, fmt.Errorf("sync: store day %s %s: %w", emp, rec.Date, err)
		}
		rep.DaysReconciled++
		if !changed {
			continue
		}
		rep.DaysChanged++
		for _, sink := range s.Sinks {
			if carriesEvents(sink) {
				continue // it gets the events, not the day
			}
			if err := s.Ledger.Enqueue(ctx, sink.Name(), stored); err != nil {
				return nil, fmt.Errorf("sync: queue day %s %s v%d for %s: %w", emp, rec.Date, stored.Version, sink.Name(), err)
			}
		}
	}
	return got, nil
}

// roster is every employee that can have a day: those the directories map,
// those with events, and those with dirty days.
func (s *Sync) roster(ctx context.Context, dirtyBy map[string][]string) ([]string, error) {
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
	for e := range dirtyBy {
		set[e] = true
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out, nil
}

func (s *Sync) clearDirty(ctx context.Context, days []mapping.EmployeeDay) error {
	if len(days) == 0 {
		return nil
	}
	if err := s.Ledger.ClearDirty(ctx, days); err != nil {
		return fmt.Errorf("sync: clear %d dirty days: %w", len(days), err)
	}
	return nil
}
