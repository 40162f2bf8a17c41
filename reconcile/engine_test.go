package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// engineCase runs Employee("E1", events, from, to, watermark) under
// testRules() changed by rules, and compares the record summaries.
type engineCase struct {
	name     string
	rules    func(r *Rules)
	events   func(b *evb) []mapping.Event
	from, to string // default 2026-11-20 (a Friday)
	asOf     string // watermark; default farFuture
	want     []string
}

func runCases(t *testing.T, cases []engineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testRules()
			if tc.rules != nil {
				tc.rules(&r)
			}
			e := compile(t, r)
			var events []mapping.Event
			if tc.events != nil {
				events = tc.events(&evb{emp: "E1"})
			}
			from, to := tc.from, tc.to
			if from == "" {
				from = "2026-11-20"
			}
			if to == "" {
				to = from
			}
			wm := farFuture
			if tc.asOf != "" {
				wm = at(tc.asOf)
			}
			recs, err := e.Employee("E1", events, from, to, wm)
			if err != nil {
				t.Fatalf("Employee: %v", err)
			}
			for _, r := range recs {
				if err := mapping.ValidateDay(withVersion(r)); err != nil {
					t.Errorf("invalid record: %v", err)
				}
			}
			got := summaries(recs)
			if !slices.Equal(got, tc.want) {
				t.Errorf("records differ\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tc.want, "\n      "))
			}
		})
	}
}

func withVersion(r mapping.DayRecord) mapping.DayRecord {
	r.Version = 1
	return r
}

func TestShiftOccurrenceAndWindow(t *testing.T) {
	night := func(start, end string, open, closeAfter time.Duration) func(r *Rules) {
		return func(r *Rules) {
			s := standardShift()
			s.Start, s.End, s.CheckinOpensBefore, s.CheckoutClosesAfter = start, end, open, closeAfter
			r.Shifts["night"] = s
			r.Assign.Employees = map[string]ShiftList{"E1": {"night"}}
		}
	}
	runCases(t, []engineCase{{
		name:   "day shift",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 08:55", "2026-11-20 18:05") },
		want:   []string{"11-20 standard present in=11-20 08:55 out=11-20 18:05 w=550 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "window edges exactly on the boundary are inside",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 08:00:00", "2026-11-20 19:00:00") },
		want:   []string{"11-20 standard present in=11-20 08:00 out=11-20 19:00 w=660 late=- early=- ot=30 lv=0 miss=[] an=[]"},
	}, {
		name:   "one second outside the window is unassigned",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 07:59:59", "2026-11-20 19:00:01") },
		want:   []string{"11-20 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[unassigned_punch,unassigned_punch]"},
	}, {
		name:   "night 23:00-07:00 belongs to its start date",
		rules:  night("23:00", "07:00", time.Hour, time.Hour),
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-19 22:50", "2026-11-20 07:05") },
		from:   "2026-11-19", to: "2026-11-20",
		want: []string{
			"11-19 night present in=11-19 22:50 out=11-20 07:05 w=495 late=- early=- ot=0 lv=0 miss=[] an=[]",
			"11-20 night absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
		},
	}, {
		name:   "night 00:30-10:00 window opens on the previous date",
		rules:  night("00:30", "10:00", time.Hour, time.Hour),
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-19 23:30", "2026-11-20 10:02") },
		from:   "2026-11-19", to: "2026-11-20",
		want: []string{
			"11-19 night absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-20 night present in=11-19 23:30 out=11-20 10:02 w=632 late=- early=- ot=0 lv=0 miss=[] an=[]",
		},
	}, {
		name:   "15:00-23:30 with a 120m checkout window takes a 01:20 check-out",
		rules:  night("15:00", "23:30", time.Hour, 120*time.Minute),
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 14:58", "2026-11-21 01:20") },
		want:   []string{"11-20 night present in=11-20 14:58 out=11-21 01:20 w=622 late=- early=- ot=80 lv=0 miss=[] an=[]"},
	}, {
		name:   "15:00-23:30 check-out after the 120m window is unassigned",
		rules:  night("15:00", "23:30", time.Hour, 120*time.Minute),
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 14:58", "2026-11-21 01:31") },
		want:   []string{"11-20 night absent in=11-20 14:58 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[unassigned_punch]"},
	}, {
		name: "a punch between windows goes to the nearest occurrence",
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 03:00", "2026-11-20 08:59", "2026-11-20 18:00")
		},
		want: []string{"11-20 standard present in=11-20 08:59 out=11-20 18:00 w=541 late=- early=- ot=0 lv=0 miss=[] an=[unassigned_punch]"},
	}})
}

