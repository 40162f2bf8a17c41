package reconcile

import (
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

func TestStatus(t *testing.T) {
	worked := func(from, to string) func(b *evb) []mapping.Event {
		return func(b *evb) []mapping.Event { return b.punches("2026-11-20 "+from, "2026-11-20 "+to) }
	}
	holiday := func(r *Rules) { r.Holidays = []string{"2026-11-20", "2026-11-21"} }
	runCases(t, []engineCase{{
		name: "no punches on a work day: absent",
		want: []string{"11-20 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]"},
	}, {
		name: "rest day without punches",
		from: "2026-11-21", to: "2026-11-22",
		want: []string{
			"11-21 standard rest_day in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[] an=[]",
			"11-22 standard rest_day in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[] an=[]",
		},
	}, {
		name:  "holiday without punches, also when it falls on a rest day",
		rules: holiday,
		from:  "2026-11-20", to: "2026-11-21",
		want: []string{
			"11-20 standard holiday in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[] an=[]",
			"11-21 standard holiday in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[] an=[]",
		},
	}, {
		name:   "punches on a holiday: present, all worked time is overtime",
		rules:  holiday,
		events: worked("10:00", "14:00"),
		want:   []string{"11-20 standard present in=11-20 10:00 out=11-20 14:00 w=240 late=- early=- ot=240 lv=0 miss=[] an=[]"},
	}, {
		name: "punches on a rest day with requires_approval: only approved overtime counts",
		rules: func(r *Rules) {
			s := r.Shifts["standard"]
			s.Overtime.RequiresApproval = true
			r.Shifts["standard"] = s
		},
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-21 10:00", "2026-11-21 14:00"),
				one(b.approval("overtime", mapping.StatusApproved, "2026-11-21 12:00", "2026-11-21 20:00", "ot-1")))
		},
		from: "2026-11-21",
		want: []string{"11-21 standard present in=11-21 10:00 out=11-21 14:00 w=240 late=- early=- ot=120 lv=0 miss=[] an=[]"},
	}, {
		name:   "below absent_below (strict): absent",
		events: worked("09:00", "10:59"),
		want:   []string{"11-20 standard absent in=11-20 09:00 out=11-20 10:59 w=119 late=- early=421 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "exactly absent_below: half_day",
		events: worked("09:00", "11:00"),
		want:   []string{"11-20 standard half_day in=11-20 09:00 out=11-20 11:00 w=120 late=- early=420 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "exactly half_day_below: present",
		events: worked("09:00", "13:00"),
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 13:00 w=240 late=- early=300 ot=0 lv=0 miss=[] an=[]"},
	}, {
		name: "thresholds at 0 are off: one punch is present",
		rules: func(r *Rules) {
			s := r.Shifts["standard"]
			s.HalfDayBelow, s.AbsentBelow = 0, 0
			r.Shifts["standard"] = s
		},
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00") },
		want:   []string{"11-20 standard present in=11-20 09:00 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[]"},
	}})
}

func TestLeave(t *testing.T) {
	leave := func(status mapping.Status, from, to string) func(b *evb) mapping.Event {
		return func(b *evb) mapping.Event {
			return b.approval("leave", status, "2026-11-20 "+from, "2026-11-20 "+to, "lv-1")
		}
	}
	runCases(t, []engineCase{{
		name:   "leave covering the whole shift: on_leave",
		events: func(b *evb) []mapping.Event { return one(leave(mapping.StatusApproved, "09:00", "18:00")(b)) },
		want:   []string{"11-20 standard on_leave in=- out=- w=0 late=- early=- ot=0 lv=540 miss=[] an=[]"},
	}, {
		name: "leave covering the whole shift wins over punches",
		events: func(b *evb) []mapping.Event {
			return cat(one(leave(mapping.StatusApproved, "08:00", "19:00")(b)), b.punches("2026-11-20 09:30"))
		},
		want: []string{"11-20 standard on_leave in=11-20 09:30 out=- w=0 late=- early=- ot=0 lv=540 miss=[] an=[]"},
	}, {
		name: "two leaves that together cover the shift",
		events: func(b *evb) []mapping.Event {
			return []mapping.Event{
				b.approval("leave", mapping.StatusApproved, "2026-11-20 09:00", "2026-11-20 13:00", "lv-1"),
				b.approval("leave", mapping.StatusApproved, "2026-11-20 12:00", "2026-11-20 18:00", "lv-2"),
			}
		},
		want: []string{"11-20 standard on_leave in=- out=- w=0 late=- early=- ot=0 lv=540 miss=[] an=[]"},
	}, {
		name: "morning leave covering half the shift: no lateness, leave counts toward effective time",
		events: func(b *evb) []mapping.Event {
			return cat(one(leave(mapping.StatusApproved, "09:00", "13:00")(b)), b.punches("2026-11-20 13:30", "2026-11-20 15:00"))
		},
		want: []string{"11-20 standard present in=11-20 13:30 out=11-20 15:00 w=90 late=- early=180 ot=0 lv=240 miss=[] an=[]"},
	}, {
		name: "afternoon leave covering half the shift: no early exit",
		events: func(b *evb) []mapping.Event {
			return cat(one(leave(mapping.StatusApproved, "13:00", "18:00")(b)), b.punches("2026-11-20 09:20", "2026-11-20 12:00"))
		},
		want: []string{"11-20 standard present in=11-20 09:20 out=11-20 12:00 w=160 late=20 early=- ot=0 lv=300 miss=[] an=[]"},
	}, {
		name: "leave without punches covering half the shift: effective time decides",
		events: func(b *evb) []mapping.Event {
			return one(leave(mapping.StatusApproved, "09:00", "13:00")(b))
		},
		want: []string{"11-20 standard absent in=- out=- w=0 late=- early=- ot=0 lv=240 miss=[in,out] an=[]"},
	}, {
		name: "pending, rejected and revoked leave cover nothing",
		events: func(b *evb) []mapping.Event {
			return []mapping.Event{
				b.approval("leave", mapping.StatusPending, "2026-11-20 09:00", "2026-11-20 18:00", "lv-1"),
				b.approval("leave", mapping.StatusRejected, "2026-11-20 09:00", "2026-11-20 18:00", "lv-2"),
				b.approval("leave", mapping.StatusRevoked, "2026-11-20 09:00", "2026-11-20 18:00", "lv-3"),
			}
		},
		want: []string{"11-20 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]"},
	}, {
		name: "only the latest revision counts: approved, then revoked",
		events: func(b *evb) []mapping.Event {
			ok := b.approval("leave", mapping.StatusApproved, "2026-11-20 09:00", "2026-11-20 18:00", "lv-1")
			revoked := ok
			revoked.Approval = &mapping.Approval{Type: "leave", Status: mapping.StatusRevoked, Start: ok.Approval.Start, End: ok.Approval.End, ApprovalID: "lv-1"}
			revoked.Time = ok.Time.Add(time.Hour)
			return []mapping.Event{revoked, ok}
		},
		want: []string{"11-20 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]"},
	}, {
		name: "only the latest revision counts: pending, then approved",
		events: func(b *evb) []mapping.Event {
			ok := b.approval("leave", mapping.StatusApproved, "2026-11-20 09:00", "2026-11-20 18:00", "lv-1")
			pending := ok
			pending.Approval = &mapping.Approval{Type: "leave", Status: mapping.StatusPending, Start: ok.Approval.Start, End: ok.Approval.End, ApprovalID: "lv-1"}
			pending.Time = ok.Time.Add(-time.Hour)
			return []mapping.Event{ok, pending}
		},
		want: []string{"11-20 standard on_leave in=- out=- w=0 late=- early=- ot=0 lv=540 miss=[] an=[]"},
	}, {
		name: "leave ending at the shift start does not cover the start",
		events: func(b *evb) []mapping.Event {
			return cat(one(leave(mapping.StatusApproved, "07:00", "09:00")(b)), b.punches("2026-11-20 09:30", "2026-11-20 18:00"))
		},
		want: []string{"11-20 standard present in=11-20 09:30 out=11-20 18:00 w=510 late=30 early=- ot=0 lv=0 miss=[] an=[]"},
	}})
}

func TestOvertime(t *testing.T) {
	requiresApproval := func(r *Rules) {
		s := r.Shifts["standard"]
		s.Overtime.RequiresApproval = true
		r.Shifts["standard"] = s
	}
	day := func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00", "2026-11-20 19:00") }
	runCases(t, []engineCase{{
		name:   "minutes past end + after",
		events: day,
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 19:00 w=600 late=- early=- ot=30 lv=0 miss=[] an=[]"},
	}, {
		name:   "not past end + after",
		events: func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00", "2026-11-20 18:30") },
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 18:30 w=570 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:   "requires approval, none given",
		rules:  requiresApproval,
		events: day,
		want:   []string{"11-20 standard present in=11-20 09:00 out=11-20 19:00 w=600 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:  "requires approval: only the approved part counts",
		rules: requiresApproval,
		events: func(b *evb) []mapping.Event {
			return cat(day(b), one(b.approval("overtime", mapping.StatusApproved, "2026-11-20 18:00", "2026-11-20 18:45", "ot-1")))
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 19:00 w=600 late=- early=- ot=15 lv=0 miss=[] an=[]"},
	}, {
		name:  "requires approval: overlapping approvals count once, pending ones not at all",
		rules: requiresApproval,
		events: func(b *evb) []mapping.Event {
			return cat(day(b),
				one(b.approval("overtime", mapping.StatusApproved, "2026-11-20 18:00", "2026-11-20 18:50", "ot-1")),
				one(b.approval("overtime", mapping.StatusApproved, "2026-11-20 18:40", "2026-11-20 18:55", "ot-2")),
				one(b.approval("overtime", mapping.StatusPending, "2026-11-20 18:55", "2026-11-20 19:00", "ot-3")))
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 19:00 w=600 late=- early=- ot=25 lv=0 miss=[] an=[]"},
	}})
}

func TestMakeups(t *testing.T) {
	runCases(t, []engineCase{{
		name: "an approved make-up is a punch",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00"), one(b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusApproved)))
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name: "a pending make-up is reported, not counted",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00"), one(b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusPending)))
		},
		want: []string{"11-20 standard absent in=11-20 09:00 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[makeup_pending]"},
	}, {
		name: "rejected and revoked make-ups are ignored",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00"),
				one(b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusRejected)),
				one(b.makeup("2026-11-20 18:01", mapping.DirOut, mapping.StatusRevoked)))
		},
		want: []string{"11-20 standard absent in=11-20 09:00 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[]"},
	}, {
		name: "the latest revision of a make-up counts: pending, then approved",
		events: func(b *evb) []mapping.Event {
			ok := b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusApproved)
			pending := ok
			pending.Makeup = &mapping.Makeup{Direction: mapping.DirOut, Status: mapping.StatusPending, ApprovalID: ok.Makeup.ApprovalID}
			pending.ReceivedAt = ok.ReceivedAt.Add(-time.Hour)
			return cat(one(ok), one(pending), b.punches("2026-11-20 09:00"))
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name:  "in strict mode the make-up's direction counts",
		rules: withShift("strict", "first_last"),
		events: func(b *evb) []mapping.Event {
			return cat(one(b.punch("2026-11-20 09:00", mapping.DirIn)), one(b.makeup("2026-11-20 12:00", mapping.DirIn, mapping.StatusApproved)))
		},
		want: []string{"11-20 standard absent in=11-20 09:00 out=- w=0 late=- early=- ot=0 lv=0 miss=[out] an=[]"},
	}})
}

