package reconcile

import (
	"math"
	"slices"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// builder holds scratch space reused across the records of one call, and
// slabs that the records' first_in, last_out and events point into, so
// that a record costs a handful of allocations, not dozens.
type builder struct {
	counted []*punch
	spans   []span
	ids     []string
	local   []anom
	times   []time.Time // capacity fixed up front: pointers into it stay valid
	idSlab  []string
	tr      *trace // nil except under Explain
}

// instant stores the punch's own time, in the rules' zone, for first_in and
// last_out.
func (b *builder) instant(p *punch, loc *time.Location) *time.Time {
	if len(b.times) == cap(b.times) {
		t := p.ev.Time.In(loc)
		return &t
	}
	b.times = append(b.times, p.ev.Time.In(loc))
	return &b.times[len(b.times)-1]
}

// copyIDs copies ids into the slab; the result has no spare capacity, so
// appending to one record's events never touches another's.
func (b *builder) copyIDs(ids []string) []string {
	if cap(b.idSlab)-len(b.idSlab) < len(ids) {
		b.idSlab = make([]string, 0, max(len(ids), 64))
	}
	n := len(b.idSlab)
	b.idSlab = append(b.idSlab, ids...)
	return b.idSlab[n:len(b.idSlab):len(b.idSlab)]
}

// Missing-punch lists; each record gets its own copy so that callers may
// modify records freely.
func missingList(in, out bool) []string {
	switch {
	case in && out:
		return []string{string(mapping.DirIn), string(mapping.DirOut)}
	case in:
		return []string{string(mapping.DirIn)}
	case out:
		return []string{string(mapping.DirOut)}
	}
	return nil
}

// record computes the day record of occurrence o from its punches ps (in
// its window, duplicates removed, in time order) and the anomalies homed on
// it (sorted). The status is decided in this order:
//
//  1. holiday (or rest_day) when D is a holiday (or one of the rest days)
//     and there are no punches; punches on such a day give present, all of
//     their worked time is overtime under the overtime policy, and no
//     lateness, early exit, missing punch or leave is reported;
//  2. on_leave when approved leave covers the whole scheduled shift;
//  3. absent when there are no punches;
//  4. with effective = worked_minutes + leave_minutes (leave_minutes is the
//     overlap of approved leave with the scheduled shift): absent if
//     absent_below > 0 and effective < absent_below; else half_day if
//     half_day_below > 0 and effective < half_day_below; else present. The
//     comparisons are strict.
//
// Late: first_in exists and first_in > D+S + late_grace (strict), unless
// leave covers the shift start; late_minutes = whole minutes (rounded down)
// from D+S to first_in. Early exit: last_out exists and last_out < end −
// early_exit_grace (strict), unless leave covers the shift end;
// early_exit_minutes = whole minutes (rounded down) from last_out to end.
// Neither flag changes the status. missing lists in when there is no
// first_in and out when there is no last_out (not on rest days, holidays or
// on_leave days, which need no punch). Overtime is the worked time at or
// after end + overtime.after; with requires_approval only the part inside
// approved overtime counts. Worked, leave and overtime time are summed in
// seconds and reported as minutes rounded to the nearest (half up).
func (e *Engine) record(b *builder, emp string, o *occ, ps []*punch, c *collected, homed []anom) mapping.DayRecord {
	s := &e.shifts[o.shift]
	r := mapping.DayRecord{Schema: mapping.DaySchema, EmployeeID: emp, Date: e.dateString(o.d), Shift: s.name}

	// In strict mode a punch without a direction does not count.
	b.counted, b.local, b.ids = b.counted[:0], b.local[:0], b.ids[:0]
	for _, p := range ps {
		if s.strict && p.dir != mapping.DirIn && p.dir != mapping.DirOut {
			if b.tr != nil {
				b.tr.punch(p, false, "unknown direction in strict mode: ignored")
			}
			if !e.disabled[AnomalyUnknownDirection] {
				b.local = append(b.local, anom{sec: p.sec, a: mapping.Anomaly{Type: AnomalyUnknownDirection, EventID: p.ev.ID, Detail: "punch without a direction ignored (directions: strict)"}})
			}
			continue
		}
		b.counted = append(b.counted, p)
		b.ids = append(b.ids, p.ev.ID)
	}
	pr := pair(s, b.counted, b.spans, b.tr)
	b.spans = pr.worked
	if pr.outBeforeIn && !e.disabled[AnomalyOutBeforeIn] {
		b.local = append(b.local, anom{sec: pr.lastOut.sec, a: mapping.Anomaly{Type: AnomalyOutBeforeIn, EventID: pr.lastOut.ev.ID,
			Detail: "last out " + e.clock(pr.lastOut.sec) + " is not after first in " + e.clock(pr.firstIn.sec) + "; worked 0"}})
	}
	var worked int64
	for _, w := range pr.worked {
		worked += w.e - w.s
	}
	r.WorkedMinutes = minutes(worked)
	if pr.firstIn != nil {
		r.FirstIn = b.instant(pr.firstIn, e.loc)
	}
	if pr.lastOut != nil {
		r.LastOut = b.instant(pr.lastOut, e.loc)
	}

	hasPunches := len(b.counted) > 0
	offDay := mapping.DayStatus("")
	switch {
	case e.holidays[o.d]:
		offDay = mapping.DayHoliday
	case e.restDays[o.d.weekday()]:
		offDay = mapping.DayRestDay
	}
	if offDay != "" {
		r.Status = offDay
		why := whyOffDay
		if hasPunches {
			r.Status, why = mapping.DayPresent, whyWorkedOffDay
			r.OvertimeMinutes = minutes(overtimeSec(pr.worked, math.MinInt64, s.otRequiresApproval, c.overtime, &b.ids))
		}
		if b.tr != nil {
			b.tr.decided(facts{o: o, s: s, pr: pr, counted: len(b.counted), off: offDay, why: why, otFrom: math.MinInt64, r: r, overtime: c.overtime})
		}
		return e.finish(b, r, homed)
	}

	lv := leaveCoverage(c.leave, o.start, o.end)
	b.ids = append(b.ids, lv.ids...)
	r.LeaveMinutes = minutes(lv.sec)
	r.OvertimeMinutes = minutes(overtimeSec(pr.worked, o.end+s.otAfter, s.otRequiresApproval, c.overtime, &b.ids))
	var why statusWhy
	switch effective := int64(r.WorkedMinutes+r.LeaveMinutes) * 60; {
	case lv.all:
		r.Status, why = mapping.DayOnLeave, whyOnLeave
	case !hasPunches:
		r.Status, why = mapping.DayAbsent, whyNoPunches
	case s.absentBelow > 0 && effective < s.absentBelow:
		r.Status, why = mapping.DayAbsent, whyAbsentBelow
	case s.halfDayBelow > 0 && effective < s.halfDayBelow:
		r.Status, why = mapping.DayHalfDay, whyHalfDayBelow
	default:
		r.Status, why = mapping.DayPresent, whyPresent
	}
	if pr.firstIn != nil && pr.firstIn.sec > o.start+s.lateGrace && !lv.start {
		r.Late, r.LateMinutes = true, int((pr.firstIn.sec-o.start)/60)
	}
	if pr.lastOut != nil && pr.lastOut.sec < o.end-s.earlyGrace && !lv.end {
		r.EarlyExit, r.EarlyExitMinutes = true, int((o.end-pr.lastOut.sec)/60)
	}
	if r.Status != mapping.DayOnLeave {
		r.Missing = missingList(pr.firstIn == nil, pr.lastOut == nil)
	}
	if b.tr != nil {
		b.tr.decided(facts{o: o, s: s, pr: pr, counted: len(b.counted), lv: lv, why: why, otFrom: o.end + s.otAfter, r: r, overtime: c.overtime})
	}
	return e.finish(b, r, homed)
}

// finish attaches the anomalies and the sorted, de-duplicated event ids.
func (e *Engine) finish(b *builder, r mapping.DayRecord, homed []anom) mapping.DayRecord {
	if len(b.ids) > 0 {
		slices.Sort(b.ids)
		ids := slices.Compact(b.ids)
		r.Events = b.copyIDs(ids)
	}
	if n := len(homed) + len(b.local); n > 0 {
		if len(b.local) > 0 {
			b.local = append(b.local, homed...)
			slices.SortFunc(b.local, compareAnomInDay)
			homed = b.local
		}
		r.Anomalies = make([]mapping.Anomaly, n)
		for i, a := range homed {
			r.Anomalies[i] = a.a
		}
	}
	return r
}
