package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// Explanation says how the day record of one shift occurrence was
// computed: the occurrence and its window, whether it is final, every
// punch considered and the reason it was counted or left out, each rule's
// decision with the numbers compared, the approvals and make-ups that
// applied, and the record itself.
type Explanation struct {
	EmployeeID string     `json:"employee_id"`
	Date       string     `json:"date"`
	Shift      string     `json:"shift"`
	Occurrence Occurrence `json:"occurrence"`
	// Final is whether the record is final at the watermark: only final
	// records are stored and pushed. FinalReason states the comparison.
	Final       bool   `json:"final"`
	FinalReason string `json:"final_reason"`
	// Punches are the punches and make-ups of the occurrence (and those
	// of its date that went elsewhere), in time order.
	Punches []PunchDecision `json:"punches"`
	// Rules are the decisions in the order the engine takes them.
	Rules []RuleDecision `json:"rules"`
	// Leave, Overtime and OtherApprovals are the approvals that overlap
	// the occurrence, in the revision the engine used.
	Leave          []ApprovalUse `json:"leave"`
	Overtime       []ApprovalUse `json:"overtime"`
	OtherApprovals []ApprovalUse `json:"other_approvals"`
	Makeups        []MakeupUse   `json:"makeups"`
	// Record is the computed record, identical to the one Employee returns
	// for this occurrence. When Final is false Employee returns none yet,
	// and Record is what the events known so far give.
	Record mapping.DayRecord `json:"record"`
}

// Occurrence is a shift occurrence: its scheduled times and its window,
// after sharing edges with neighbouring occurrences. Both window edges are
// inclusive.
type Occurrence struct {
	ScheduledStart time.Time `json:"scheduled_start"`
	ScheduledEnd   time.Time `json:"scheduled_end"`
	WindowStart    time.Time `json:"window_start"`
	WindowEnd      time.Time `json:"window_end"`
	// Detail states how the window was derived.
	Detail string `json:"detail"`
}

// PunchDecision is one punch or make-up and what the engine did with it.
type PunchDecision struct {
	EventID   string            `json:"event_id"`
	Time      time.Time         `json:"time"`
	Direction mapping.Direction `json:"direction"`
	Method    string            `json:"method"`
	Counted   bool              `json:"counted"`
	Reason    string            `json:"reason"`
	// Elsewhere names the occurrence ("2026-11-19 night") an event of
	// this date was placed on instead, when it was.
	Elsewhere string `json:"elsewhere,omitempty"`
	// Anomalies are the types of the record's anomalies about this event.
	Anomalies []string `json:"anomalies,omitempty"`
}

// RuleDecision is one rule's outcome with the numbers it compared, e.g.
// {late, "late 12m", "late: 09:12:40 > 09:10:00 (start 09:00 + grace 10m); ..."}.
type RuleDecision struct {
	Rule    string `json:"rule"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail"`
}

// ApprovalUse is an approval overlapping the occurrence and whether it
// contributed to the record.
type ApprovalUse struct {
	EventID    string         `json:"event_id"`
	ApprovalID string         `json:"approval_id"`
	Type       string         `json:"type"`
	LeaveType  string         `json:"leave_type,omitempty"`
	Status     mapping.Status `json:"status"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	// ShiftMinutes is its overlap with the scheduled shift, rounded.
	ShiftMinutes int    `json:"shift_minutes"`
	Used         bool   `json:"used"`
	Reason       string `json:"reason"`
}

// MakeupUse is a make-up request of the occurrence and whether it counted.
type MakeupUse struct {
	EventID    string            `json:"event_id"`
	ApprovalID string            `json:"approval_id"`
	Time       time.Time         `json:"time"`
	Direction  mapping.Direction `json:"direction"`
	Status     mapping.Status    `json:"status"`
	Counted    bool              `json:"counted"`
	Reason     string            `json:"reason"`
}

// Explain computes the records of employeeID's shift occurrences dated
// date (YYYY-MM-DD) through the same code as Employee, recording every
// decision on the way, and returns one Explanation per occurrence, sorted
// by shift name. events are as for Employee: at least EventSpan(date,
// date). Occurrences that are not final at watermark are explained too,
// with Final false.
func (e *Engine) Explain(employeeID string, events []mapping.Event, date string, watermark time.Time) ([]Explanation, error) {
	if employeeID == "" {
		return nil, errors.New("reconcile: employee id is empty")
	}
	d, ok := parseDay(date)
	if !ok {
		return nil, fmt.Errorf("reconcile: date %q: must be a date YYYY-MM-DD", date)
	}
	tr := newTrace(e, d)
	p := e.prepare(employeeID, events, d, d, tr)
	wm := watermarkSec(watermark)
	b := builder{tr: tr}
	ex := explainer{e: e, tr: tr, p: &p, d: d}
	ai := 0
	for k := range p.occs {
		o := &p.occs[k]
		var aj int
		ai, aj = p.anomaliesOf(k, ai)
		if o.d != d {
			continue
		}
		rec := e.record(&b, employeeID, o, p.counted(k), &p.c, p.an[ai:aj])
		x := Explanation{
			EmployeeID: employeeID, Date: rec.Date, Shift: rec.Shift,
			Occurrence: tr.occurrence(o),
			Final:      e.final(o, wm),
			Rules:      tr.rules,
			Record:     rec,
		}
		x.FinalReason = tr.finalReason(o, watermark, x.Final)
		ex.add(k, x)
	}
	ex.punches()
	ex.approvals()
	out := make([]Explanation, len(ex.slots))
	for i, sl := range ex.slots {
		out[i] = sl.x
	}
	slices.SortFunc(out, func(a, b Explanation) int { return strings.Compare(a.Shift, b.Shift) })
	return out, nil
}

func (t *trace) occurrence(o *occ) Occurrence {
	s := &t.e.shifts[o.shift]
	at := func(sec int64) time.Time { return time.Unix(sec, 0).In(t.e.loc) }
	detail := fmt.Sprintf("%s %s–%s; the window opens %s before the start and closes %s after the end, both edges inclusive",
		s.name, t.hm(o.start), t.hm(o.end), dur(s.open), dur(s.close))
	if o.ws != o.ows {
		detail += "; its start moved to " + t.clock(o.ws) + ", the scheduled end of the previous shift"
	}
	if we := o.end + s.close; o.we != we {
		detail += "; its end moved to " + t.clock(o.we) + ", where the next shift's window starts"
	}
	return Occurrence{ScheduledStart: at(o.start), ScheduledEnd: at(o.end), WindowStart: at(o.ws), WindowEnd: at(o.we), Detail: detail}
}

func (t *trace) finalReason(o *occ, watermark time.Time, final bool) string {
	if watermark.IsZero() {
		return "not final: no watermark, since no source is known to be complete"
	}
	cmp := "window end " + t.full(o.we) + " + settle " + dur(t.e.settle)
	wm := watermark.In(t.e.loc).Format(time.DateTime)
	if final {
		return cmp + " < watermark " + wm
	}
	return "not final: " + cmp + " >= watermark " + wm + "; the record is provisional and is not stored or pushed yet"
}

func (t *trace) full(sec int64) string { return time.Unix(sec, 0).In(t.e.loc).Format(time.DateTime) }
