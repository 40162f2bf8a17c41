package reconcile

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// TestCorrections: recomputing a final day with the same events gives the
// same record (so the ledger keeps its version), and a late event (an
// offline punch synced days later, a make-up approved next week) gives a
// different one (a correction).
func TestCorrections(t *testing.T) {
	e := compile(t, testRules())
	b := &evb{emp: "E1"}
	in := b.punch("2026-11-20 08:58", mapping.DirIn)
	late := received(b.punch("2026-11-20 18:03", mapping.DirOut), 72*time.Hour)
	day := func(events ...mapping.Event) mapping.DayRecord {
		t.Helper()
		recs, err := e.Employee("E1", events, "2026-11-20", "2026-11-20", farFuture)
		if err != nil || len(recs) != 1 {
			t.Fatalf("Employee: %v, %v", recs, err)
		}
		return recs[0]
	}
	first := day(in)
	if first.Status != mapping.DayAbsent {
		t.Fatalf("before the sync: %s", summary(first))
	}
	if again := day(in, in); again.ContentHash() != first.ContentHash() {
		t.Errorf("an identical recomputation changed the record")
	}
	corrected := day(late, in)
	if corrected.ContentHash() == first.ContentHash() || corrected.Status != mapping.DayPresent {
		t.Errorf("the late punch did not correct the day: %s", summary(corrected))
	}
	if !slices.Equal(corrected.Events, []string{in.ID, late.ID}) {
		t.Errorf("events = %v", corrected.Events)
	}
	if len(corrected.Anomalies) != 1 || corrected.Anomalies[0].Type != AnomalyOfflineUpload {
		t.Errorf("anomalies = %+v, want the offline upload", corrected.Anomalies)
	}
}

// TestRecordEvents: events lists the counted punches and make-ups and the
// approvals that contributed, sorted, and nothing else.
func TestRecordEvents(t *testing.T) {
	r := testRules()
	s := r.Shifts["standard"]
	s.Overtime.RequiresApproval = true
	r.Shifts["standard"] = s
	e := compile(t, r)
	b := &evb{emp: "E1"}
	ps := b.punches("2026-11-20 13:05", "2026-11-20 19:00")
	mk := b.makeup("2026-11-20 13:00", mapping.DirIn, mapping.StatusApproved)
	pending := b.makeup("2026-11-20 19:00", mapping.DirOut, mapping.StatusPending)
	lv := b.approval("leave", mapping.StatusApproved, "2026-11-20 09:00", "2026-11-20 13:00", "lv-1")
	ot := b.approval("overtime", mapping.StatusApproved, "2026-11-20 18:00", "2026-11-20 20:00", "ot-1")
	otUnused := b.approval("overtime", mapping.StatusApproved, "2026-11-20 06:00", "2026-11-20 07:00", "ot-2")
	other := (&evb{emp: "E2"}).punch("2026-11-20 09:00", mapping.DirIn)
	recs, err := e.Employee("E1", []mapping.Event{ps[0], ps[1], mk, pending, lv, ot, otUnused, other}, "2026-11-20", "2026-11-20", farFuture)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Employee: %v, %v", recs, err)
	}
	want := []string{mk.ID, ps[0].ID, ps[1].ID, lv.ID, ot.ID}
	slices.Sort(want)
	if !slices.Equal(recs[0].Events, want) {
		t.Errorf("events = %v\nwant %v", recs[0].Events, want)
	}
	if got := summary(recs[0]); got != "11-20 standard present in=11-20 13:00 out=11-20 19:00 w=360 late=- early=- ot=30 lv=240 miss=[] an=[makeup_pending]" {
		t.Errorf("record = %s", got)
	}
}

func TestEmployeeErrors(t *testing.T) {
	e := compile(t, testRules())
	for _, tc := range []struct{ emp, from, to, want string }{
		{"", "2026-11-20", "2026-11-20", "employee id is empty"},
		{"E1", "2026-11-31", "2026-12-01", `from "2026-11-31"`},
		{"E1", "2026-11-20", "20261121", `to "20261121"`},
		{"E1", "2026-11-21", "2026-11-20", "is before from"},
	} {
		if _, err := e.Employee(tc.emp, nil, tc.from, tc.to, farFuture); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Employee(%q, %s, %s) error = %v, want %q", tc.emp, tc.from, tc.to, err, tc.want)
		}
	}
}
