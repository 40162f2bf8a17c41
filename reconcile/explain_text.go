package reconcile

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Text writes the explanation for a reader: a heading with the status and
// finality, the occurrence, the punches with their reasons, the rules with
// the numbers compared, the approvals and make-ups, and the record.
func (x Explanation) Text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	final := "final"
	if !x.Final {
		final = "NOT FINAL"
	}
	fmt.Fprintf(tw, "%s %s %s: %s (%s)\n", x.EmployeeID, x.Date, x.Shift, x.Record.Status, final)
	fmt.Fprintf(tw, "  %s\n", x.FinalReason)
	o := x.Occurrence
	fmt.Fprintf(tw, "\nShift occurrence\n  scheduled %s to %s; window %s to %s\n  %s\n",
		x.clock(o.ScheduledStart), x.clock(o.ScheduledEnd), x.clock(o.WindowStart), x.clock(o.WindowEnd), o.Detail)

	fmt.Fprintf(tw, "\nPunches\n")
	if len(x.Punches) == 0 {
		fmt.Fprintf(tw, "  (none)\n")
	}
	for _, p := range x.Punches {
		counted := "left out"
		switch {
		case p.Counted:
			counted = "counted"
		case p.Elsewhere != "":
			counted = "elsewhere"
		}
		an := ""
		if len(p.Anomalies) > 0 {
			an = " [" + strings.Join(p.Anomalies, ", ") + "]"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s%s\t%s\n", x.clock(p.Time), p.Direction, p.Method, counted, p.Reason, an, p.EventID)
	}

	fmt.Fprintf(tw, "\nRules\n")
	for _, r := range x.Rules {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Rule, r.Outcome, r.Detail)
	}
	for _, g := range []struct {
		title string
		list  []ApprovalUse
	}{{"Leave", x.Leave}, {"Overtime approvals", x.Overtime}, {"Other approvals", x.OtherApprovals}} {
		if len(g.list) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\n%s\n", g.title)
		for _, a := range g.list {
			kind := a.Type
			if a.LeaveType != "" {
				kind += " (" + a.LeaveType + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s to %s\t%s\t%s\t%s\n", kind, x.clock(a.Start), x.clock(a.End), a.Status, a.Reason, a.ApprovalID)
		}
	}
	if len(x.Makeups) > 0 {
		fmt.Fprintf(tw, "\nMake-ups\n")
		for _, m := range x.Makeups {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", x.clock(m.Time), m.Direction, m.Status, m.Reason, m.ApprovalID)
		}
	}

	r := x.Record
	fmt.Fprintf(tw, "\nRecord\n  status %s; worked %dm; first in %s; last out %s; late %s; early exit %s; leave %dm; overtime %dm; missing %s\n",
		r.Status, r.WorkedMinutes, x.optClock(r.FirstIn), x.optClock(r.LastOut), flagged(r.Late, r.LateMinutes), flagged(r.EarlyExit, r.EarlyExitMinutes),
		r.LeaveMinutes, r.OvertimeMinutes, orNone(strings.Join(r.Missing, ", ")))
	for _, a := range r.Anomalies {
		fmt.Fprintf(tw, "  anomaly %s: %s (%s)\n", a.Type, a.Detail, a.EventID)
	}
	return tw.Flush()
}

// clock is a time of the explanation: 15:04:05 on its date, else with the
// date.
func (x Explanation) clock(t time.Time) string {
	if t.Format(time.DateOnly) == x.Date {
		return t.Format(time.TimeOnly)
	}
	return t.Format(time.DateTime)
}

func (x Explanation) optClock(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return x.clock(*t)
}

func flagged(on bool, n int) string {
	if !on {
		return "no"
	}
	return fmt.Sprintf("%dm", n)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
