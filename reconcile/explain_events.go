package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/punchbridge/punchbridge/mapping"
)

// explainer lists the events of the explained date under its occurrences.
type explainer struct {
	e     *Engine
	tr    *trace
	p     *prepared
	d     day
	slots []slot
}

// slot is one occurrence of the explained date and its explanation.
type slot struct {
	k    int32 // index in p.occs
	o    *occ
	ends [2]*punch // first in and last out, as record chose them
	x    Explanation
}

func (ex *explainer) add(k int, x Explanation) {
	x.Punches, x.Leave, x.Overtime, x.OtherApprovals, x.Makeups = []PunchDecision{}, []ApprovalUse{}, []ApprovalUse{}, []ApprovalUse{}, []MakeupUse{}
	ex.slots = append(ex.slots, slot{k: int32(k), o: &ex.p.occs[k], ends: ex.tr.ends, x: x})
}

// place returns the slot an event belongs under: the one of its home
// occurrence, else, for an event whose local date is the explained date,
// the slot whose window is nearest; foreign reports that the event belongs
// to another occurrence. ok is false for events of other dates.
func (ex *explainer) place(home int32, sec int64) (s *slot, foreign, ok bool) {
	for i := range ex.slots {
		if ex.slots[i].k == home {
			return &ex.slots[i], false, true
		}
	}
	if ex.e.dayOfInstant(sec) != ex.d {
		return nil, false, false
	}
	occs := make([]occ, len(ex.slots))
	for i := range ex.slots {
		occs[i] = *ex.slots[i].o
	}
	return &ex.slots[nearest(occs, sec)], true, true
}

// where names an occurrence: "2026-11-19 night".
func (ex *explainer) where(k int32) string {
	o := &ex.p.occs[k]
	return o.d.String() + " " + ex.e.shifts[o.shift].name
}

// punches lists the punches, pending make-ups and set-aside events.
func (ex *explainer) punches() {
	for i := range ex.p.c.punches {
		q := &ex.p.c.punches[i]
		s, foreign, ok := ex.place(q.home, q.sec)
		if !ok {
			continue
		}
		var counted bool
		var reason string
		switch {
		case !q.inWin:
			reason = "outside every window: nearest day " + ex.where(q.home) + "; not counted, reported there as unassigned_punch"
		case q.dupOf != nil:
			reason = "duplicate of " + q.dupOf.ID + " at the same second and direction: counted once"
		case foreign:
			reason = "counted for " + ex.where(q.home) + ", whose window contains it"
		default:
			counted, reason = ex.tr.reason(q, s.ends)
		}
		if q.makeup && !counted {
			reason = "make-up approved; " + reason
		}
		ex.list(s, q.ev, q.dir, counted, reason, foreign, q.home)
	}
	for _, ev := range ex.p.c.pending {
		k := ex.tr.pendingAt[ev]
		if s, foreign, ok := ex.place(k, ev.Time.Unix()); ok {
			reason := "make-up pending: not counted"
			if foreign {
				reason += ", reported on " + ex.where(k) + " as makeup_pending"
			}
			ex.list(s, ev, ev.Makeup.Direction, false, reason, foreign, k)
		}
	}
	for _, dr := range ex.tr.dropped {
		sec := dr.ev.Time.Unix()
		k := ex.e.homeOf(ex.p.occs, sec)
		if s, foreign, ok := ex.place(k, sec); ok {
			dir := mapping.DirUnknown
			if dr.ev.Punch != nil {
				dir = dr.ev.Punch.Direction
			} else if dr.ev.Makeup != nil {
				dir = dr.ev.Makeup.Direction
			}
			ex.list(s, dr.ev, dir, false, dr.reason, foreign, k)
		}
	}
	for i := range ex.slots {
		slices.SortFunc(ex.slots[i].x.Punches, func(a, b PunchDecision) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return strings.Compare(a.EventID, b.EventID)
		})
		slices.SortFunc(ex.slots[i].x.Makeups, func(a, b MakeupUse) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return strings.Compare(a.EventID, b.EventID)
		})
	}
}

