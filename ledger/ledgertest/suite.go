package ledgertest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Open returns a new, empty ledger for one test. It may register cleanups on
// t (dropping a database, say); Run closes the ledger before they run.
type Open func(t *testing.T) ledger.Ledger

// closing is open with each ledger closed when its test ends, before the
// cleanups open registered.
func closing(open Open) Open {
	return func(t *testing.T) ledger.Ledger {
		l := open(t)
		t.Cleanup(func() {
			if err := l.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return l
	}
}

// Run runs every conformance test against ledgers from open, each subtest
// on a fresh one.
func Run(t *testing.T, open Open) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Events", eventTests},
		{"Quarantine", quarantineTests},
		{"Rejections", rejectionTests},
		{"Dirty", dirtyTests},
		{"Days", dayTests},
		{"Checkpoints", checkpointTests},
		{"Outbox", outboxTests},
		{"Concurrency", concurrencyTests},
		{"Ping", pingTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					l := open(t)
					t.Cleanup(func() {
						if err := l.Close(); err != nil {
							t.Errorf("close: %v", err)
						}
					})
					tt.run(t, l)
				})
			}
		})
	}
}

// test is one conformance check on a fresh ledger.
type test struct {
	name string
	run  func(t *testing.T, l ledger.Ledger)
}

// Times in the suite are whole seconds, which every backend stores exactly,
// and carry a +08:00 offset, which events must keep.
var cst = time.FixedZone("CST", 8*3600)

// at returns 2026-11-<day> hh:mm in +08:00.
func at(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, cst) }

const (
	platform = "dingtalk"
	tenant   = "ding5f3a"
)

// punch returns a valid punch event with every optional field set, so that
// a round trip through the ledger has something to lose.
func punch(n int, user, employee string, tm time.Time) mapping.Event {
	lat, lng, acc := 31.2304, 121.4737, 25.5
	sched := tm.Truncate(time.Hour)
	return mapping.Event{
		Schema:     mapping.EventSchema,
		ID:         fmt.Sprintf("%s/%s/punch/%d", platform, tenant, n),
		Kind:       mapping.KindPunch,
		Platform:   platform,
		Connector:  "dingtalk-hq",
		Tenant:     tenant,
		UserID:     user,
		EmployeeID: employee,
		Time:       tm,
		ReceivedAt: tm.Add(2 * time.Second),
		Via:        mapping.ViaPull,
		Punch: &mapping.Punch{
			Direction: mapping.DirIn, Method: mapping.MethodApp,
			Lat: &lat, Lng: &lng, AccuracyM: &acc, Address: "88 Century Ave",
			DeviceID: "dev-1", PlatformResult: "normal", ScheduledAt: &sched,
			Anomalies: []string{"duplicate_punch"},
		},
	}
}

// approval returns a valid leave approval decided at decided.
func approval(n int, user, employee string, status mapping.Status, decided, start, end time.Time) mapping.Event {
	return mapping.Event{
		Schema:     mapping.EventSchema,
		ID:         fmt.Sprintf("%s/%s/approval/%d", platform, tenant, n),
		Kind:       mapping.KindApproval,
		Platform:   platform,
		Connector:  "dingtalk-hq",
		Tenant:     tenant,
		UserID:     user,
		EmployeeID: employee,
		Time:       decided,
		ReceivedAt: decided.Add(time.Minute),
		Via:        mapping.ViaWebhook,
		Approval: &mapping.Approval{
			Type: mapping.ApprovalLeave, LeaveType: "annual", Status: status,
			Start: start, End: end, DurationMinutes: int(end.Sub(start).Minutes()), ApprovalID: fmt.Sprintf("proc-%d", n),
		},
	}
}

// valid fails the test if a fixture breaks the schema: the suite stores
// only what the pipeline would.
func valid(t *testing.T, events ...mapping.Event) []mapping.Event {
	t.Helper()
	for _, e := range events {
		if err := mapping.Validate(e); err != nil {
			t.Fatalf("fixture %s is invalid: %v", e.ID, err)
		}
	}
	return events
}

func mustAppend(t *testing.T, l ledger.Ledger, events ...mapping.Event) ledger.AppendResult {
	t.Helper()
	res, err := l.Append(t.Context(), valid(t, events...))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}

func checkCounts(t *testing.T, got ledger.AppendResult, stored, revisions, duplicates, quarantined int) {
	t.Helper()
	if got.Stored != stored || got.Revisions != revisions || got.Duplicates != duplicates || got.Quarantined != quarantined {
		t.Errorf("Append counted stored=%d revisions=%d duplicates=%d quarantined=%d, want %d %d %d %d",
			got.Stored, got.Revisions, got.Duplicates, got.Quarantined, stored, revisions, duplicates, quarantined)
	}
}

// sameEvents fails unless got and want hold the same events in the same
// order, compared as their JSON bytes (offsets included).
func sameEvents(t *testing.T, what string, got, want []mapping.Event) {
	t.Helper()
	g, w := eventJSON(t, got), eventJSON(t, want)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
	}
}

// sameEventSet is sameEvents for results whose order the contract leaves
// open.
func sameEventSet(t *testing.T, what string, got, want []mapping.Event) {
	t.Helper()
	byID := func(a, b mapping.Event) int { return strings.Compare(a.ID, b.ID) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, byID)
	slices.SortFunc(want, byID)
	sameEvents(t, what, got, want)
}

func eventJSON(t *testing.T, events []mapping.Event) []string {
	t.Helper()
	out := make([]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

func withEmployee(e mapping.Event, employee string) mapping.Event {
	e.EmployeeID = employee
	return e
}

var pingTests = []test{
	{"an open ledger answers", func(t *testing.T, l ledger.Ledger) {
		if err := l.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}},
	{"a cancelled context is reported", func(t *testing.T, l ledger.Ledger) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.Ping(ctx); err == nil {
			t.Fatal("Ping with a cancelled context succeeded")
		}
	}},
}
