package main

import (
	"context"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/metrics/metricstest"
)

// TestRunMovesMetricsAndKeepsRaw runs the nightly job the way serve does
// and checks what operators see: /metrics parses and its counters move
// with the run; the platform's raw records are kept beside the events, and
// purge-raw removes them after the retention while the events stay.
func TestRunMovesMetricsAndKeepsRaw(t *testing.T) {
	f := newOpsFixture(t, 4)
	a := openFixtureApp(t, f)
	defer a.Close()
	ctx := context.Background()
	value := func(name string, labels ...string) float64 {
		t.Helper()
		fams, err := metricstest.Scrape(a.metrics.Handler(), "/metrics")
		if err != nil {
			t.Fatalf("/metrics does not parse: %v", err)
		}
		v, _ := fams.Value(name, labels...)
		return v
	}
	if v := value("punchbridge_events_stored_total", "connector", "dingtalk-demo"); v != 0 {
		t.Fatalf("events stored before any run: %v", v)
	}
	s, err := a.syncJob(a.cfg.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	var rep jobs.Report
	if err := a.guard().Run(ctx, "nightly", jobs.TriggerManual, a.now(), func(ctx context.Context, now time.Time) (any, error) {
		r, err := s.Run(ctx, now)
		rep = r
		return r, err
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"punchbridge_events_pulled_total", []string{"connector", "dingtalk-demo"}, float64(rep.EventsPulled)},
		{"punchbridge_events_stored_total", []string{"connector", "dingtalk-demo"}, float64(rep.EventsStored)},
		{"punchbridge_push_successes_total", []string{"sink", "hr-demo"}, float64(rep.RecordsPushed)},
		{"punchbridge_job_runs_total", []string{"job", "nightly", "outcome", "succeeded"}, 1},
	} {
		if got := value(c.name, c.labels...); got != c.want || got == 0 {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The pull's writes went through the ledger's group-commit writer.
	if got := value("punchbridge_ledger_commit_duration_seconds", "writer", "ledger"); got == 0 {
		t.Error("no ledger commit recorded after a run that stored events")
	}

	rs := a.ledger.(ledger.RawStore)
	events, err := a.ledger.Events(ctx, "E1001", time.Time{}, a.now().Add(time.Hour))
	if err != nil || len(events) == 0 {
		t.Fatalf("events of E1001: %d, %v", len(events), err)
	}
	raw, err := rs.RawFor(ctx, events[0].ID)
	if err != nil || len(raw) != 1 || len(raw[0].Body) < 20 {
		t.Fatalf("raw payload of %s: %+v, %v; want the platform's record", events[0].ID, raw, err)
	}
	report, err := a.purgeRaw(ctx, a.now().Add(a.cfg.Privacy.RawRetention+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := report.(map[string]any)["raw_payloads_purged"].(int); n != rep.EventsStored {
		t.Fatalf("purged %d raw payloads, want the %d stored", n, rep.EventsStored)
	}
	if left, _ := rs.RawFor(ctx, events[0].ID); len(left) != 0 {
		t.Fatal("a raw payload survived the purge")
	}
	if after, _ := a.ledger.Events(ctx, "E1001", time.Time{}, a.now().Add(time.Hour)); len(after) != len(events) {
		t.Fatal("the purge removed normalized events")
	}
}
