package reconcile

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// inSpan keeps the events a ledger returns for [start, end): punches and
// make-ups whose time lies in it, approvals whose [start, end] overlaps it.
func inSpan(events []mapping.Event, start, end time.Time) []mapping.Event {
	var out []mapping.Event
	for _, ev := range events {
		if a := ev.Approval; a != nil {
			if !a.End.Before(start) && a.Start.Before(end) {
				out = append(out, ev)
			}
			continue
		}
		if !ev.Time.Before(start) && ev.Time.Before(end) {
			out = append(out, ev)
		}
	}
	return out
}

// TestExplainMatchesEmployee: for every record of the golden company month,
// Explain, given only the events of EventSpan(date, date) as the ledger
// returns them, computes the very record Employee computed from the whole
// month, and says it is final; and every occurrence it calls final has
// such a record. The punches it lists agree with the record: the counted
// ones are exactly the record's punch and make-up events, and every punch
// an anomaly calls unassigned or duplicate is listed as left out.
func TestExplainMatchesEmployee(t *testing.T) {
	e := compile(t, loadCompanyRules(t))
	events := companyEvents(t, e)
	byEmp := map[string][]mapping.Event{}
	kinds := map[string]mapping.Kind{}
	for _, ev := range events {
		byEmp[ev.EmployeeID] = append(byEmp[ev.EmployeeID], ev)
		kinds[ev.ID] = ev.Kind
	}
	first, last := companyMonth+"-01", companyMonth+"-30"
	checked, notFinal := 0, 0
	for _, emp := range companyRoster() {
		recs, err := e.Employee(emp, byEmp[emp], first, last, companyAsOf)
		if err != nil {
			t.Fatal(err)
		}
		want := map[mapping.DayKey]mapping.DayRecord{}
		for _, r := range recs {
			want[r.Key()] = r
		}
		for d := 1; d <= companyDays; d++ {
			date := companyMonth + "-" + twoDigits(d)
			start, end := e.EventSpan(date, date)
			xs, err := e.Explain(emp, inSpan(byEmp[emp], start, end), date, companyAsOf)
			if err != nil {
				t.Fatal(err)
			}
			if len(xs) == 0 {
				t.Fatalf("%s %s: no explanation", emp, date)
			}
			for _, x := range xs {
				key := mapping.DayKey{EmployeeID: emp, Date: date, Shift: x.Shift}
				r, ok := want[key]
				if !x.Final {
					notFinal++
					if ok {
						t.Errorf("%v: Employee emitted a record that Explain calls not final: %s", key, x.FinalReason)
					}
					continue
				}
				if !ok {
					t.Errorf("%v: Explain calls it final, Employee emitted no record", key)
					continue
				}
				delete(want, key)
				checked++
				if !reflect.DeepEqual(x.Record, r) {
					t.Errorf("%v: explained record differs\n got: %s\nwant: %s", key, summary(x.Record), summary(r))
				}
				checkPunchesAgree(t, key, x, kinds)
			}
		}
		for key := range want {
			t.Errorf("%v: Employee emitted a record that Explain did not explain", key)
		}
	}
	t.Logf("%d final records match, %d occurrences not final", checked, notFinal)
	if checked < 1500 || notFinal == 0 {
		t.Errorf("checked %d final records and %d not final ones; the month should give both", checked, notFinal)
	}
}

