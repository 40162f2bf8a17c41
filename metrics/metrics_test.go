package metrics_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics"
	"github.com/punchbridge/punchbridge/metrics/metricstest"
)

var now = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

// newLedger returns a ledger with one dead delivery to "hr" and a checkpoint
// of "dt-hq" 90 minutes before now.
func newLedger(t *testing.T) ledger.Ledger {
	t.Helper()
	l, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx := t.Context()
	rec := mapping.DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Status: mapping.DayPresent, Version: 1}
	for _, sink := range []string{"hr", "payroll"} {
		if err := l.Enqueue(ctx, sink, rec); err != nil {
			t.Fatal(err)
		}
	}
	due, err := l.Due(ctx, "hr", now, 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("due %v, %v", due, err)
	}
	if err := l.MarkFailed(ctx, due[0].ID, "422 unknown employee", now, true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetCheckpoint(ctx, "dt-hq", now.Add(-90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCountersMove(t *testing.T) {
	calls := map[string]map[string]int{"attendance/listRecord": {"0": 7, "90018": 2}, "gettoken": {"0": 1}}
	m := metrics.New(metrics.Options{
		Ledger: newLedger(t),
		Connectors: []metrics.Connector{
			{Name: "dt-hq", Calls: func() map[string]map[string]int { return calls }},
			{Name: "wc-branch"},
		},
		Sinks: []string{"hr", "payroll"},
		Jobs:  []string{"nightly"},
		Now:   func() time.Time { return now },
	})
	before, err := metricstest.Scrape(m.Handler(), "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m.IngestCounts("dt-hq", metrics.Counts{Received: 10, Stored: 6, Revisions: 1, Duplicates: 2, Rejected: 1, Quarantined: 3})
	m.IngestCounts("dt-hq", metrics.Counts{Received: 1, Stored: 1})
	m.Pull("dt-hq", now, 11, nil)
	m.Pull("wc-branch", now, 0, errors.New("wecom: rate limited"))
	m.WebhookHandled("wc-branch", 200, 30*time.Millisecond)
	m.WebhookHandled("wc-branch", 503, 2*time.Second)
	m.PushAttempt("hr", metrics.PushDelivered)
	m.PushAttempt("hr", metrics.PushFailed)
	m.PushAttempt("hr", metrics.PushDeadLettered)
	m.JobRun("nightly", "succeeded", 42*time.Second)
	m.Commit("ledger", 120, 2*time.Millisecond, 4*time.Millisecond)
	m.Commit("ledger", 3, time.Millisecond, time.Millisecond)
	m.Commit("claims", 120, 0, 300*time.Microsecond)
	m.QuotaUse("dt-hq", "attendance/listRecord", 0.95)
	after, err := metricstest.Scrape(m.Handler(), "/metrics")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name          string
		labels        []string
		before, after float64
	}{
		{"punchbridge_events_received_total", []string{"connector", "dt-hq"}, 0, 11},
		{"punchbridge_events_pulled_total", []string{"connector", "dt-hq"}, 0, 11},
		{"punchbridge_events_stored_total", []string{"connector", "dt-hq"}, 0, 7},
		{"punchbridge_event_revisions_total", []string{"connector", "dt-hq"}, 0, 1},
		{"punchbridge_events_duplicate_total", []string{"connector", "dt-hq"}, 0, 2},
		{"punchbridge_events_rejected_total", []string{"connector", "dt-hq"}, 0, 1},
		{"punchbridge_events_quarantined_total", []string{"connector", "dt-hq"}, 0, 3},
		{"punchbridge_events_stored_total", []string{"connector", "wc-branch"}, 0, 0},
		{"punchbridge_push_attempts_total", []string{"sink", "hr"}, 0, 3},
		{"punchbridge_push_successes_total", []string{"sink", "hr"}, 0, 1},
		{"punchbridge_push_failures_total", []string{"sink", "hr"}, 0, 2},
		{"punchbridge_push_dead_lettered_total", []string{"sink", "hr"}, 0, 1},
		{"punchbridge_push_attempts_total", []string{"sink", "payroll"}, 0, 0},
		{"punchbridge_job_runs_total", []string{"job", "nightly", "outcome", "succeeded"}, 0, 1},
		{"punchbridge_job_runs_total", []string{"job", "nightly", "outcome", "failed"}, 0, 0},
		{"punchbridge_dlq_size", []string{"sink", "hr"}, 1, 1},
		{"punchbridge_dlq_size", []string{"sink", "payroll"}, 0, 0},
		{"punchbridge_watermark_age_seconds", []string{"connector", "dt-hq"}, 5400, 5400},
		{"punchbridge_platform_api_calls_total", []string{"connector", "dt-hq", "api", "attendance/listRecord", "code", "90018"}, 2, 2},
		{"punchbridge_platform_api_calls_total", []string{"connector", "dt-hq", "api", "gettoken", "code", "0"}, 1, 1},
		{"punchbridge_platform_rate_limit_waits_total", []string{"connector", "dt-hq", "api", "attendance/listRecord"}, 2, 2},
		{"punchbridge_platform_rate_limit_waits_total", []string{"connector", "dt-hq", "api", "gettoken"}, 0, 0},
	}
	for _, tc := range tests {
		b, okb := before.Value(tc.name, tc.labels...)
		a, oka := after.Value(tc.name, tc.labels...)
		if !okb || !oka || b != tc.before || a != tc.after {
			t.Errorf("%s%v: before %v (found %v), after %v (found %v); want %v then %v", tc.name, tc.labels, b, okb, a, oka, tc.before, tc.after)
		}
	}
	// Samples that only appear once something happened.
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"punchbridge_pulls_total", []string{"connector", "wc-branch", "outcome", "failed"}, 1},
		{"punchbridge_last_pull_timestamp_seconds", []string{"connector", "dt-hq", "outcome", "succeeded"}, float64(now.Unix())},
		{"punchbridge_webhook_duration_seconds", []string{"connector", "wc-branch", "status", "503"}, 1},
		{"punchbridge_job_duration_seconds", []string{"job", "nightly"}, 1},
		{"punchbridge_ledger_commit_duration_seconds", []string{"writer", "ledger"}, 2},
		{"punchbridge_ledger_commit_wait_seconds", []string{"writer", "ledger"}, 2},
		{"punchbridge_ledger_commit_items", []string{"writer", "ledger"}, 2},
		{"punchbridge_ledger_commit_items", []string{"writer", "claims"}, 1},
		{"punchbridge_platform_quota_utilisation", []string{"connector", "dt-hq", "api", "attendance/listRecord"}, 0.95},
	} {
		if _, ok := before.Value(tc.name, tc.labels...); ok {
			t.Errorf("%s%v present before anything happened", tc.name, tc.labels)
		}
		if got, ok := after.Value(tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if _, ok := after.Value("punchbridge_watermark_age_seconds", "connector", "wc-branch"); ok {
		t.Error("a connector never pulled reports a watermark age")
	}
	if _, ok := after.Value("go_goroutines"); !ok {
		t.Error("the Go runtime collector is not registered")
	}

	if p, ok := m.LastPull("wc-branch"); !ok || p.Err != "wecom: rate limited" || !p.At.Equal(now) {
		t.Errorf("LastPull(wc-branch) = %+v, %v", p, ok)
	}
	if got := m.APICalls("dt-hq"); got["attendance/listRecord"]["0"] != 7 {
		t.Errorf("APICalls(dt-hq) = %v", got)
	}
	if got := m.APICalls("wc-branch"); got != nil {
		t.Errorf("APICalls of a connector without counters = %v, want nil", got)
	}
}

// A ledger that cannot be read leaves its gauges out; the rest is served.
func TestScrapeWithBrokenLedger(t *testing.T) {
	l := newLedger(t)
	m := metrics.New(metrics.Options{Ledger: l, Connectors: []metrics.Connector{{Name: "dt-hq"}}, Sinks: []string{"hr"}})
	l.Close()
	m.JobRun("nightly", "failed", time.Second)
	fams, err := metricstest.Scrape(m.Handler(), "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fams.Value("punchbridge_dlq_size", "sink", "hr"); ok {
		t.Error("dlq size reported from a closed ledger")
	}
	if v, ok := fams.Value("punchbridge_job_runs_total", "job", "nightly", "outcome", "failed"); !ok || v != 1 {
		t.Errorf("job runs = %v, %v; want 1", v, ok)
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	m.IngestCounts("c", metrics.Counts{Received: 1})
	m.Pull("c", now, 1, nil)
	m.WebhookHandled("c", 200, time.Millisecond)
	m.PushAttempt("s", metrics.PushDelivered)
	m.JobRun("j", "succeeded", time.Second)
	m.Commit("ledger", 1, time.Millisecond, time.Millisecond)
	m.QuotaUse("c", "api", 1)
	if _, ok := m.LastPull("c"); ok {
		t.Error("a nil Metrics remembers a pull")
	}
}

func TestIsRateLimit(t *testing.T) {
	for code, want := range map[string]bool{
		"0": false, "-1": false, "90018": true, "90002": true, "90020": false, "1111": true,
		"45009": true, "45033": true, "http_429": true, "http_500": false,
		"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": true, "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi": true,
		"Forbidden.AccessDenied.ApiCountLimitForOrg": false, "InvalidAuthentication": false,
	} {
		if got := metrics.IsRateLimit(code); got != want {
			t.Errorf("IsRateLimit(%q) = %v, want %v", code, got, want)
		}
	}
}
