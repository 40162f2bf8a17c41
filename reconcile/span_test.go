package reconcile

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/punchbridge/punchbridge/mapping"
)

func TestDatesFor(t *testing.T) {
	r := testRules()
	n := standardShift()
	n.Start, n.End = "23:00", "07:00"
	r.Shifts["night"] = n
	r.Assign.Employees = map[string]ShiftList{"N": {"night"}}
	e := compile(t, r)
	for _, tc := range []struct {
		emp  string
		at   string
		want []string
	}{
		// Day shift: a punch at 09:00 concerns its day, and the next
		// day's first punches within the 12h lookback do not reach it.
		{"D", "2026-11-20 09:00", []string{"2026-11-20"}},
		// 21:00 may be the previous punch of a punch before 09:00 next day.
		{"D", "2026-11-20 21:00", []string{"2026-11-20", "2026-11-21"}},
		// Night shift: 06:00 on the 21st belongs to the 20th's night.
		{"N", "2026-11-21 06:00", []string{"2026-11-20", "2026-11-21"}},
		{"N", "2026-11-20 23:30", []string{"2026-11-20"}},
	} {
		if got := e.DatesFor(tc.emp, at(tc.at)); !slices.Equal(got, tc.want) {
			t.Errorf("DatesFor(%s, %s) = %v, want %v", tc.emp, tc.at, got, tc.want)
		}
	}
	if got, want := e.DatesBetween("D", at("2026-11-19 12:00"), at("2026-11-23 10:00")), []string{"2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"}; !slices.Equal(got, want) {
		t.Errorf("DatesBetween = %v, want %v", got, want)
	}
	if got, want := e.DatesBetween("D", at("2026-11-20 12:00"), at("2026-11-20 13:00")), []string{"2026-11-20"}; !slices.Equal(got, want) {
		t.Errorf("DatesBetween within a window = %v, want %v", got, want)
	}
	s, end := e.EventSpan("2026-11-20", "2026-11-20")
	if !s.Before(at("2026-11-19 08:00")) || !end.After(at("2026-11-21 19:00")) {
		t.Errorf("EventSpan = %v, %v; too narrow", s, end)
	}
	if s, end := e.EventSpan("2026-11-20", "bad"); !s.IsZero() || !end.IsZero() {
		t.Errorf("EventSpan with a bad date = %v, %v; want zero", s, end)
	}
}

// TestSpansAreSufficient checks the contract the pipeline relies on, on
// the company month: computing one date from only the events in
// EventSpan gives the same record as from all events; and removing any one
// event changes only the dates that DatesFor (punches, make-ups) or
// DatesBetween (approvals) named for it.
func TestSpansAreSufficient(t *testing.T) {
	e := compile(t, loadCompanyRules(t))
	all := companyEvents(t, e)
	emps := []string{"E1001", "E1010", "E1011", "E1041", "E1044", "E1046", "E1047"}
	const from, to = "2026-11-01", "2026-11-30"
	byDate := func(emp string, events []mapping.Event) map[string]string {
		recs, err := e.Employee(emp, events, from, to, companyAsOf)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range recs {
			b, _ := json.Marshal(r)
			m[r.Date] += string(b)
		}
		return m
	}
	for _, emp := range emps {
		var mine []mapping.Event
		for _, ev := range all {
			if ev.EmployeeID == emp {
				mine = append(mine, ev)
			}
		}
		full := byDate(emp, mine)

		// EventSpan is enough for each single date.
		for date, want := range full {
			s, end := e.EventSpan(date, date)
			var in []mapping.Event
			for _, ev := range mine {
				lo, hi := ev.Time, ev.Time
				if ev.Approval != nil {
					lo, hi = ev.Approval.Start, ev.Approval.End
				}
				if !hi.Before(s) && lo.Before(end) {
					in = append(in, ev)
				}
			}
			recs, err := e.Employee(emp, in, date, date, companyAsOf)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, r := range recs {
				b, _ := json.Marshal(r)
				got += string(b)
			}
			if got != want {
				t.Errorf("%s %s: with only EventSpan's events:\n got %s\nwant %s", emp, date, got, want)
			}
		}

		// Removing one event changes only the dates named for it.
		for i, ev := range mine {
			without := append(slices.Clone(mine[:i]), mine[i+1:]...)
			changed := byDate(emp, without)
			var dirty []string
			if ev.Approval != nil {
				dirty = e.DatesBetween(emp, ev.Approval.Start, ev.Approval.End)
			} else {
				dirty = e.DatesFor(emp, ev.Time)
			}
			for date := range full {
				if changed[date] != full[date] && !slices.Contains(dirty, date) {
					t.Errorf("%s: removing %s changes %s, which DatesFor did not name (%v)", emp, ev.ID, date, dirty)
				}
			}
		}
	}
}