func checkPunchesAgree(t *testing.T, key mapping.DayKey, x Explanation, kinds map[string]mapping.Kind) {
	t.Helper()
	var counted, want []string
	for _, p := range x.Punches {
		if p.Counted {
			counted = append(counted, p.EventID)
		}
		if p.Reason == "" {
			t.Errorf("%v: punch %s has no reason", key, p.EventID)
		}
	}
	for _, id := range x.Record.Events {
		if k := kinds[id]; k == mapping.KindPunch || k == mapping.KindMakeup {
			want = append(want, id)
		}
	}
	slices.Sort(counted)
	if !slices.Equal(counted, want) {
		t.Errorf("%v: counted punches %v, the record's punch events are %v", key, counted, want)
	}
	for _, a := range x.Record.Anomalies {
		if a.Type != AnomalyUnassignedPunch && a.Type != AnomalyDuplicatePunch && a.Type != AnomalyUnknownDirection {
			continue
		}
		i := slices.IndexFunc(x.Punches, func(p PunchDecision) bool { return p.EventID == a.EventID })
		if i < 0 || x.Punches[i].Counted || !slices.Contains(x.Punches[i].Anomalies, a.Type) {
			t.Errorf("%v: %s punch %s is not listed as left out with its anomaly", key, a.Type, a.EventID)
		}
	}
	if len(x.Rules) == 0 {
		t.Errorf("%v: no rules explained", key)
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// rule returns the decision of the named rule.
func rule(t *testing.T, x Explanation, name string) RuleDecision {
	t.Helper()
	for _, r := range x.Rules {
		if r.Rule == name {
			return r
		}
	}
	t.Fatalf("no %s rule in %+v", name, x.Rules)
	return RuleDecision{}
}

// wantPunch is an expected line of Explanation.Punches, by event index.
type wantPunch struct {
	ev      int
	counted bool
	reason  string // substring
}

// wantRule is an expected rule decision; detail is a substring.
type wantRule struct{ rule, outcome, detail string }

func TestExplain(t *testing.T) {
	night := func(r *Rules) {
		r.Shifts["night"] = Shift{Start: "22:00", End: "06:00", CheckinOpensBefore: time.Hour, CheckoutClosesAfter: time.Hour,
			LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute, AbsentBelow: 2 * time.Hour, HalfDayBelow: 4 * time.Hour,
			Directions: "strict", WorkingHours: "first_last"}
		r.Assign.Employees = map[string]ShiftList{"E1001": {"night"}}
	}
	strictPairs := func(r *Rules) {
		s := r.Shifts["standard"]
		s.Directions, s.WorkingHours = "strict", "every_pair"
		r.Shifts["standard"] = s
	}
	approvalOT := func(r *Rules) {
		s := r.Shifts["standard"]
		s.Overtime.RequiresApproval = true
		r.Shifts["standard"] = s
	}
	const nextNight = "2026-11-21 02:00"
	cases := []struct {
		name      string
		rules     func(*Rules)
		events    func(b *evb) []mapping.Event
		date      string
		watermark string
		status    mapping.DayStatus
		final     string // FinalReason substring
		decisions []wantRule
		punches   []wantPunch
		check     func(t *testing.T, x Explanation, evs []mapping.Event)
	}{{
		name:   "absent with no punches",
		events: func(b *evb) []mapping.Event { return nil },
		status: mapping.DayAbsent,
		final:  "window end 2026-11-20 19:00:00 + settle 0s < watermark 2026-11-21 02:00:00",
		decisions: []wantRule{
			{RuleWorked, "0m", "no counted punches"},
			{RuleAbsent, "applies", "no counted punches in the window 08:00:00–19:00:00"},
			{RuleHalfDay, "not reached", "already absent"},
			{RuleStatus, "absent", "status absent: no counted punches in the window 08:00:00–19:00:00"},
			{RuleLate, "not judged", "no first in"},
			{RuleMissing, "in, out", "in: no counted punch"},
		},
	}, {
		name:   "absent because below absent_below",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00", "2026-11-20 10:35") },
		status: mapping.DayAbsent,
		decisions: []wantRule{
			{RuleWorked, "95m", "last out 10:35:00 − first in 09:00:00 = 1h35m0s, rounded to 95m"},
			{RuleAbsent, "applies", "effective 95m (worked 95m + leave 0m) < absent_below 120m"},
			{RuleStatus, "absent", "status absent: effective 95m (worked 95m + leave 0m) < absent_below 120m"},
			{RuleEarlyExit, "early 445m", "early exit: 10:35:00 < 17:50:00 (end 18:00 − grace 10m)"},
		},
		punches: []wantPunch{{0, true, "counted as first in"}, {1, true, "counted as last out"}},
	}, {
		name:   "half day: between absent_below and half_day_below",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00", "2026-11-20 12:00") },
		status: mapping.DayHalfDay,
		decisions: []wantRule{
			{RuleAbsent, "does not apply", "effective 180m (worked 180m + leave 0m) >= absent_below 120m"},
			{RuleHalfDay, "applies", "effective 180m (worked 180m + leave 0m) < half_day_below 240m"},
			{RuleStatus, "half_day", "status half_day: effective 180m"},
		},
	}, {
		name:   "late beyond the grace",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:12:40", "2026-11-20 18:05") },
		status: mapping.DayPresent,
		decisions: []wantRule{
			{RuleLate, "late 12m", "late: 09:12:40 > 09:10:00 (start 09:00 + grace 10m); late_minutes 12"},
			{RuleEarlyExit, "on time", "on time: 18:05:00 >= 17:50:00 (end 18:00 − grace 10m)"},
			{RuleStatus, "present", "effective 532m (worked 532m + leave 0m) is not below absent_below 120m or half_day_below 240m"},
			{RuleMissing, "none", "first in 09:12:40 and last out 18:05:00 exist"},
		},
	}, {
		name:      "late within the grace is on time",
		events:    func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:10:00", "2026-11-20 18:00") },
		status:    mapping.DayPresent,
		decisions: []wantRule{{RuleLate, "on time", "on time: 09:10:00 <= 09:10:00 (start 09:00 + grace 10m)"}},
	}, {
		name:      "early exit",
		events:    func(b *evb) []mapping.Event { return b.punches("2026-11-20 08:55", "2026-11-20 17:30") },
		status:    mapping.DayPresent,
		decisions: []wantRule{{RuleEarlyExit, "early 30m", "early exit: 17:30:00 < 17:50:00 (end 18:00 − grace 10m); early_exit_minutes 30"}},
	}, {
		name:      "night shift across midnight",
		rules:     night,
		events:    func(b *evb) []mapping.Event { return b.punches("2026-11-20 21:55", "2026-11-21 06:05") },
		watermark: "2026-11-21 08:00",
		status:    mapping.DayPresent,
		final:     "window end 2026-11-21 07:00:00 + settle 0s < watermark 2026-11-21 08:00:00",
		decisions: []wantRule{
			{RuleWorked, "490m", "last out 2026-11-21 06:05:00 − first in 21:55:00 = 8h10m0s, rounded to 490m (directions: strict; working_hours: first_last)"},
			{RuleLate, "on time", "21:55:00 <= 22:10:00 (start 22:00 + grace 10m)"},
			{RuleEarlyExit, "on time", "2026-11-21 06:05:00 >= 2026-11-21 05:50:00 (end 2026-11-21 06:00 − grace 10m)"},
		},
		check: func(t *testing.T, x Explanation, _ []mapping.Event) {
			o := x.Occurrence
			if x.Shift != "night" || !o.ScheduledEnd.Equal(at("2026-11-21 06:00")) || !o.WindowStart.Equal(at("2026-11-20 21:00")) || !o.WindowEnd.Equal(at("2026-11-21 07:00")) {
				t.Errorf("occurrence %+v", o)
			}
		},
	}, {
		name:  "night shift not final before its window closes the next morning",
		rules: night,
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 21:55")
		},
		watermark: "2026-11-21 06:30",
		status:    mapping.DayAbsent,
		final:     "not final: window end 2026-11-21 07:00:00 + settle 0s >= watermark 2026-11-21 06:30:00",
		decisions: []wantRule{{RuleStatus, "absent", "effective 0m (worked 0m + leave 0m) < absent_below 120m"}, {RuleWorked, "0m", "no punch out"}},
		punches:   []wantPunch{{0, true, "counted as first in"}},
	}, {
		name: "unassigned punch homed on this day",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00", "2026-11-20 18:00"), one(b.punch("2026-11-20 03:00", mapping.DirIn)))
		},
		status:  mapping.DayPresent,
		punches: []wantPunch{{2, false, "outside every window: nearest day 2026-11-20 standard; not counted, reported there as unassigned_punch"}},
		check: func(t *testing.T, x Explanation, evs []mapping.Event) {
			if p := x.Punches[0]; p.EventID != evs[2].ID || !slices.Equal(p.Anomalies, []string{AnomalyUnassignedPunch}) {
				t.Errorf("first punch %+v, want the 03:00 one with unassigned_punch", p)
			}
		},
	}, {
		name: "unassigned punch of this date reported on the day before",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00", "2026-11-20 18:00"), one(b.punch("2026-11-20 00:30", mapping.DirIn)))
		},
		status:  mapping.DayPresent,
		punches: []wantPunch{{2, false, "outside every window: nearest day 2026-11-19 standard"}},
		check: func(t *testing.T, x Explanation, evs []mapping.Event) {
			if p := x.Punches[0]; p.EventID != evs[2].ID || p.Elsewhere != "2026-11-19 standard" || len(p.Anomalies) != 0 {
				t.Errorf("first punch %+v, want the 00:30 one placed on 2026-11-19", p)
			}
		},
	}, {
		name: "duplicate punch",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00", "2026-11-20 18:00"), one(b.punch("2026-11-20 09:00", mapping.DirIn)))
		},
		status: mapping.DayPresent,
		check: func(t *testing.T, x Explanation, evs []mapping.Event) {
			i := slices.IndexFunc(x.Punches, func(p PunchDecision) bool { return p.EventID == evs[2].ID })
			if i < 0 || x.Punches[i].Counted || x.Punches[i].Reason != "duplicate of "+evs[0].ID+" at the same second and direction: counted once" {
				t.Errorf("duplicate listed as %+v", x.Punches)
			}
		},
	}, {
		name: "pending make-up",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00"), one(b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusPending)))
		},
		status: mapping.DayAbsent,
		decisions: []wantRule{
			{RuleWorked, "0m", "one punch, so no last out"},
			{RuleMissing, "out", "out: a last out needs a second punch"},
		},
		punches: []wantPunch{{0, true, "counted as first in"}, {1, false, "make-up pending: not counted"}},
		check: func(t *testing.T, x Explanation, evs []mapping.Event) {
			if len(x.Makeups) != 1 || x.Makeups[0].Counted || x.Makeups[0].Status != mapping.StatusPending || x.Makeups[0].EventID != evs[1].ID {
				t.Errorf("makeups %+v", x.Makeups)
			}
		},
	}, {
		name: "approved and rejected make-ups",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00"), one(b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusApproved)),
				one(b.makeup("2026-11-20 17:00", mapping.DirOut, mapping.StatusRejected)))
		},
		status:  mapping.DayPresent,
		punches: []wantPunch{{1, true, "make-up approved; counted as last out"}, {2, false, "make-up rejected: not counted"}},
	}, {
		name: "leave covering half a shift",
		events: func(b *evb) []mapping.Event {
			return cat(one(b.approval(mapping.ApprovalLeave, mapping.StatusApproved, "2026-11-20 09:00", "2026-11-20 13:30", "lv-1")),
				b.punches("2026-11-20 13:25", "2026-11-20 18:05"))
		},
		status: mapping.DayPresent,
		decisions: []wantRule{
			{RuleLeave, "270m", "covers 4h30m0s of the scheduled shift 09:00–18:00: leave_minutes 270; it covers the start, so lateness is not flagged"},
			{RuleLate, "not judged", "approved leave covers the start 09:00; first in 13:25:00"},
			{RuleStatus, "present", "effective 550m (worked 280m + leave 270m)"},
		},
		check: func(t *testing.T, x Explanation, evs []mapping.Event) {
			if len(x.Leave) != 1 || !x.Leave[0].Used || x.Leave[0].ShiftMinutes != 270 || x.Leave[0].ApprovalID != "lv-1" ||
				!strings.Contains(x.Leave[0].Reason, "approved: covers 270m of the scheduled shift 09:00–18:00") {
				t.Errorf("leave %+v", x.Leave)
			}
		},
	}, {
		name: "leave covering the whole shift; pending and trip approvals count for nothing",
		events: func(b *evb) []mapping.Event {
			return []mapping.Event{
				b.approval(mapping.ApprovalLeave, mapping.StatusApproved, "2026-11-20 08:00", "2026-11-20 19:00", "lv-1"),
				b.approval(mapping.ApprovalLeave, mapping.StatusPending, "2026-11-20 12:00", "2026-11-20 13:00", "lv-2"),
				b.approval(mapping.ApprovalTrip, mapping.StatusApproved, "2026-11-20 09:00", "2026-11-20 18:00", "tr-1"),
			}
		},
		status: mapping.DayOnLeave,
		decisions: []wantRule{
			{RuleLeave, "whole shift", "leave_minutes 540"},
			{RuleStatus, "on_leave", "approved leave covers the whole scheduled shift 09:00–18:00"},
			{RuleAbsent, "not reached", ""},
			{RuleMissing, "not judged", "needs no punch"},
		},
		check: func(t *testing.T, x Explanation, _ []mapping.Event) {
			if len(x.Leave) != 2 || x.Leave[1].Used || x.Leave[1].Reason != "pending: covers nothing until approved" {
				t.Errorf("leave %+v", x.Leave)
			}
			if len(x.OtherApprovals) != 1 || x.OtherApprovals[0].Used || !strings.Contains(x.OtherApprovals[0].Reason, "only leave and overtime") {
				t.Errorf("other approvals %+v", x.OtherApprovals)
			}
		},
	}, {
		name:      "not final yet: the watermark is before the window end",
		events:    func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00", "2026-11-20 18:00") },
		watermark: "2026-11-20 18:30",
		status:    mapping.DayPresent,
		final:     "not final: window end 2026-11-20 19:00:00 + settle 0s >= watermark 2026-11-20 18:30:00",
	}, {
		name:      "no watermark",
		events:    func(b *evb) []mapping.Event { return nil },
		watermark: "-",
		status:    mapping.DayAbsent,
		final:     "not final: no watermark",
	}, {
		name: "rest day",
		date: "2026-11-21",
		events: func(b *evb) []mapping.Event {
			return nil
		},
		watermark: "2026-11-22 02:00",
		status:    mapping.DayRestDay,
		decisions: []wantRule{
			{RuleStatus, "rest_day", "status rest_day: 2026-11-21 is a rest day (sat) and there are no counted punches"},
			{RuleLate, "not judged", "2026-11-21 is a rest day (sat)"},
		},
	}, {
		name:  "overtime requires approval",
		rules: approvalOT,
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00", "2026-11-20 19:00"),
				one(b.approval(mapping.ApprovalOvertime, mapping.StatusApproved, "2026-11-20 18:00", "2026-11-20 18:45", "ot-1")))
		},
		status:    mapping.DayPresent,
		decisions: []wantRule{{RuleOvertime, "15m", "worked at or after 18:30 (end 18:00 + after 30m): 30m0s; overtime.requires_approval: 15m of it inside approved overtime"}},
		check: func(t *testing.T, x Explanation, _ []mapping.Event) {
			if len(x.Overtime) != 1 || !x.Overtime[0].Used {
				t.Errorf("overtime %+v", x.Overtime)
			}
		},
	}, {
		name:  "strict every_pair: unpaired punches are ignored by the pairing",
		rules: strictPairs,
		events: func(b *evb) []mapping.Event {
			return []mapping.Event{
				b.punch("2026-11-20 08:50", mapping.DirOut),
				b.punch("2026-11-20 09:00", mapping.DirIn),
				b.punch("2026-11-20 09:05", mapping.DirIn),
				b.punch("2026-11-20 12:00", mapping.DirOut),
				b.punch("2026-11-20 13:00", mapping.DirUnknown),
				b.punch("2026-11-20 13:05", mapping.DirIn),
			}
		},
		status: mapping.DayHalfDay,
		decisions: []wantRule{
			{RuleWorked, "180m", "pairs 09:00:00–12:00:00 = 3h0m0s, rounded to 180m (directions: strict; working_hours: every_pair)"},
		},
		punches: []wantPunch{
			{0, true, "counted; an out with no open in: ignored"},
			{1, true, "counted as first in; opens pair 1"},
			{2, true, "an in while a pair is open: ignored, the earlier in is kept"},
			{3, true, "counted as last out; closes pair 1"},
			{4, false, "unknown direction in strict mode: ignored"},
			{5, true, "opens pair 2, which no out closes"},
		},
	}, {
		name: "a not_signed placeholder is no punch",
		events: func(b *evb) []mapping.Event {
			evs := b.punches("2026-11-20 09:00", "2026-11-20 18:00")
			evs[1].Punch = &mapping.Punch{Direction: mapping.DirOut, Method: mapping.MethodApp, PlatformResult: "not_signed"}
			return evs
		},
		status:  mapping.DayAbsent,
		punches: []wantPunch{{1, false, "(not_signed): not a punch"}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := testRules()
			if c.rules != nil {
				c.rules(&r)
			}
			e := compile(t, r)
			b := &evb{emp: "E1001"}
			evs := c.events(b)
			date := orDefault(c.date, "2026-11-20")
			var wm time.Time
			switch c.watermark {
			case "":
				wm = at(nextNight)
			case "-":
			default:
				wm = at(c.watermark)
			}
			xs, err := e.Explain("E1001", evs, date, wm)
			if err != nil {
				t.Fatal(err)
			}
			if len(xs) != 1 {
				t.Fatalf("%d explanations, want 1", len(xs))
			}
			x := xs[0]
			if x.Record.Status != c.status {
				t.Errorf("status %s, want %s", x.Record.Status, c.status)
			}
			if !strings.Contains(x.FinalReason, c.final) {
				t.Errorf("final reason %q, want it to contain %q", x.FinalReason, c.final)
			}
			recs, err := e.Employee("E1001", evs, date, date, wm)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case x.Final && (len(recs) != 1 || !reflect.DeepEqual(recs[0], x.Record)):
				t.Errorf("Employee gives %v, Explain %s", summaries(recs), summary(x.Record))
			case !x.Final && len(recs) != 0:
				t.Errorf("not final, but Employee gives %v", summaries(recs))
			}
			for _, w := range c.decisions {
				got := rule(t, x, w.rule)
				if got.Outcome != w.outcome || !strings.Contains(got.Detail, w.detail) {
					t.Errorf("%s: got %q %q\nwant %q, detail containing %q", w.rule, got.Outcome, got.Detail, w.outcome, w.detail)
				}
			}
			for _, w := range c.punches {
				i := slices.IndexFunc(x.Punches, func(p PunchDecision) bool { return p.EventID == evs[w.ev].ID })
				if i < 0 {
					t.Errorf("event %d (%s) not listed in %+v", w.ev, evs[w.ev].ID, x.Punches)
					continue
				}
				if p := x.Punches[i]; p.Counted != w.counted || !strings.Contains(p.Reason, w.reason) {
					t.Errorf("event %d: counted=%v %q, want counted=%v and %q", w.ev, p.Counted, p.Reason, w.counted, w.reason)
				}
			}
			if c.check != nil {
				c.check(t, x, evs)
			}
			var buf bytes.Buffer
			if err := x.Text(&buf); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.decisions {
				if !strings.Contains(buf.String(), w.detail) {
					t.Errorf("text lacks %q:\n%s", w.detail, buf.String())
				}
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestExplainSharedWindows: with two shifts a day the explanation shows
// both occurrences and the window edge they share.
func TestExplainSharedWindows(t *testing.T) {
	r := testRules()
	r.Shifts["early"] = Shift{Start: "07:00", End: "11:00", CheckinOpensBefore: time.Hour, CheckoutClosesAfter: 2 * time.Hour}
	r.Shifts["late"] = Shift{Start: "12:00", End: "16:00", CheckinOpensBefore: 2 * time.Hour, CheckoutClosesAfter: time.Hour}
	r.Assign.Default = ShiftList{"early", "late"}
	e := compile(t, r)
	b := &evb{emp: "E1001"}
	evs := b.punches("2026-11-20 07:00", "2026-11-20 11:00", "2026-11-20 12:00", "2026-11-20 16:00")
	xs, err := e.Explain("E1001", evs, "2026-11-20", farFuture)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 2 || xs[0].Shift != "early" || xs[1].Shift != "late" {
		t.Fatalf("explanations %+v", xs)
	}
	if !strings.Contains(xs[0].Occurrence.Detail, "its end moved to 11:00:00") || !strings.Contains(xs[1].Occurrence.Detail, "its start moved to 11:00:00") {
		t.Errorf("details %q / %q", xs[0].Occurrence.Detail, xs[1].Occurrence.Detail)
	}
	if len(xs[0].Punches) != 2 || len(xs[1].Punches) != 2 || xs[0].Punches[1].EventID != evs[1].ID {
		t.Errorf("punches %+v / %+v", xs[0].Punches, xs[1].Punches)
	}
}

func TestExplainJSONAndErrors(t *testing.T) {
	e := compile(t, testRules())
	b := &evb{emp: "E1001"}
	xs, err := e.Explain("E1001", b.punches("2026-11-20 09:00", "2026-11-20 18:00"), "2026-11-20", farFuture)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(xs[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"employee_id", "date", "shift", "occurrence", "final", "final_reason", "punches", "rules", "leave", "overtime", "other_approvals", "makeups", "record"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, data)
		}
	}
	if occ := m["occurrence"].(map[string]any); occ["window_start"] != "2026-11-20T08:00:00+08:00" {
		t.Errorf("window_start %v", occ["window_start"])
	}
	if _, err := e.Explain("", nil, "2026-11-20", farFuture); err == nil {
		t.Error("empty employee accepted")
	}
	if _, err := e.Explain("E1001", nil, "2026-11-31", farFuture); err == nil || !strings.Contains(err.Error(), `"2026-11-31"`) {
		t.Errorf("bad date: %v", err)
	}
}
