package hrhttp_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
	"github.com/punchbridge/punchbridge/reconcile"
)

// daySource serves two punches a user for one day and its directory.
type daySource struct {
	users  []connectors.User
	events []mapping.Event
}

func (s *daySource) Name() string     { return "dt" }
func (s *daySource) Platform() string { return "fake" }
func (s *daySource) Tenant() string   { return "t1" }
func (s *daySource) Users(context.Context) ([]connectors.User, error) {
	return s.users, nil
}

func (s *daySource) Pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	var batch []mapping.Event
	for _, e := range s.events {
		if !e.Time.Before(w.From) && e.Time.Before(w.To) {
			batch = append(batch, e)
		}
	}
	return connectors.PullStats{Events: len(batch)}, emit(ctx, batch)
}

// TestMappingErrorDeadLettersOneRecord runs the pull → reconcile → push
// job on a real SQLite ledger: HR wants numeric badge numbers, and one
// employee id (a contractor's) is not one. That day record goes to the
// dead-letter queue with the mapping's error, naming field, value and
// reason; the other employees' records are delivered.
func TestMappingErrorDeadLettersOneRecord(t *testing.T) {
	ctx := t.Context()
	cst := time.FixedZone("CST", 8*3600)
	at := func(hhmm string) time.Time {
		t0, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-20 "+hhmm, cst)
		return t0
	}
	src := &daySource{}
	for i, emp := range []string{"E1001", "CONTRACTOR-7", "E1003"} {
		user := "u" + string(rune('1'+i))
		src.users = append(src.users, connectors.User{UserID: user, JobNumber: emp})
		for j, hhmm := range []string{"08:55", "18:05"} {
			src.events = append(src.events, mapping.Event{
				Schema: mapping.EventSchema, ID: "fake/t1/punch/" + user + string(rune('a'+j)), Kind: mapping.KindPunch,
				Platform: "fake", Connector: "dt", Tenant: "t1", UserID: user, Time: at(hhmm), ReceivedAt: at(hhmm), Via: mapping.ViaPull,
				Punch: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodApp},
			})
		}
	}

	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	engine, err := reconcile.Compile(reconcile.Rules{
		Timezone: "Asia/Shanghai",
		Shifts: map[string]reconcile.Shift{"standard": {Start: "09:00", End: "18:00", CheckinOpensBefore: time.Hour,
			CheckoutClosesAfter: time.Hour, Directions: "alternate", WorkingHours: "first_last"}},
		Assign: reconcile.Assign{Default: reconcile.ShiftList{"standard"}},
	})
	if err != nil {
		t.Fatal(err)
	}

	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	m, err := mapping.Parse([]byte(badgeMapping), "badge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(srv.URL())
	cfg.Mapping = presets.Use(m)
	sink, err := hrhttp.NewSink("hr", cfg, connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}

	ids := mapping.NewIdentities()
	job := &jobs.Sync{
		Name: "nightly", Sources: []connectors.Source{src}, Directories: []connectors.Directory{src},
		Sinks: []connectors.Sink{sink}, Ledger: l, Ingester: ingest.New(l, ids, engine, nil), Identities: ids,
		Engine: engine, Lookback: 72 * time.Hour, Push: jobs.PushOptions{MaxAttempts: 5, Backoff: func(int) time.Duration { return time.Minute }},
	}
	rep, err := job.Run(ctx, at("23:00").Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The job covers the look-back window: every day is one record per
	// employee, and every one of the contractor's is dead.
	dead, err := l.Outbox(ctx, "hr", ledger.DeliveryDead, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) == 0 || rep.DeadLettered != len(dead) || rep.RecordsPushed != 2*len(dead) {
		t.Fatalf("pushed %d, dead-lettered %d (queue %d); want two employees' records pushed and the contractor's dead",
			rep.RecordsPushed, rep.DeadLettered, len(dead))
	}
	for _, e := range dead {
		if e.Record.EmployeeID != "CONTRACTOR-7" || !strings.Contains(e.LastError, `badge="CONTRACTOR-7": number (line 7) is not a number`) {
			t.Fatalf("dead entry %s %s: %q; want only the contractor's, with the mapping error", e.Record.EmployeeID, e.Record.Date, e.LastError)
		}
	}
	bodies := map[string]bool{}
	for _, b := range srv.AppliedBodies() {
		bodies[string(b)] = true
	}
	if len(bodies) != rep.RecordsPushed {
		t.Fatalf("HR system applied %d records, the job reports %d", len(bodies), rep.RecordsPushed)
	}
	for _, want := range []string{`{"badge":1001,"day":"2026-11-20","hours":9.17}`, `{"badge":1003,"day":"2026-11-20","hours":9.17}`} {
		if !bodies[want] {
			t.Errorf("HR system did not get %s; got %v", want, bodies)
		}
	}
}
