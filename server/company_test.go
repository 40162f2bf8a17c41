package server

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/explain"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics"
	"github.com/punchbridge/punchbridge/reconcile"
)

// The tokens of the test company, one per role.
const (
	viewerToken   = "vera-viewer-0123456789"
	operatorToken = "otto-operator-0123456789"
	adminToken    = "ada-admin-0123456789"
)

var cst = time.FixedZone("CST", 8*3600)

func at(date, hms string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, date+" "+hms, cst)
	if err != nil {
		panic(err)
	}
	return t
}

const (
	tenant    = "ding5f3a"
	connector = "dingtalk-hq"
	sinkName  = "hr"
)

// Saturday morning after the company's week: today is 2026-11-21.
var (
	companyNow = at("2026-11-21", "10:00:00")
	watermark  = at("2026-11-21", "02:00:00")
	workDays   = []string{"2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"}
)

// fakeConnector is a configured connector as the server sees it.
type fakeConnector struct{ name, platform, tenant string }

func (f fakeConnector) Name() string     { return f.name }
func (f fakeConnector) Platform() string { return f.platform }
func (f fakeConnector) Tenant() string   { return f.tenant }

// recordingSink accepts every delivery and remembers its key.
type recordingSink struct {
	mu   sync.Mutex
	keys []string
}

func (s *recordingSink) Name() string { return sinkName }
func (s *recordingSink) Deliver(_ context.Context, d connectors.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, d.IdempotencyKey)
	return nil
}

func (s *recordingSink) delivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

// company is a small company's week in a real SQLite ledger, computed by
// the real ingest and rules engine, behind a server with every option set.
type company struct {
	ledger  *sqlite.Ledger
	engine  *reconcile.Engine
	metrics *metrics.Metrics
	sink    *recordingSink
	deadID  int64 // the one dead delivery: E1004's absent Tuesday

	mu      sync.Mutex
	calls   []string // Pull, Remap and job calls, in order
	jobFail error
}

// punch is a valid punch event of a platform user.
func punch(user string, tm time.Time) mapping.Event {
	return mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/%s/punch/%s-%d", tenant, user, tm.Unix()), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: connector, Tenant: tenant, UserID: user, Time: tm, ReceivedAt: tm.Add(time.Minute), Via: mapping.ViaPull,
		Punch: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodApp, PlatformResult: "normal"},
	}
}

