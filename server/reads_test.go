package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/explain"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics/metricstest"
)

func TestReadsShowTheCompany(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	get := func(path string) *httptest.ResponseRecorder {
		t.Helper()
		rec := call(t, h, "GET", path, viewerToken, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec
	}

	t.Run("events with rejected and quarantined ones", func(t *testing.T) {
		ev := decodeJSON[dayEvents](t, get("/api/v1/events?date=2026-11-20"))
		if len(ev.Events) != 0 || len(ev.Rejected) != 1 || len(ev.Quarantined) != 1 {
			t.Fatalf("without an employee: %d events, %d rejected, %d quarantined; want 0, 1, 1", len(ev.Events), len(ev.Rejected), len(ev.Quarantined))
		}
		if r := ev.Rejected[0]; !strings.Contains(r.Reason, "lat") || r.Connector != connector {
			t.Errorf("rejection %+v does not give its reason", r)
		}
		if q := ev.Quarantined[0]; q.UserID != "u9" {
			t.Errorf("quarantined %+v, want u9's punch", q)
		}
		ev = decodeJSON[dayEvents](t, get("/api/v1/events?employee=E1001&date=2026-11-20"))
		if len(ev.Events) != 2 || len(ev.Rejected) != 1 || len(ev.Quarantined) != 1 {
			t.Errorf("E1001: %d events, %d rejected, %d quarantined; want 2, 1, 1", len(ev.Events), len(ev.Rejected), len(ev.Quarantined))
		}
		ev = decodeJSON[dayEvents](t, get("/api/v1/events?employee=E1002&date=2026-11-20"))
		if len(ev.Events) != 2 || len(ev.Rejected) != 0 {
			t.Errorf("E1002: %d events and %d rejected, want 2 and 0 (the rejected punch is E1001's)", len(ev.Events), len(ev.Rejected))
		}
	})
	t.Run("days and versions", func(t *testing.T) {
		days := decodeJSON[struct{ Days []mapping.DayRecord }](t, get("/api/v1/days?from=2026-11-16&to=2026-11-20"))
		if len(days.Days) != 20 {
			t.Fatalf("%d day records, want 20", len(days.Days))
		}
		day := decodeJSON[struct {
			Records []dayVersions
		}](t, get("/api/v1/days/E1002/2026-11-18"))
		if len(day.Records) != 1 || !day.Records[0].Record.Late || len(day.Records[0].Versions) != 1 || day.Records[0].Versions[0].Version != 1 {
			t.Fatalf("E1002 Wednesday: %+v, want one late record with its one version", day.Records)
		}
	})
	t.Run("explain", func(t *testing.T) {
		rep := decodeJSON[explain.Report](t, get("/api/v1/days/E1002/2026-11-18/explain"))
		if len(rep.Shifts) != 1 || !rep.Shifts[0].Final {
			t.Fatalf("explanation %+v, want one final shift", rep)
		}
		found := false
		for _, r := range rep.Shifts[0].Rules {
			found = found || strings.Contains(r.Detail, "09:25:00 > 09:10:00")
		}
		if !found {
			t.Errorf("no rule compares the punch with the grace: %+v", rep.Shifts[0].Rules)
		}
		rec := call(t, h, "GET", "/api/v1/days/%20/2026-11-18/explain", viewerToken, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("blank employee: %d, want 400", rec.Code)
		}
	})
	t.Run("connectors", func(t *testing.T) {
		conns := decodeJSON[struct{ Connectors []connectorState }](t, get("/api/v1/connectors"))
		if len(conns.Connectors) != 1 {
			t.Fatalf("%+v", conns)
		}
		cs := conns.Connectors[0]
		if cs.Health != "ok" || cs.Checkpoint == nil || !cs.Checkpoint.Equal(watermark) || *cs.WatermarkAgeSeconds != 8*3600 ||
			cs.APICallsTotal != 14 || cs.APICalls["attendance/listRecord"]["90018"] != 1 || cs.LastPull == nil || cs.LastPull.Events != 40 {
			t.Errorf("connector %+v", cs)
		}
	})
	t.Run("status counts from the run log", func(t *testing.T) {
		st := decodeJSON[struct {
			Counts  []dayCounts
			DLQSize int `json:"dlq_size"`
		}](t, get("/api/v1/status"))
		today := st.Counts[0]
		if today.Date != "2026-11-21" || today.Runs != 1 || today.EventsStored != 38 || today.DaysComputed != 20 || today.RecordsPushed != 19 || today.PushFailures != 1 {
			t.Errorf("today %+v", today)
		}
		if st.Counts[1].Date != "2026-11-20" || st.Counts[1].Runs != 0 || st.DLQSize != 1 {
			t.Errorf("yesterday %+v, dlq %d", st.Counts[1], st.DLQSize)
		}
	})
	t.Run("jobs", func(t *testing.T) {
		js := decodeJSON[struct{ Jobs []jobState }](t, get("/api/v1/jobs"))
		if len(js.Jobs) != 1 || js.Jobs[0].LastRun == nil || js.Jobs[0].LastRun.Outcome != "succeeded" || *js.Jobs[0].LastRun.DurationSeconds != 41 {
			t.Fatalf("jobs %+v", js)
		}
		runs := decodeJSON[struct{ Runs []runView }](t, get("/api/v1/jobs/nightly/runs?limit=5"))
		if len(runs.Runs) != 1 || !strings.Contains(string(runs.Runs[0].Report), `"records_pushed":19`) {
			t.Fatalf("runs %+v", runs)
		}
	})
	t.Run("dead-letter queue", func(t *testing.T) {
		dlq := decodeJSON[struct{ Entries []deadEntry }](t, get("/api/v1/dlq?sink=hr"))
		if len(dlq.Entries) != 1 || dlq.Entries[0].ID != c.deadID || dlq.Entries[0].Record.Status != mapping.DayAbsent || !strings.Contains(dlq.Entries[0].LastError, "422") {
			t.Fatalf("dlq %+v", dlq)
		}
		dlq = decodeJSON[struct{ Entries []deadEntry }](t, get("/api/v1/dlq?since=2026-11-22"))
		if len(dlq.Entries) != 0 {
			t.Errorf("since after the failure lists %d", len(dlq.Entries))
		}
	})
}

// echoReceiver stores every webhook body as one event.
type slowReceiver struct{}

func (slowReceiver) Name() string     { return "dingtalk-hq" }
func (slowReceiver) Platform() string { return "dingtalk" }
func (slowReceiver) Tenant() string   { return tenant }
func (slowReceiver) Handler(ingest connectors.EmitFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ingest(r.Context(), nil); err != nil {
			http.Error(w, "retry", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("success"))
	})
}

