package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// Rule names of RuleDecision.Rule, in the order Explain reports them.
const (
	RuleWorked    = "worked"
	RuleLeave     = "leave"
	RuleAbsent    = "absent"
	RuleHalfDay   = "half_day"
	RuleStatus    = "status"
	RuleLate      = "late"
	RuleEarlyExit = "early_exit"
	RuleMissing   = "missing"
	RuleOvertime  = "overtime"
)

// Outcomes shared by several rules.
const (
	outcomeApplies    = "applies"
	outcomeNotApplied = "does not apply"
	outcomeNotReached = "not reached"
	outcomeDisabled   = "disabled"
	outcomeNotJudged  = "not judged"
	outcomeOnTime     = "on time"
)

func (t *trace) add(rule, outcome, detail string) {
	t.rules = append(t.rules, RuleDecision{Rule: rule, Outcome: outcome, Detail: detail})
}

// decided states each rule of one record with the numbers record compared;
// the outcomes are record's own (f.r and f.why), never decided again here.
func (t *trace) decided(f facts) {
	t.rules = nil
	t.ends = [2]*punch{f.pr.firstIn, f.pr.lastOut}
	r := &f.r
	t.add(RuleWorked, fmt.Sprintf("%dm", r.WorkedMinutes), t.worked(f))
	if f.off != "" {
		t.offDay(f)
		return
	}
	t.leave(f)
	t.status(f)
	t.lateness(f)
	t.missing(f)
	t.add(RuleOvertime, fmt.Sprintf("%dm", r.OvertimeMinutes), t.overtimeDetail(f,
		"worked at or after "+t.hm(f.otFrom)+" (end "+t.hm(f.o.end)+" + after "+dur(f.s.otAfter)+")"))
}

func (t *trace) worked(f facts) string {
	s, pr, r := f.s, &f.pr, &f.r
	mode := "directions: alternate, own directions ignored; working_hours: first_last"
	switch {
	case s.strict && s.everyPair:
		mode = "directions: strict; working_hours: every_pair"
	case s.strict:
		mode = "directions: strict; working_hours: first_last"
	case s.everyPair:
		mode = "directions: alternate, own directions ignored; working_hours: every_pair"
	}
	var sum int64
	for _, w := range pr.worked {
		sum += w.e - w.s
	}
	total := fmt.Sprintf("%s, rounded to %dm (%s)", time.Duration(sum)*time.Second, r.WorkedMinutes, mode)
	switch {
	case f.counted == 0:
		return "no counted punches: worked 0m"
	case !s.everyPair && len(pr.worked) == 1:
		return "last out " + t.clock(pr.lastOut.sec) + " − first in " + t.clock(pr.firstIn.sec) + " = " + total
	case s.everyPair && len(pr.worked) > 0:
		spans := make([]string, len(pr.worked))
		for i, w := range pr.worked {
			spans[i] = t.clock(w.s) + "–" + t.clock(w.e)
		}
		return "pairs " + strings.Join(spans, " + ") + " = " + total
	case pr.outBeforeIn:
		return "last out " + t.clock(pr.lastOut.sec) + " is not after first in " + t.clock(pr.firstIn.sec) + ": worked 0m (" + mode + ")"
	case s.everyPair:
		return "no in→out pair closes: worked 0m (" + mode + ")"
	case pr.firstIn == nil:
		return "no punch in: worked 0m (" + mode + ")"
	case pr.lastOut == nil && !s.strict:
		return "one punch, so no last out: worked 0m (" + mode + ")"
	}
	return "no punch out: worked 0m (" + mode + ")"
}

// offDay states the rules of a rest day or holiday, where only the status
// and overtime are decided.
func (t *trace) offDay(f facts) {
	kind := "a rest day (" + strings.ToLower(f.o.d.weekday().String()[:3]) + ")"
	if f.off == mapping.DayHoliday {
		kind = "a holiday"
	}
	for _, rule := range []string{RuleLeave, RuleAbsent, RuleHalfDay} {
		t.add(rule, outcomeNotJudged, "not judged: "+f.o.d.String()+" is "+kind)
	}
	detail := "status " + string(f.r.Status) + ": " + f.o.d.String() + " is " + kind + " and there are no counted punches"
	if f.why == whyWorkedOffDay {
		detail = fmt.Sprintf("status present: %d counted punches on %s, whose worked time all counts as overtime", f.counted, kind)
	}
	t.add(RuleStatus, string(f.r.Status), detail)
	for _, rule := range []string{RuleLate, RuleEarlyExit, RuleMissing} {
		t.add(rule, outcomeNotJudged, "not judged: "+f.o.d.String()+" is "+kind)
	}
	t.add(RuleOvertime, fmt.Sprintf("%dm", f.r.OvertimeMinutes), t.overtimeDetail(f, "worked on "+kind))
}

