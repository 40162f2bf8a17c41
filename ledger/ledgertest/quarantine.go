package ledgertest

import (
	"slices"
	"testing"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

func quarantined(t *testing.T, l ledger.Ledger, limit int) []mapping.Event {
	t.Helper()
	q, err := l.Quarantined(t.Context(), limit)
	if err != nil {
		t.Fatalf("Quarantined: %v", err)
	}
	return q
}

func events(t *testing.T, l ledger.Ledger, employee string) []mapping.Event {
	t.Helper()
	got, err := l.Events(t.Context(), employee, at(1, 0, 0), at(30, 0, 0))
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return got
}

var quarantineTests = []test{
	{"events without an employee id are stored, counted and kept out of Changed", func(t *testing.T, l ledger.Ledger) {
		lost1 := punch(1, "u9", "", at(20, 9, 0))
		lost2 := punch(2, "u9", "", at(20, 18, 0))
		mapped := punch(3, "u1", "E1", at(20, 9, 0))
		res := mustAppend(t, l, lost2, mapped, lost1)
		checkCounts(t, res, 3, 0, 0, 2)
		sameEvents(t, "Changed", res.Changed, []mapping.Event{mapped})
		sameEvents(t, "Quarantined", quarantined(t, l, 0), []mapping.Event{lost1, lost2})
		sameEvents(t, "Quarantined limit 1", quarantined(t, l, 1), []mapping.Event{lost1})
		if got, _ := l.Employees(t.Context()); !slices.Equal(got, []string{"E1"}) {
			t.Errorf("Employees = %v, want [E1]", got)
		}
	}},
	{"a quarantined revision counts as quarantined and replaces the first", func(t *testing.T, l ledger.Ledger) {
		pending := approval(1, "u9", "", mapping.StatusPending, at(18, 9, 0), at(20, 9, 0), at(20, 18, 0))
		approved := approval(1, "u9", "", mapping.StatusApproved, at(19, 9, 0), at(20, 9, 0), at(20, 18, 0))
		mustAppend(t, l, pending)
		checkCounts(t, mustAppend(t, l, approved), 0, 1, 0, 1)
		sameEvents(t, "Quarantined", quarantined(t, l, 0), []mapping.Event{approved})
	}},
	{"Remap assigns the user's quarantined events and returns them", func(t *testing.T, l ledger.Ledger) {
		pending := approval(1, "u9", "", mapping.StatusPending, at(18, 9, 0), at(20, 9, 0), at(20, 18, 0))
		approved := approval(1, "u9", "", mapping.StatusApproved, at(19, 9, 0), at(20, 9, 0), at(20, 18, 0))
		p := punch(2, "u9", "", at(21, 9, 0))
		otherUser := punch(3, "u8", "", at(21, 9, 0))
		otherTenant := punch(4, "u9", "", at(21, 9, 0))
		otherTenant.Tenant, otherTenant.ID = "ding0000", "dingtalk/ding0000/punch/4"
		mustAppend(t, l, pending, p, otherUser, otherTenant)
		mustAppend(t, l, approved)

		got, err := l.Remap(t.Context(), platform, tenant, "u9", "E9")
		if err != nil {
			t.Fatal(err)
		}
		want := []mapping.Event{withEmployee(approved, "E9"), withEmployee(p, "E9")}
		sameEventSet(t, "Remap", got, want)
		sameEvents(t, "Events after Remap", events(t, l, "E9"), want)
		sameEventSet(t, "Quarantined after Remap", quarantined(t, l, 0), []mapping.Event{otherUser, otherTenant})
		if emps, _ := l.Employees(t.Context()); !slices.Equal(emps, []string{"E9"}) {
			t.Errorf("Employees = %v, want [E9]", emps)
		}
		again, err := l.Remap(t.Context(), platform, tenant, "u9", "E10")
		if err != nil || len(again) != 0 {
			t.Errorf("second Remap = %d events, %v; want none, nil", len(again), err)
		}
		// The stored copy now carries the employee id: the same copy with it
		// is a plain duplicate.
		res := mustAppend(t, l, withEmployee(p, "E9"))
		checkCounts(t, res, 0, 0, 1, 0)
		if len(res.Changed) != 0 {
			t.Errorf("Changed = %d events, want none", len(res.Changed))
		}
	}},
	{"Remap with no employee id is an error", func(t *testing.T, l ledger.Ledger) {
		mustAppend(t, l, punch(1, "u9", "", at(20, 9, 0)))
		if _, err := l.Remap(t.Context(), platform, tenant, "u9", ""); err == nil {
			t.Error("Remap to an empty employee id succeeded")
		}
		if n := len(quarantined(t, l, 0)); n != 1 {
			t.Errorf("Quarantined = %d events, want 1", n)
		}
	}},
	{"a duplicate that brings an employee id remaps the stored copy", func(t *testing.T, l ledger.Ledger) {
		lost := punch(1, "u9", "", at(20, 9, 0))
		mustAppend(t, l, lost)
		found := withEmployee(lost, "E9")
		found.Via = mapping.ViaWebhook
		res := mustAppend(t, l, found)
		checkCounts(t, res, 0, 0, 1, 0)
		// The stored copy (via pull) gains the employee id; its other
		// fields stay as first stored.
		want := withEmployee(lost, "E9")
		sameEvents(t, "Changed", res.Changed, []mapping.Event{want})
		sameEvents(t, "Events", events(t, l, "E9"), []mapping.Event{want})
		if q := quarantined(t, l, 0); len(q) != 0 {
			t.Errorf("Quarantined = %d events, want none", len(q))
		}
		if emps, _ := l.Employees(t.Context()); !slices.Equal(emps, []string{"E9"}) {
			t.Errorf("Employees = %v, want [E9]", emps)
		}
	}},
	{"a duplicate naming another employee does not move a mapped event", func(t *testing.T, l ledger.Ledger) {
		p := punch(1, "u1", "E1", at(20, 9, 0))
		mustAppend(t, l, p)
		res := mustAppend(t, l, withEmployee(p, "E2"))
		checkCounts(t, res, 0, 0, 1, 0)
		if len(res.Changed) != 0 {
			t.Errorf("Changed = %d events, want none", len(res.Changed))
		}
		sameEvents(t, "Events of E1", events(t, l, "E1"), []mapping.Event{p})
		sameEvents(t, "Events of E2", events(t, l, "E2"), nil)
		if emps, _ := l.Employees(t.Context()); !slices.Equal(emps, []string{"E1"}) {
			t.Errorf("Employees = %v, want [E1]", emps)
		}
	}},
}
