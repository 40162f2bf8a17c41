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

	p := e.prepare(employeeID, events, f, t, nil)
	wm := watermarkSec(watermark)
	out := make([]mapping.DayRecord, 0, int(t-f+1)*len(e.def))
	b := builder{times: make([]time.Time, 0, 2*len(p.occs)), idSlab: make([]string, 0, len(p.flat)+4*(len(p.c.leave)+len(p.c.overtime)))}
	ai := 0
	for k := range p.occs {
		o := &p.occs[k]
		var aj int
		ai, aj = p.anomaliesOf(k, ai)
		if o.d < f || o.d > t || !e.final(o, wm) {
			continue
		}
		out = append(out, e.record(&b, employeeID, o, p.counted(k), &p.c, p.an[ai:aj]))
	}
	slices.SortFunc(out, func(a, b mapping.DayRecord) int {
		if c := strings.Compare(a.Date, b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.Shift, b.Shift)
	})
	return out, nil
}

// prepared is one employee's events placed on the occurrences around a
// date range: what Employee and Explain both compute records from.
type prepared struct {
	c     collected
	occs  []occ
	an    []anom   // sorted by home occurrence, then within the day
	flat  []*punch // the counted punches of occurrence k: flat[start[k]:start[k+1]]
	start []int32
}

// prepare resolves emp's events (collect), builds the occurrences around
// f..t, homes every punch in the occurrence whose window contains it, else
// the nearest one, and gathers the anomalies of single punches, locations
// and pending make-ups. tr, when not nil, records the decisions for
// Explain.
func (e *Engine) prepare(emp string, events []mapping.Event, f, t day, tr *trace) prepared {
	c := e.collect(emp, events, tr)
	d0, d1 := e.rangeFor(f, t)
	occs := e.occurrences(e.assignmentOf(emp), d0, d1, make([]occ, 0, int(d1-d0+1)*len(e.def)))

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
		k := e.homeOf(occs, ev.Time.Unix())
		if tr != nil {
			tr.pendingAt[ev] = k
		}
		an.add(k, ev.Time.Unix(), AnomalyMakeupPending, ev.ID, "make-up "+string(ev.Makeup.Direction)+" at "+e.clock(ev.Time.Unix())+" awaits approval")
	}
	slices.SortFunc(an.list, compareAnom)

	flat, start := countedByOccurrence(c.punches, len(occs))
	return prepared{c: c, occs: occs, an: an.list, flat: flat, start: start}
}

// homeOf is the occurrence an event at sec belongs to: the one whose window
// contains it, else the nearest one.
func (e *Engine) homeOf(occs []occ, sec int64) int32 {
	l := locator{occs: occs, span: e.maxWindow()}
	if k := l.contains(sec); k >= 0 {
		return int32(k)
	}
	return int32(nearest(occs, sec))
}

// counted is occurrence k's counted punches, in time order.
func (p *prepared) counted(k int) []*punch { return p.flat[p.start[k]:p.start[k+1]] }

// anomaliesOf returns the bounds [lo, hi) of occurrence k's anomalies in
// p.an, searching from index from (the lo of an earlier occurrence).
func (p *prepared) anomaliesOf(k, from int) (lo, hi int) {
	lo = from
	for lo < len(p.an) && p.an[lo].home < int32(k) {
		lo++
	}
	hi = lo
	for hi < len(p.an) && p.an[hi].home == int32(k) {
		hi++
	}
	return lo, hi
}

// final reports whether occurrence o is final at watermark wm (see
// watermarkSec): its window end (after edge sharing) + settle < the
// watermark, strictly.
func (e *Engine) final(o *occ, wm int64) bool { return o.we+e.settle < wm }

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