// newCompany builds the week: E1001 always on time; E1002 late on
// Wednesday; E1003 without a punch-out on Thursday; E1004 absent on
// Tuesday; an unmapped user u9 (quarantined) and one event with a
// latitude out of range (rejected). Every record is delivered to "hr"
// except E1004's Tuesday, which is dead-lettered.
func newCompany(t *testing.T) *company {
	t.Helper()
	ctx := t.Context()
	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithClock(func() time.Time { return companyNow }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	engine, err := reconcile.Compile(reconcile.Rules{
		Timezone: "Asia/Shanghai",
		Shifts: map[string]reconcile.Shift{"standard": {
			Start: "09:00", End: "18:00", CheckinOpensBefore: time.Hour, CheckoutClosesAfter: time.Hour,
			LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute, Directions: "alternate", WorkingHours: "first_last",
		}},
		Assign: reconcile.Assign{Default: reconcile.ShiftList{"standard"}, RestDays: []string{"sat", "sun"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := mapping.NewIdentities()
	employees := map[string]string{"u1": "E1001", "u2": "E1002", "u3": "E1003", "u4": "E1004"}
	for u, e := range employees {
		ids.Set("dingtalk", tenant, u, e)
	}
	var events []mapping.Event
	for _, d := range workDays {
		for _, u := range []string{"u1", "u2", "u3", "u4"} {
			in, out := at(d, "08:55:00"), at(d, "18:05:00")
			switch {
			case u == "u2" && d == "2026-11-18":
				in = at(d, "09:25:00")
			case u == "u4" && d == "2026-11-17":
				continue
			}
			events = append(events, punch(u, in))
			if !(u == "u3" && d == "2026-11-19") {
				events = append(events, punch(u, out))
			}
		}
	}
	lost := punch("u9", at("2026-11-20", "09:01:00"))
	bad := punch("u1", at("2026-11-20", "12:00:00"))
	lat := 123.0
	bad.Punch.Lat, bad.Punch.Lng = &lat, &lat
	events = append(events, lost, bad)
	in := ingest.New(l, ids, engine, nil)
	if _, err := in.Ingest(ctx, events); err != nil {
		t.Fatal(err)
	}

	for _, e := range []string{"E1001", "E1002", "E1003", "E1004"} {
		start, end := engine.EventSpan(workDays[0], workDays[len(workDays)-1])
		evs, err := l.Events(ctx, e, start, end)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := engine.Employee(e, evs, workDays[0], workDays[len(workDays)-1], watermark)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			stored, _, err := l.PutDay(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Enqueue(ctx, sinkName, stored); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := &company{ledger: l, engine: engine, sink: &recordingSink{}}
	due, err := l.Due(ctx, sinkName, watermark, 0)
	if err != nil || len(due) != 20 {
		t.Fatalf("%d due deliveries, %v; want 4 employees × 5 days", len(due), err)
	}
	for _, e := range due {
		if e.Record.EmployeeID == "E1004" && e.Record.Date == "2026-11-17" {
			c.deadID = e.ID
			if err := l.MarkFailed(ctx, e.ID, "hr: 422 Unprocessable Entity: unknown absence code", watermark, true); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := l.MarkDelivered(ctx, e.ID, watermark); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SetCheckpoint(ctx, connector, watermark); err != nil {
		t.Fatal(err)
	}
	report, _ := json.Marshal(jobs.Report{Job: "nightly", EventsPulled: 40, EventsStored: 38, DaysReconciled: 20, DaysChanged: 20, RecordsPushed: 19, PushFailures: 1, DeadLettered: 1})
	id, err := l.StartRun(ctx, ledger.JobRun{Job: "nightly", Tick: watermark, Trigger: jobs.TriggerSchedule, Owner: "replica-1", Started: watermark})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.FinishRun(ctx, id, watermark.Add(41*time.Second), ledger.RunSucceeded, "", report); err != nil {
		t.Fatal(err)
	}
	c.ledger = l
	c.metrics = metrics.New(metrics.Options{
		Ledger: l, Sinks: []string{sinkName}, Jobs: []string{"nightly"}, Now: func() time.Time { return companyNow },
		Connectors: []metrics.Connector{{Name: connector, Calls: func() map[string]map[string]int {
			return map[string]map[string]int{"attendance/listRecord": {"0": 12, "90018": 1}, "gettoken": {"0": 1}}
		}}},
	})
	c.metrics.Pull(connector, watermark, 40, nil)
	return c
}

// options are the server options of the company: every feature wired to
// the real ledger, engine and explain, with Pull, Remap and the job
// recorded instead of reaching a platform.
func (c *company) options() Options {
	push := &jobs.Sync{Name: "push", Ledger: c.ledger, Sinks: []connectors.Sink{c.sink}}
	return Options{
		Metrics: c.metrics,
		Tokens: []Token{
			{Name: "vera", Value: viewerToken, Role: RoleViewer},
			{Name: "otto", Value: operatorToken, Role: RoleOperator},
			{Name: "ada", Value: adminToken, Role: RoleAdmin},
		},
		Ledger:     c.ledger,
		Connectors: []connectors.Connector{fakeConnector{connector, "dingtalk", tenant}},
		Jobs: []Job{{Name: "nightly", Schedule: "CRON_TZ=Asia/Shanghai 0 2 * * *", Run: func(context.Context) (any, error) {
			c.record("job nightly")
			return jobs.Report{Job: "nightly", RecordsPushed: 2}, c.jobErr()
		}}},
		Push: func(ctx context.Context, sink string) (PushResult, error) {
			rep, err := push.PushDue(ctx, companyNow)
			return PushResult{Delivered: rep.RecordsPushed, Failed: rep.PushFailures, DeadLettered: rep.DeadLettered}, err
		},
		Pull: func(_ context.Context, name string, from, to time.Time) (any, error) {
			c.record(fmt.Sprintf("pull %s %s %s", name, from.Format(time.RFC3339), to.Format(time.RFC3339)))
			return map[string]int{"events_pulled": 3}, nil
		},
		Remap: func(_ context.Context, platform, tenant, user, emp string) (int, error) {
			c.record(fmt.Sprintf("remap %s/%s/%s %s", platform, tenant, user, emp))
			return 1, nil
		},
		Explain: func(ctx context.Context, emp, date string) (explain.Report, error) {
			return explain.Day(ctx, c.ledger, c.engine, explain.Checkpoints(c.ledger, []string{connector}), emp, date)
		},
		Teams: func(context.Context) (map[string]string, error) {
			return map[string]string{"E1001": "Sales", "E1002": "Sales", "E1003": "Engineering", "E1004": "Engineering"}, nil
		},
		Location: c.engine.Location(),
		Now:      func() time.Time { return companyNow },
	}
}

func (c *company) record(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

func (c *company) jobErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobFail
}

func (c *company) recorded() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}
