package reconcile

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name  string
		rules func(r *Rules)
		want  []string // every RuleError, in order
	}{{
		name:  "bad shift times",
		rules: func(r *Rules) { s := r.Shifts["standard"]; s.Start, s.End = "25:00", "9:00"; r.Shifts["standard"] = s },
		want: []string{
			`shifts.standard.start: "25:00" must be HH:MM (00:00–23:59)`,
			`shifts.standard.end: "9:00" must be HH:MM (00:00–23:59); an end at or before the start means the next day`,
		},
	}, {
		name:  "missing and unknown time zone",
		rules: func(r *Rules) { r.Timezone = "Mars/Olympus" },
		want:  []string{`timezone: "Mars/Olympus" is not a known IANA zone; use a name such as Asia/Shanghai`},
	}, {
		name: "bad enumerations, negative and inconsistent durations",
		rules: func(r *Rules) {
			s := r.Shifts["standard"]
			s.Directions, s.WorkingHours, s.LateGrace = "both", "sum", -time.Minute
			s.AbsentBelow, s.HalfDayBelow = 5*time.Hour, 4*time.Hour
			s.CheckoutClosesAfter = 25 * time.Hour
			r.Shifts["standard"] = s
		},
		want: []string{
			`shifts.standard.late_grace: "-1m0s" must not be negative`,
			`shifts.standard.checkout_closes_after: "25h0m0s" is longer than 24h0m0s; a window may close at most a day after the end`,
			`shifts.standard.absent_below: "5h0m0s" is above half_day_below "4h0m0s", so half_day could never apply; make absent_below at most half_day_below`,
			`shifts.standard.directions: "both" must be alternate or strict`,
			`shifts.standard.working_hours: "sum" must be first_last or every_pair`,
		},
	}, {
		name: "assignments",
		rules: func(r *Rules) {
			r.Assign.Default = nil
			r.Assign.Employees = map[string]ShiftList{"E1": {"standard", "standard"}, "E2": {"nigth"}}
			r.Assign.Dated = []DatedAssignment{
				{Employee: "E1", Shifts: ShiftList{"standard"}, From: "2026-11-01", To: "2026-11-10"},
				{Employee: "E1", Shifts: ShiftList{"standard"}, From: "2026-11-10", To: "2026-11-12"},
				{Employee: "", Shifts: ShiftList{"standard"}, From: "2026-11-31", To: "2026-11-01"},
				{Employee: "E3", Shifts: ShiftList{"standard"}, From: "2026-11-05", To: "2026-11-01"},
			}
			r.Assign.RestDays = []string{"saturday"}
		},
		want: []string{
			`assign.default: is required: the shift (or list of shifts) of every employee without an assignment of their own`,
			`assign.employees.E1[1]: "standard" is listed twice; a shift occurs at most once a day`,
			`assign.employees.E2: "nigth" is not a shift; define it under shifts or use one of: standard`,
			`assign.dated[1]: 2026-11-10 to 2026-11-12 overlaps another dated assignment of "E1" (2026-11-01 to 2026-11-10); make the ranges disjoint`,
			`assign.dated[2].employee: is required: the HR employee id this assignment is for`,
			`assign.dated[2].from: "2026-11-31" must be a date YYYY-MM-DD`,
			`assign.dated[3].to: "2026-11-01" is before from "2026-11-05"; the range is inclusive, so use to >= from`,
			`assign.rest_days[0]: "saturday" must be one of mon, tue, wed, thu, fri, sat, sun`,
		},
	}, {
		name: "holidays, settle and anomalies",
		rules: func(r *Rules) {
			r.Holidays = []string{"2026-10-01", "Oct 2"}
			r.Settle = -time.Minute
			r.Anomalies = AnomalyRules{OfflineAfter: -time.Hour, MaxSpeedKmh: -1, Disabled: []string{"late"}}
		},
		want: []string{
			`holidays[1]: "Oct 2" must be a date YYYY-MM-DD`,
			`settle: "-1m0s" must not be negative; use 0m to finalize as soon as a window closes`,
			`anomalies.offline_after: "-1h0m0s" must not be negative; to turn the check off, list offline_upload under anomalies.disabled`,
			`anomalies.max_speed_kmh: -1 must be a positive speed in km/h (default 120)`,
			`anomalies.disabled[0]: "late" is not an anomaly type; use one of: ` + strings.Join(AnomalyTypes(), ", "),
		},
	}, {
		name:  "no shifts",
		rules: func(r *Rules) { r.Shifts = nil; r.Assign.Default = nil },
		want: []string{
			`shifts: is empty: define at least one shift, e.g. standard: {start: "09:00", end: "18:00"}`,
			`assign.default: is required: the shift (or list of shifts) of every employee without an assignment of their own`,
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testRules()
			tc.rules(&r)
			e, err := Compile(r)
			if err == nil || e != nil {
				t.Fatalf("Compile = %v, %v; want errors", e, err)
			}
			var got []string
			for _, x := range err.(interface{ Unwrap() []error }).Unwrap() {
				var re *RuleError
				if !errors.As(x, &re) {
					t.Fatalf("%T is not a *RuleError: %v", x, x)
				}
				got = append(got, re.Error())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tc.want, "\n      "))
			}
		})
	}
}

func TestCompileAcceptsDefaults(t *testing.T) {
	r := Rules{
		Timezone: "UTC",
		Shifts:   map[string]Shift{"s": {Start: "09:00", End: "17:00"}},
		Assign:   Assign{Default: ShiftList{"s"}},
	}
	e := compile(t, r)
	if e.offlineAfter != 3600 || e.maxSpeedKmh != 120 || e.driftKm != 1 || e.lookback != 12*3600 {
		t.Errorf("anomaly defaults = %d %v %v %d", e.offlineAfter, e.maxSpeedKmh, e.driftKm, e.lookback)
	}
	if s := e.shifts[0]; s.strict || s.everyPair {
		t.Errorf("empty directions and working_hours must mean alternate and first_last")
	}
	if e.Location() != time.UTC {
		t.Errorf("Location = %v", e.Location())
	}
}

func TestDays(t *testing.T) {
	for _, s := range []string{"1970-01-01", "2000-02-29", "2026-11-20", "2026-12-31", "2100-03-01", "1969-12-31"} {
		d, ok := parseDay(s)
		if !ok || d.String() != s {
			t.Errorf("parseDay(%q) = %d, %v; String = %q", s, d, ok, d.String())
		}
		tm, _ := time.Parse(time.DateOnly, s)
		if d.weekday() != tm.Weekday() || int64(d) != tm.Unix()/86400 /* midnight UTC: exact */ {
			t.Errorf("%s: day %d weekday %v, want %d %v", s, d, d.weekday(), tm.Unix()/86400, tm.Weekday())
		}
	}
	for _, s := range []string{"2026-02-29", "2026-1-01", "20261101", "", "2026-11-20T00:00"} {
		if _, ok := parseDay(s); ok {
			t.Errorf("parseDay(%q) accepted", s)
		}
	}
}
