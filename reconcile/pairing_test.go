package reconcile

import (
	"testing"

	"github.com/punchbridge/punchbridge/mapping"
)

func withShift(directions, hours string) func(r *Rules) {
	return func(r *Rules) {
		s := r.Shifts["standard"]
		s.Directions, s.WorkingHours = directions, hours
		r.Shifts["standard"] = s
	}
}

func TestDirectionsAndWorkingHours(t *testing.T) {
	four := func(b *evb) []mapping.Event {
		return b.punches("2026-11-20 09:00", "2026-11-20 12:00", "2026-11-20 13:00", "2026-11-20 18:00")
	}
	dirs := func(spec ...string) func(b *evb) []mapping.Event {
		return func(b *evb) []mapping.Event {
			var out []mapping.Event
			for i := 0; i < len(spec); i += 2 {
				out = append(out, b.punch(spec[i], mapping.Direction(spec[i+1])))
			}
			return out
		}
	}
	runCases(t, []engineCase{{
		name:   "alternate first_last",
		rules:  withShift("alternate", "first_last"),
		events: four,
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "alternate every_pair",
		rules:  withShift("alternate", "every_pair"),
		events: four,
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=480 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:  "alternate every_pair, odd count: the trailing punch adds nothing but is last_out",
		rules: withShift("alternate", "every_pair"),
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 09:00", "2026-11-20 12:00", "2026-11-20 13:00")
		},
		want: []string{"11-20 standard half_day in=11-20 09:00 out=11-20 13:00 w=180 late=- early=300 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:  "alternate first_last, odd count",
		rules: withShift("alternate", "first_last"),
		events: func(b *evb) []mapping.Event {
			return b.punches("2026-11-20 09:00", "2026-11-20 12:00", "2026-11-20 17:00")
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 17:00 w=480 late=- early=60 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "alternate ignores the punch's own direction",
		rules:  withShift("alternate", "first_last"),
		events: dirs("2026-11-20 09:00", "out", "2026-11-20 18:00", "in"),
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "one punch: first_in only, worked 0",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:20") },
		want:   []string{"11-20 standard absent in=11-20 09:20 out=- w=0 late=20 early=- ot=0 lv=0 miss=[out] an=[]"},
	}, {
		name:   "strict first_last with a leading out",
		rules:  withShift("strict", "first_last"),
		events: dirs("2026-11-20 08:30", "out", "2026-11-20 09:00", "in", "2026-11-20 18:00", "out"),
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "strict first_last, out before in: worked 0 and out_before_in",
		rules:  withShift("strict", "first_last"),
		events: dirs("2026-11-20 09:30", "out", "2026-11-20 12:00", "in"),
		want:   []string{"11-20 standard absent in=11-20 12:00 out=11-20 09:30 w=0 late=180 early=510 ot=0 lv=0 miss=[] an=[out_before_in]"},
	}, {
		name:   "strict first_last, only outs",
		rules:  withShift("strict", "first_last"),
		events: dirs("2026-11-20 12:00", "out", "2026-11-20 18:00", "out"),
		want:   []string{"11-20 standard absent in=- out=11-20 18:00 w=0 late=- early=- ot=0 lv=0 miss=[in] an=[]"},
	}, {
		name:  "strict every_pair ignores a leading out, a second in and extra outs",
		rules: withShift("strict", "every_pair"),
		events: dirs("2026-11-20 08:30", "out", "2026-11-20 09:00", "in", "2026-11-20 09:05", "in",
			"2026-11-20 12:00", "out", "2026-11-20 12:01", "out", "2026-11-20 13:00", "in", "2026-11-20 18:00", "out"),
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=480 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "strict every_pair with an open pair at the end: last_out ends the last closed pair",
		rules:  withShift("strict", "every_pair"),
		events: dirs("2026-11-20 09:00", "in", "2026-11-20 12:00", "out", "2026-11-20 13:00", "in"),
		want:   []string{"11-20 standard half_day in=11-20 09:00 out=11-20 12:00 w=180 late=- early=360 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "strict ignores unknown directions and reports them",
		rules:  withShift("strict", "first_last"),
		events: dirs("2026-11-20 09:00", "unknown", "2026-11-20 09:01", "in", "2026-11-20 18:00", "out"),
		want:   []string{"11-20 standard present in=11-20 09:01 out=11-20 18:00 w=539 late=- early=- ot=0 lv=0 miss=[] an=[unknown_direction]"},
	}, {
		name:   "strict with only unknown directions has no punches",
		rules:  withShift("strict", "first_last"),
		events: dirs("2026-11-20 09:00", "unknown", "2026-11-20 18:00", "unknown"),
		want:   []string{"11-20 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[unknown_direction,unknown_direction]"},
	}})
}

func TestWorkedRoundingLateAndEarly(t *testing.T) {
	runCases(t, []engineCase{{
		name:   "30 seconds round up",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00:00", "2026-11-20 17:59:30") },
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 17:59:30 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "29 seconds round down",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00:00", "2026-11-20 17:59:29") },
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 17:59:29 w=539 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "exactly at the grace limits: neither late nor early",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:10:00", "2026-11-20 17:50:00") },
		want:   []string{"11-20 standard present in=11-20 09:10 out=11-20 17:50 w=520 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "one second past the grace limits: late and early, whole minutes rounded down",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:10:01", "2026-11-20 17:49:59") },
		want:   []string{"11-20 standard present in=11-20 09:10:01 out=11-20 17:49:59 w=520 late=10 early=10 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name: "zero grace: 30 seconds late is late by 0 whole minutes",
		rules: func(r *Rules) {
			s := r.Shifts["standard"]
			s.LateGrace = 0
			r.Shifts["standard"] = s
		},
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00:30", "2026-11-20 18:00") },
		want:   []string{"11-20 standard present in=11-20 09:00:30 out=11-20 18:00 w=540 late=0 early=- ot=0 lv=0 miss=[] an=[]"},
	}})
}