func TestMetricsEndpoint(t *testing.T) {
	c := newCompany(t)
	o := c.options()
	o.Receivers = []connectors.Receiver{slowReceiver{}}
	fail := false
	o.Ingest = func(context.Context, []mapping.Event) error {
		if fail {
			return context.DeadlineExceeded
		}
		return nil
	}
	h := New(o)
	call(t, h, "POST", "/hooks/dingtalk/dingtalk-hq", "", "x")
	fail = true
	call(t, h, "POST", "/hooks/dingtalk/dingtalk-hq", "", "x")
	fams, err := metricstest.Scrape(h, "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"punchbridge_webhook_duration_seconds", []string{"connector", "dingtalk-hq", "status", "200"}, 1},
		{"punchbridge_webhook_duration_seconds", []string{"connector", "dingtalk-hq", "status", "503"}, 1},
		{"punchbridge_dlq_size", []string{"sink", "hr"}, 1},
		{"punchbridge_watermark_age_seconds", []string{"connector", "dingtalk-hq"}, 8 * 3600},
		{"punchbridge_events_pulled_total", []string{"connector", "dingtalk-hq"}, 40},
	} {
		if got, ok := fams.Value(tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// /metrics, /healthz and /readyz need no token.
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		if rec := call(t, h, "GET", p, "", ""); rec.Code != http.StatusOK {
			t.Errorf("GET %s without a token: %d", p, rec.Code)
		}
	}
}