func TestDuplicates(t *testing.T) {
	runCases(t, []engineCase{{
		name: "same second, same direction, different ids: counted once",
		events: func(b *evb) []mapping.Event {
			return []mapping.Event{
				b.punch("2026-11-20 09:00", mapping.DirIn), b.punch("2026-11-20 09:00", mapping.DirIn),
				b.punch("2026-11-20 18:00", mapping.DirOut),
			}
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[duplicate_punch]"},
	}, {
		name:  "same second, different directions: both count",
		rules: withShift("alternate", "every_pair"),
		events: func(b *evb) []mapping.Event {
			return []mapping.Event{
				b.punch("2026-11-20 09:00", mapping.DirIn), b.punch("2026-11-20 12:00", mapping.DirOut),
				b.punch("2026-11-20 12:00", mapping.DirIn), b.punch("2026-11-20 18:00", mapping.DirOut),
			}
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name: "a make-up at the same second as a punch: the punch is kept",
		events: func(b *evb) []mapping.Event {
			return cat(b.punches("2026-11-20 09:00", "2026-11-20 18:00"), one(b.makeup("2026-11-20 18:00", mapping.DirOut, mapping.StatusApproved)))
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[duplicate_punch]"},
	}, {
		name: "copies of one event are one event, not a duplicate punch",
		events: func(b *evb) []mapping.Event {
			ps := b.punches("2026-11-20 09:00", "2026-11-20 18:00")
			cp := ps[0]
			cp.Via, cp.ReceivedAt = mapping.ViaPull, cp.ReceivedAt.Add(time.Hour)
			return append(ps, cp, ps[1])
		},
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}})
}

func TestFinalization(t *testing.T) {
	settle := func(r *Rules) { r.Settle = 30 * time.Minute }
	day := func(b *evb) []mapping.Event { return b.punches("2026-11-20 09:00", "2026-11-20 18:00") }
	runCases(t, []engineCase{{
		name:  "window end + settle equal to the watermark: not final, not emitted",
		rules: settle, events: day, asOf: "2026-11-20 19:30",
		want: nil,
	}, {
		name:  "one second later: final",
		rules: settle, events: day, asOf: "2026-11-20 19:30:01",
		want: []string{"11-20 standard present in=11-20 09:00 out=11-20 18:00 w=540 late=- early=- ot=0 lv=0 miss=[] an=[]"},
	}, {
		name: "no punches and not final: nothing, not absent",
		asOf: "2026-11-20 18:30",
		want: nil,
	}, {
		name: "a range: only the final days are emitted",
		from: "2026-11-18", to: "2026-11-20", asOf: "2026-11-19 20:00",
		want: []string{
			"11-18 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
			"11-19 standard absent in=- out=- w=0 late=- early=- ot=0 lv=0 miss=[in,out] an=[]",
		},
	}, {
		name: "an overnight window closes on the next day",
		rules: func(r *Rules) {
			s := standardShift()
			s.Start, s.End = "23:00", "07:00"
			r.Shifts["standard"] = s
		},
		asOf: "2026-11-21 08:00",
		want: nil,
	}})
}
