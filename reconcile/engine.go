package reconcile

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// Employee computes the final day records of one employee for the shift
// occurrences whose date D (YYYY-MM-DD, in the rules' zone) is within
// [from, to] inclusive and that are final at watermark: window end + settle
// < watermark (strict). Until then an occurrence is not emitted at all.
//
// events are the employee's events (punches, approvals, make-ups) covering
// at least EventSpan(from, to), in any order, possibly with duplicate
// copies; events of other employees are ignored. Records are sorted by date
// then shift name, have Schema set and Version 0 (the ledger assigns
// versions). An occurrence without punches becomes an absent (or rest_day,
// holiday, on_leave) record once final, so calling Employee for every
// employee on the roster yields their absent days too.
//
// The result depends only on the set of distinct events, never on their
// order or on repeated copies.
func (e *Engine) Employee(employeeID string, events []mapping.Event, from, to string, watermark time.Time) ([]mapping.DayRecord, error) {
	if employeeID == "" {
		return nil, errors.New("reconcile: employee id is empty")
	}
	f, ok := parseDay(from)
	if !ok {
		return nil, fmt.Errorf("reconcile: from %q: must be a date YYYY-MM-DD", from)
	}
	t, ok := parseDay(to)
	if !ok {
		return nil, fmt.Errorf("reconcile: to %q: must be a date YYYY-MM-DD", to)
	}
	if t < f {
		return nil, fmt.Errorf("reconcile: to %q is before from %q; the range is inclusive, use to >= from", to, from)
	}

	c := e.collect(employeeID, events)
	d0, d1 := e.rangeFor(f, t)
	occs := e.occurrences(e.assignmentOf(employeeID), d0, d1, make([]occ, 0, int(d1-d0+1)*len(e.def)))

	// Home every punch: the occurrence whose window contains it, else the
	// nearest one.
	loc := locator{occs: occs, span: e.maxWindow()}
	for i := range c.punches {
		p := &c.punches[i]
		if k := loc.contains(p.sec); k >= 0 {
			p.home, p.inWin = int32(k), true
		} else {
			p.home = int32(nearest(occs, p.sec))
		}
	}
	an := anomalies{e: e}
	e.punchAnomalies(c.punches, &an)
	e.locationAnomalies(c.punches, &an)
	for _, ev := range c.pending {
		sec := ev.Time.Unix()
		pl := locator{occs: occs, span: e.maxWindow()}
		k := pl.contains(sec)
		if k < 0 {
			k = nearest(occs, sec)
		}
		an.add(int32(k), sec, AnomalyMakeupPending, ev.ID, "make-up "+string(ev.Makeup.Direction)+" at "+e.clock(sec)+" awaits approval")
	}
	slices.SortFunc(an.list, compareAnom)

	flat, start := countedByOccurrence(c.punches, len(occs))
	wm := watermarkSec(watermark)
	out := make([]mapping.DayRecord, 0, int(t-f+1)*len(e.def))
	b := builder{times: make([]time.Time, 0, 2*len(occs)), idSlab: make([]string, 0, len(flat)+4*(len(c.leave)+len(c.overtime)))}
	ai := 0
	for k := range occs {
		o := &occs[k]
		for ai < len(an.list) && an.list[ai].home < int32(k) {
			ai++
		}
		aj := ai
		for aj < len(an.list) && an.list[aj].home == int32(k) {
			aj++
		}
		if o.d < f || o.d > t || o.we+e.settle >= wm {
			continue
		}
		out = append(out, e.record(&b, employeeID, o, flat[start[k]:start[k+1]], &c, an.list[ai:aj]))
	}
	slices.SortFunc(out, func(a, b mapping.DayRecord) int {
		if c := strings.Compare(a.Date, b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.Shift, b.Shift)
	})
	return out, nil
}

// countedByOccurrence buckets the counted punches (in a window and not a
// duplicate) by occurrence, keeping time order: occurrence k's are
// flat[start[k]:start[k+1]]. Two passes and two allocations, whatever the
// number of occurrences.
func countedByOccurrence(ps []punch, n int) ([]*punch, []int32) {
	start := make([]int32, n+1)
	for i := range ps {
		if p := &ps[i]; p.inWin && p.dupOf == nil {
			start[p.home+1]++
		}
	}
	for k := range n {
		start[k+1] += start[k]
	}
	flat := make([]*punch, start[n])
	fill := start[:n:n]
	for i := range ps {
		if p := &ps[i]; p.inWin && p.dupOf == nil {
			flat[fill[p.home]] = p
			fill[p.home]++
		}
	}
	// fill[k] advanced to the end of bucket k, which is start[k+1]; shift
	// back to get the starts.
	copy(start[1:], start[:n])
	start[0] = 0
	return flat, start
}

// watermarkSec turns the watermark into whole seconds such that
// x < watermark exactly when x < watermarkSec for whole-second x.
func watermarkSec(w time.Time) int64 {
	if w.IsZero() {
		return math.MinInt64
	}
	s := w.Unix()
	if w.Nanosecond() > 0 {
		s++
	}
	return s
}