func splitRules(r *Rules) {
	early, late := standardShift(), standardShift()
	early.Start, early.End = "08:00", "12:00"
	late.Start, late.End = "13:00", "17:00"
	for _, s := range []*Shift{&early, &late} {
		s.HalfDayBelow, s.AbsentBelow = 0, 0
	}
	r.Shifts["early"], r.Shifts["late"] = early, late
	r.Assign.Employees = map[string]ShiftList{"E1": {"late", "early"}}
}

func TestSeveralShiftsADay(t *testing.T) {
	runCases(t, []engineCase{{
		name:  "split shifts share the edge, which goes to the earlier",
		rules: splitRules,
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 07:58", "2026-11-20 12:00", "2026-11-20 12:01", "2026-11-20 17:03")
		},
		want: []string{
			"11-20 early present in=11-20 07:58 out=11-20 12:00 w=242 late=- early=- ot=0 lv=0 miss=[] an=[]",
			"11-20 late present in=11-20 12:01 out=11-20 17:03 w=302 late=- early=- ot=0 lv=0 miss=[] an=[]",
		},
	}, {
		name:  "split shift, second half missed",
		rules: splitRules,
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 08:05", "2026-11-20 12:30")
		},
		want: []string{
			"11-20 early present in=11-20 08:05 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[]",
			"11-20 late present in=11-20 12:30 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[]",
		},
	}, {
		name: "consecutive assignments: night then day share 08:00, which stays with the night",
		rules: func(r *Rules) {
			n := standardShift()
			n.Start, n.End = "23:00", "07:00"
			r.Shifts["night"] = n
			r.Assign.Dated = []DatedAssignment{{Employee: "E1", Shifts: ShiftList{"night"}, From: "2026-11-19", To: "2026-11-19"}}
		},
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-19 22:55", "2026-11-20 08:00", "2026-11-20 08:01", "2026-11-20 18:00")
		},
		from: "2026-11-19", to: "2026-11-20",
		want: []string{
			"11-19 night present in=11-19 22:55 out=11-20 08:00 w=545 late=- early=- ot=30 lv=0 miss=[] an=[]",
			"11-20 standard present in=11-20 08:01 out=11-20 18:00 w=599 late=- early=- ot=0 lv=0 miss=[] an=[]",
		},
	}, {
		name: "overlapping consecutive shifts: the later window starts at the earlier's scheduled end",
		rules: func(r *Rules) {
			ev := standardShift()
			ev.Start, ev.End, ev.HalfDayBelow, ev.AbsentBelow = "17:00", "22:00", 0, 0
			r.Shifts["evening"] = ev
			r.Assign.Employees = map[string]ShiftList{"E1": {"standard", "evening"}}
		},
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 09:00", "2026-11-20 17:30", "2026-11-20 18:00", "2026-11-20 18:01", "2026-11-20 22:00")
		},
		want: []string{
			"11-20 evening present in=11-20 18:01 out=11-20 22:00 w=239 late=61 early=- ot=0 lv=0 miss=[] an=[]",
			"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]",
		},
	}})
}

func TestAssignment(t *testing.T) {
	rules := func(r *Rules) {
		for _, n := range []string{"early", "late", "night"} {
			s := standardShift()
			s.Start, s.End = map[string]string{"early": "07:00", "late": "14:00", "night": "22:00"}[n], map[string]string{"early": "11:00", "late": "18:00", "night": "06:00"}[n]
			r.Shifts[n] = s
		}
		r.Assign.Employees = map[string]ShiftList{"E1": {"night"}, "E2": {"early"}}
		r.Assign.Dated = []DatedAssignment{
			{Employee: "E1", Shifts: ShiftList{"early", "late"}, From: "2026-11-17", To: "2026-11-18"},
			{Employee: "E9", Shifts: ShiftList{"late"}, From: "2026-11-16", To: "2026-11-20"},
		}
	}
	runCases(t, []engineCase{{
		name:  "dated beats per-employee beats default",
		rules: rules,
		from:  "2026-11-16", to: "2026-11-19",
		want: []string{
			"11-16 night absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-17 early absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-17 late absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-18 early absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-18 late absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-19 night absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
		},
	}})
	// The default applies to employees without their own assignment.
	e := compile(t, func() Rules { r := testRules(); rules(&r); return r }())
	recs, err := e.Employee("E3", nil, "2026-11-20", "2026-11-20", farFuture)
	if err != nil || len(recs) != 1 || recs[0].Shift != "standard" {
		t.Errorf("E3 (default): got %v, %v; want one standard record", summaries(recs), err)
	}
}