// list adds one event to s. foreign says it belongs to occurrence home,
// not to s's; otherwise the record's anomalies about it apply.
func (ex *explainer) list(s *slot, ev *mapping.Event, dir mapping.Direction, counted bool, reason string, foreign bool, home int32) {
	d := PunchDecision{EventID: ev.ID, Time: ev.Time.In(ex.e.loc), Direction: dir, Method: mapping.MethodMakeup, Counted: counted, Reason: reason}
	if ev.Punch != nil {
		d.Method = ev.Punch.Method
	}
	if foreign {
		d.Elsewhere = ex.where(home)
	} else {
		for _, a := range s.x.Record.Anomalies {
			if a.EventID == ev.ID && !slices.Contains(d.Anomalies, a.Type) {
				d.Anomalies = append(d.Anomalies, a.Type)
			}
		}
	}
	s.x.Punches = append(s.x.Punches, d)
	if m := ev.Makeup; m != nil {
		s.x.Makeups = append(s.x.Makeups, MakeupUse{EventID: ev.ID, ApprovalID: m.ApprovalID, Time: d.Time, Direction: m.Direction,
			Status: m.Status, Counted: counted, Reason: reason})
	}
}

// approvals lists the approvals overlapping each occurrence, in the
// revision collect resolved, and whether the record used them: the record's
// events name every approval that contributed leave or overtime.
func (ex *explainer) approvals() {
	for _, ev := range ex.tr.approvals {
		a := ev.Approval
		as, ae := a.Start.Unix(), a.End.Unix()
		for i := range ex.slots {
			s := &ex.slots[i]
			o := s.o
			if as >= max(o.we, o.end) || ae <= min(o.ws, o.start) {
				continue
			}
			u := ApprovalUse{EventID: ev.ID, ApprovalID: a.ApprovalID, Type: a.Type, LeaveType: a.LeaveType, Status: a.Status,
				Start: a.Start.In(ex.e.loc), End: a.End.In(ex.e.loc), ShiftMinutes: minutes(overlap(as, ae, o.start, o.end)),
				Used: slices.Contains(s.x.Record.Events, ev.ID)}
			u.Reason = ex.approvalReason(s, u)
			switch a.Type {
			case mapping.ApprovalLeave:
				s.x.Leave = append(s.x.Leave, u)
			case mapping.ApprovalOvertime:
				s.x.Overtime = append(s.x.Overtime, u)
			default:
				s.x.OtherApprovals = append(s.x.OtherApprovals, u)
			}
		}
	}
	for i := range ex.slots {
		x := &ex.slots[i].x
		for _, l := range [][]ApprovalUse{x.Leave, x.Overtime, x.OtherApprovals} {
			slices.SortFunc(l, func(a, b ApprovalUse) int {
				return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.EventID, b.EventID))
			})
		}
	}
}

func (ex *explainer) approvalReason(s *slot, u ApprovalUse) string {
	shift := ex.tr.hm(s.o.start) + "–" + ex.tr.hm(s.o.end)
	off := s.x.Record.Status == mapping.DayRestDay || s.x.Record.Status == mapping.DayHoliday || ex.e.holidays[s.o.d] || ex.e.restDays[s.o.d.weekday()]
	switch {
	case u.Type != mapping.ApprovalLeave && u.Type != mapping.ApprovalOvertime:
		return u.Type + " approval: only leave and overtime approvals affect a day"
	case u.Status == mapping.StatusPending:
		return "pending: covers nothing until approved"
	case u.Status != mapping.StatusApproved:
		return string(u.Status) + ": covers nothing"
	case u.Type == mapping.ApprovalLeave && u.Used:
		return fmt.Sprintf("approved: covers %dm of the scheduled shift %s", u.ShiftMinutes, shift)
	case u.Type == mapping.ApprovalLeave && off:
		return "approved, but leave is not counted on a rest day or holiday"
	case u.Type == mapping.ApprovalLeave:
		return "approved, but it does not overlap the scheduled shift " + shift
	case u.Used:
		return "approved: worked time inside it counts as overtime"
	case !ex.e.shifts[s.o.shift].otRequiresApproval:
		return "approved, but not needed: overtime on this shift requires no approval"
	}
	return "approved, but no worked time past the overtime threshold falls inside it"
}