func (t *trace) leave(f facts) {
	lv, o := &f.lv, f.o
	shift := t.hm(o.start) + "–" + t.hm(o.end)
	if len(lv.ids) == 0 {
		t.add(RuleLeave, "0m", "no approved leave overlaps the scheduled shift "+shift)
		return
	}
	outcome := fmt.Sprintf("%dm", f.r.LeaveMinutes)
	if lv.all {
		outcome = "whole shift"
	}
	detail := fmt.Sprintf("approved leave %s covers %s of the scheduled shift %s: leave_minutes %d",
		strings.Join(lv.ids, ", "), time.Duration(lv.sec)*time.Second, shift, f.r.LeaveMinutes)
	if lv.start {
		detail += "; it covers the start, so lateness is not flagged"
	}
	if lv.end {
		detail += "; it covers the end, so an early exit is not flagged"
	}
	t.add(RuleLeave, outcome, detail)
}

func (t *trace) status(f facts) {
	s, r := f.s, &f.r
	eff := fmt.Sprintf("effective %dm (worked %dm + leave %dm)", r.WorkedMinutes+r.LeaveMinutes, r.WorkedMinutes, r.LeaveMinutes)
	window := t.clock(f.o.ws) + "–" + t.clock(f.o.we)
	threshold := func(name string, below int64, applies bool) (string, string) {
		switch {
		case below == 0:
			return outcomeDisabled, name + " is 0"
		case applies:
			return outcomeApplies, eff + " < " + name + " " + mins(below)
		}
		return outcomeNotApplied, eff + " >= " + name + " " + mins(below)
	}

	var absentOut, absentDetail, halfOut, halfDetail, status string
	switch f.why {
	case whyOnLeave:
		absentOut, absentDetail = outcomeNotReached, "approved leave covers the whole shift, so the day is on_leave"
		halfOut, halfDetail = absentOut, absentDetail
		status = "approved leave covers the whole scheduled shift " + t.hm(f.o.start) + "–" + t.hm(f.o.end)
	case whyNoPunches:
		absentOut, absentDetail = outcomeApplies, "no counted punches in the window "+window
		halfOut, halfDetail = outcomeNotReached, "the day is already absent"
		status = absentDetail
	case whyAbsentBelow:
		absentOut, absentDetail = threshold("absent_below", s.absentBelow, true)
		halfOut, halfDetail = outcomeNotReached, "the day is already absent"
		status = absentDetail
	default:
		absentOut, absentDetail = threshold("absent_below", s.absentBelow, false)
		halfOut, halfDetail = threshold("half_day_below", s.halfDayBelow, f.why == whyHalfDayBelow)
		switch {
		case f.why == whyHalfDayBelow:
			status = halfDetail
		case s.absentBelow == 0 && s.halfDayBelow == 0:
			status = "counted punches, and neither absent_below nor half_day_below is set"
		default:
			var met []string
			if s.absentBelow > 0 {
				met = append(met, "absent_below "+mins(s.absentBelow))
			}
			if s.halfDayBelow > 0 {
				met = append(met, "half_day_below "+mins(s.halfDayBelow))
			}
			status = eff + " is not below " + strings.Join(met, " or ")
		}
	}
	t.add(RuleAbsent, absentOut, absentDetail)
	t.add(RuleHalfDay, halfOut, halfDetail)
	t.add(RuleStatus, string(r.Status), "status "+string(r.Status)+": "+status)
}

