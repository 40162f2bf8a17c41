package reconcile

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// occ is one shift occurrence of one employee: shift on date d.
type occ struct {
	d          day
	shift      int32
	start, end int64 // scheduled instants D+S and end, Unix seconds
	ows        int64 // window start before edge sharing: the sort key
	ws, we     int64 // window after edge sharing; both edges inclusive
}

// occurrences builds the employee's occurrences for dates d0..d1, sorted by
// window start, with windows shared at the edges:
//
//   - a shift with start S and end E on date D runs from D+S to D+E, or to
//     (D+1)+E when E <= S; its window is [D+S − checkin_opens_before,
//     end + checkout_closes_after], both edges inclusive;
//   - for each consecutive pair (by window start), the later one's window
//     start becomes max(earlier's scheduled end, its own window start), and
//     the earlier one's window end becomes min(the later one's window start,
//     its own window end).
//
// Ties in window start are broken by scheduled start, then date, then shift
// name, so the order is total.
func (e *Engine) occurrences(a assignment, d0, d1 day, buf []occ) []occ {
	out := buf[:0]
	for d := d0; d <= d1; d++ {
		for _, si := range a.on(d) {
			s := &e.shifts[si]
			start := e.at(d, s.startMin)
			endDay := d
			if s.overnight {
				endDay++
			}
			end := e.at(endDay, s.endMin)
			ws := start - s.open
			out = append(out, occ{d: d, shift: si, start: start, end: end, ows: ws, ws: ws, we: end + s.close})
		}
	}
	slices.SortFunc(out, func(x, y occ) int {
		if c := cmp.Compare(x.ows, y.ows); c != 0 {
			return c
		}
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		if c := cmp.Compare(x.d, y.d); c != 0 {
			return c
		}
		return cmp.Compare(e.shifts[x.shift].name, e.shifts[y.shift].name)
	})
	for i := 0; i+1 < len(out); i++ {
		a, b := &out[i], &out[i+1]
		b.ws = max(a.end, b.ws)
		a.we = min(b.ws, a.we)
	}
	return out
}

// maxWindow bounds any window's length in seconds (plus an hour for a DST
// change), so that a scan for the occurrence containing t can start at the
// first occurrence whose window could still reach t.
func (e *Engine) maxWindow() int64 { return e.maxOff - e.minOff + 3600 }

// locator finds the occurrence of ascending instants in one pass.
type locator struct {
	occs []occ
	lo   int
	span int64
}

// contains returns the index of the occurrence whose window contains t
// (ws <= t <= we); on a shared edge the earlier occurrence wins. Calls must
// come with non-decreasing t. It returns -1 when no window contains t.
func (l *locator) contains(t int64) int {
	for l.lo < len(l.occs) && l.occs[l.lo].ows < t-l.span {
		l.lo++
	}
	for k := l.lo; k < len(l.occs) && l.occs[k].ows <= t; k++ {
		if o := &l.occs[k]; o.ws <= t && t <= o.we {
			return k
		}
	}
	return -1
}

// nearest returns the occurrence whose window is nearest to t (distance
// ws − t before it, t − we after it); a tie goes to the earlier one.
func nearest(occs []occ, t int64) int {
	best, bestDist := -1, int64(math.MaxInt64)
	for k := range occs {
		o := &occs[k]
		var dist int64
		switch {
		case t < o.ws:
			dist = o.ws - t
		case t > o.we:
			dist = t - o.we
		}
		if dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

// rangeFor is the date range whose occurrences Employee builds for from..to:
// wide enough that every occurrence whose window or gap could touch an
// occurrence of from..to is present with its neighbours.
func (e *Engine) rangeFor(from, to day) (day, day) {
	return from - day(e.spanBefore) - 1, to + day(e.spanAfter) + 1
}

// EventSpan is the instant range [start, end) of events needed to compute
// the dates from..to: punches and make-ups whose time lies in it, and
// approvals whose [start, end] overlaps it. It widens the dates by the
// largest window margins and the longest overnight shift, plus a day for
// punches between windows (which belong to the nearest one) and the
// anomalies lookback for location_jump. Invalid dates give zero times.
func (e *Engine) EventSpan(from, to string) (start, end time.Time) {
	f, ok1 := parseDay(from)
	t, ok2 := parseDay(to)
	if !ok1 || !ok2 {
		return time.Time{}, time.Time{}
	}
	d0, d1 := e.rangeFor(f, t)
	return time.Unix(e.at(d0, 0)-e.lookback, 0).In(e.loc), time.Unix(e.at(d1+1, 0), 0).In(e.loc)
}

// DatesFor returns the dates D whose shift occurrences for this employee
// could be affected by an event at instant t, sorted: the occurrence whose
// window contains t or is nearest to it, and those of the punches up to the
// anomalies lookback after t, whose location_jump checks compare with t.
// It is DatesBetween(t, t + lookback).
func (e *Engine) DatesFor(employeeID string, t time.Time) []string {
	return e.DatesBetween(employeeID, t, t.Add(time.Duration(e.lookback)*time.Second))
}

// DatesBetween returns the dates D, sorted, whose occurrences for this
// employee could be affected by events anywhere in [start, end]: an
// approval covering that span, or punches within it. An occurrence is
// affected when [start, end] meets its catchment: its window, widened to
// the midpoints of the gaps to the previous and the next window, which
// holds every punch that could be nearest to it.
func (e *Engine) DatesBetween(employeeID string, start, end time.Time) []string {
	s, t := start.Unix(), end.Unix()
	if t < s {
		s, t = t, s
	}
	// Windows of earlier dates reach forward by up to spanAfter days, and
	// those of later dates back by up to spanBefore; one more date on each
	// side supplies the neighbours.
	d0 := e.dayOfInstant(s) - day(e.spanAfter) - 1
	d1 := e.dayOfInstant(t) + day(e.spanBefore) + 1
	// Every ingested event asks this for its days: a few days' occurrences
	// fit a buffer on the stack.
	var buf [8]occ
	occs := e.occurrences(e.assignmentOf(employeeID), d0, d1, buf[:0])
	var out []string
	last := day(math.MinInt32)
	for i := range occs {
		// The outermost occurrences lack a neighbour; they lie before s
		// and after t, so their own window is enough.
		lo, hi := occs[i].ws, occs[i].we
		if i > 0 {
			lo = min(lo, midpoint(occs[i-1].we, occs[i].ws))
		}
		if i+1 < len(occs) {
			hi = max(hi, midpoint(occs[i].we, occs[i+1].ws)+1)
		}
		if lo <= t && s <= hi && occs[i].d != last {
			out = append(out, occs[i].d.String())
			last = occs[i].d
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// midpoint of a and b, rounded down.
func midpoint(a, b int64) int64 { return a + (b-a)/2 }