func (t *trace) lateness(f facts) {
	o, s, pr, r := f.o, f.s, &f.pr, &f.r
	start := "start " + t.hm(o.start) + " + grace " + dur(s.lateGrace)
	switch {
	case r.Late:
		t.add(RuleLate, fmt.Sprintf("late %dm", r.LateMinutes), fmt.Sprintf("late: %s > %s (%s); late_minutes %d, whole minutes from %s",
			t.clock(pr.firstIn.sec), t.clock(o.start+s.lateGrace), start, r.LateMinutes, t.hm(o.start)))
	case pr.firstIn == nil:
		t.add(RuleLate, outcomeNotJudged, "no first in")
	case f.lv.start:
		t.add(RuleLate, outcomeNotJudged, "approved leave covers the start "+t.hm(o.start)+"; first in "+t.clock(pr.firstIn.sec))
	default:
		t.add(RuleLate, outcomeOnTime, "on time: "+t.clock(pr.firstIn.sec)+" <= "+t.clock(o.start+s.lateGrace)+" ("+start+")")
	}
	end := "end " + t.hm(o.end) + " − grace " + dur(s.earlyGrace)
	switch {
	case r.EarlyExit:
		t.add(RuleEarlyExit, fmt.Sprintf("early %dm", r.EarlyExitMinutes), fmt.Sprintf("early exit: %s < %s (%s); early_exit_minutes %d, whole minutes to %s",
			t.clock(pr.lastOut.sec), t.clock(o.end-s.earlyGrace), end, r.EarlyExitMinutes, t.hm(o.end)))
	case pr.lastOut == nil:
		t.add(RuleEarlyExit, outcomeNotJudged, "no last out")
	case f.lv.end:
		t.add(RuleEarlyExit, outcomeNotJudged, "approved leave covers the end "+t.hm(o.end)+"; last out "+t.clock(pr.lastOut.sec))
	default:
		t.add(RuleEarlyExit, outcomeOnTime, "on time: "+t.clock(pr.lastOut.sec)+" >= "+t.clock(o.end-s.earlyGrace)+" ("+end+")")
	}
}

func (t *trace) missing(f facts) {
	r := &f.r
	switch {
	case r.Status == mapping.DayOnLeave:
		t.add(RuleMissing, outcomeNotJudged, "an on_leave day needs no punch")
		return
	case len(r.Missing) == 0:
		t.add(RuleMissing, "none", "first in "+t.clock(f.pr.firstIn.sec)+" and last out "+t.clock(f.pr.lastOut.sec)+" exist")
		return
	}
	var why []string
	for _, m := range r.Missing {
		switch {
		case m == string(mapping.DirIn) && f.s.strict:
			why = append(why, "in: no counted punch in")
		case m == string(mapping.DirIn):
			why = append(why, "in: no counted punch")
		case f.s.strict && f.s.everyPair:
			why = append(why, "out: no out closes a pair")
		case f.s.strict:
			why = append(why, "out: no counted punch out")
		default:
			why = append(why, "out: a last out needs a second punch (directions: alternate)")
		}
	}
	t.add(RuleMissing, strings.Join(r.Missing, ", "), strings.Join(why, "; "))
}

// overtimeDetail states the overtime of f: the worked time from f.otFrom on
// (the same sum record takes, here without the approval filter), and, when
// the shift requires approval, how much of it approved overtime covers.
func (t *trace) overtimeDetail(f facts, from string) string {
	var ids []string
	raw := overtimeSec(f.pr.worked, f.otFrom, false, nil, &ids)
	if raw == 0 {
		return "no worked time " + strings.TrimPrefix(from, "worked ")
	}
	detail := from + ": " + (time.Duration(raw) * time.Second).String()
	if !f.s.otRequiresApproval {
		return detail + "; no approval required (overtime.requires_approval: false)"
	}
	var used []string
	overtimeSec(f.pr.worked, f.otFrom, true, f.overtime, &used)
	if len(used) == 0 {
		return detail + "; overtime.requires_approval, and no approved overtime covers it: 0m"
	}
	return fmt.Sprintf("%s; overtime.requires_approval: %dm of it inside approved overtime %s", detail, f.r.OvertimeMinutes, strings.Join(compactIDs(used), ", "))
}

// compactIDs drops repeated ids, keeping the first of each.
func compactIDs(ids []string) []string {
	out := ids[:0:0]
	for _, id := range ids {
		if indexOf(out, id) < 0 {
			out = append(out, id)
		}
	}
	return out
}
