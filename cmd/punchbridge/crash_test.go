package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/server"
)

// errKilled stands for the process dying: nothing after it happens.
var errKilled = errors.New("killed")

// dyingLedger dies on the first delivery log write.
type dyingLedger struct{ ledger.Ledger }

func (dyingLedger) MarkDelivered(context.Context, int64, time.Time) error      { return errKilled }
func (dyingLedger) MarkDeliveredAll(context.Context, []int64, time.Time) error { return errKilled }

func openFixtureApp(t *testing.T, f *opsFixture) *app {
	t.Helper()
	cfg, err := config.Load(f.cfg, func(k string) string { return f.secrets[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, _, asOf := demoCalendar(1)
	a, err := openApp(context.Background(), cfg, connectors.Deps{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return asOf }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestKilledAfterSinkAccepted: the HR system accepted every record, and the
// process died before writing the delivery log. After a restart the
// records are delivered again, with the same idempotency keys, so the HR
// system applies none of them twice.
func TestKilledAfterSinkAccepted(t *testing.T) {
	f := newOpsFixture(t, 5)
	ctx := context.Background()
	_, _, asOf := demoCalendar(1)

	first := openFixtureApp(t, f)
	first.ledger = dyingLedger{first.ledger}
	job, err := first.syncJob(first.cfg.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Run(ctx, asOf); !errors.Is(err, errKilled) {
		t.Fatalf("Run = %v, want the simulated kill", err)
	}
	applied := f.hr.AppliedCount()
	if applied != 5 {
		t.Fatalf("HR applied %d before the kill, want 5", applied)
	}
	first.Close()

	restarted := openFixtureApp(t, f)
	defer restarted.Close()
	job, err = restarted.pushJob("")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := job.PushDue(ctx, asOf)
	if err != nil || rep.RecordsPushed != 5 {
		t.Fatalf("after restart: %+v, %v; want the 5 unrecorded deliveries sent again", rep, err)
	}
	// The sink sends the 5 in one batch, under one key: one repeat.
	if f.hr.AppliedCount() != applied || f.hr.Duplicates() != 1 {
		t.Fatalf("HR applied %d (was %d) and saw %d repeats; the idempotency keys must make the redelivery a no-op",
			f.hr.AppliedCount(), applied, f.hr.Duplicates())
	}
	if rep, _ := job.PushDue(ctx, asOf); rep.RecordsPushed != 0 {
		t.Fatalf("a third push sent %d records; the delivery log now has them", rep.RecordsPushed)
	}
}

// dyingClaims dies after the ledger write, before the Redis commit.
type dyingClaims struct{ *coord.Dedupe }

func (dyingClaims) Commit(context.Context, []coord.ClaimKey) error { return errKilled }

// TestKilledBeforeAck: a webhook's events were written to the ledger and
// the process died before it could answer (and before it committed its
// Redis claims). The platform retries at another replica: the events are
// not lost, and not stored twice.
func TestKilledBeforeAck(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	f := newOpsFixture(t, 3)
	ctx := context.Background()
	a := openFixtureApp(t, f)
	defer a.Close()
	rc, err := openCoordination(&config.RedisConfig{URL: config.Secret(redisURL), Prefix: redisPrefix(t, redisURL, "crash")}, a.now)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	_, _, asOf := demoCalendar(1)
	events := []mapping.Event{webhookPunch("u1", asOf.Add(-17*time.Hour)), webhookPunch("u2", asOf.Add(-17*time.Hour))}
	dying := ingest.New(a.ledger, a.ids, a.engine, nil).WithClaimer(dyingClaims{rc.dedupe})
	if _, err := dying.Ingest(ctx, events); err != nil {
		t.Fatalf("the write itself succeeded; a failed commit must not fail it: %v", err)
	}
	// No ACK reached the platform: it retries, at another replica.
	other := ingest.New(a.ledger, a.ids, a.engine, nil).WithClaimer(rc.dedupe)
	c, err := other.Ingest(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stored != 0 || c.Duplicates != 2 {
		t.Fatalf("retry after the kill: %+v; want both events recognised as stored", c)
	}
	q, err := a.ledger.Quarantined(ctx, 0)
	if err != nil || len(q) != 2 {
		t.Fatalf("ledger holds %d copies (%v), want the 2 events once", len(q), err)
	}
}

func webhookPunch(user string, at time.Time) mapping.Event {
	return mapping.Event{
		Schema: mapping.EventSchema, ID: "dingtalk/crash/punch/" + user + "-" + at.Format("150405"), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-demo", Tenant: "crash", UserID: user, Time: at, ReceivedAt: at, Via: mapping.ViaWebhook,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp},
	}
}

// TestRedisStoppedFailsThePull: with Redis down a pull fails its run and
// leaves its checkpoint, /readyz says why, and nothing is stored twice;
// when Redis returns, the next run stores and pushes what was missed, once.
func TestRedisStoppedFailsThePull(t *testing.T) {
	srv := testenv.StartRedis(t)
	f := newOpsFixture(t, 4)
	f.secrets["REDIS_URL"] = srv.URL()
	appendConfig(t, f.cfg, "redis:\n  url: ${REDIS_URL}\n")
	b, _ := os.ReadFile(f.cfg)
	os.WriteFile(f.cfg, []byte(strings.Replace(string(b), "    qps: 500", "    qps: 500\n    token: "+hookToken+"\n    aes_key: "+hookAESKey, 1)), 0o600)
	ctx := context.Background()
	a := openFixtureApp(t, f)
	defer a.Close()
	job, err := a.syncJob(a.cfg.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	_, _, asOf := demoCalendar(1)
	if _, err := job.Run(ctx, asOf); err != nil {
		t.Fatal(err)
	}
	applied := f.hr.AppliedCount()

	hooks := httptest.NewServer(server.New(a.serverOptions(nil, a.guard(), slog.New(slog.DiscardHandler))))
	defer hooks.Close()
	push := func(id int64) (dingtalktest.PushResult, error) {
		t.Helper()
		r := f.dt.Company().Records[0]
		r.ID, r.CheckTime = id, r.CheckTime.Add(time.Duration(id%1000)*time.Second)
		ev, _ := json.Marshal(dingtalktest.CheckRecordEvent(f.dt.CorpID(), fmt.Sprint("evt-", id), r))
		return dingtalktest.Push(ctx, hooks.Client(), hooks.URL+"/hooks/dingtalk/dingtalk-demo",
			dingtalktest.PushConfig{Token: hookToken, AESKey: hookAESKey, OwnerKey: f.dt.AppKey(), Time: asOf}, ev)
	}

	srv.Stop()
	if err := a.Ready(ctx); err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("Ready with Redis down = %v, want a redis error", err)
	}
	if _, err := push(99999999931); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("webhook with Redis down: %v, want HTTP 503 so that the platform retries", err)
	}
	late := f.dt.Company().Records[0]
	late.ID, late.CheckTime = 99999999902, late.CheckTime.Add(-5*time.Minute)
	f.dt.AddRecords(late)
	if _, err := job.Run(ctx, asOf.Add(time.Hour)); !errors.Is(err, coord.ErrUnavailable) {
		t.Fatalf("Run with Redis down = %v, want coord.ErrUnavailable", err)
	}
	cp, _, err := a.ledger.Checkpoint(ctx, "dingtalk-demo")
	if err != nil || !cp.Equal(asOf) {
		t.Fatalf("checkpoint %v (%v), want it left at %v", cp, err, asOf)
	}

	srv.Start()
	if res, err := push(99999999931); err != nil || res.Reply != "success" {
		t.Fatalf("the platform's retry after Redis returned: %+v, %v", res, err)
	}
	rep, err := job.Run(ctx, asOf.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.EventsStored+rep.Revisions < 1 || rep.RecordsPushed < 1 || f.hr.AppliedCount() != applied+1 {
		t.Fatalf("after Redis returned: %+v, HR applied %d (was %d); want the late punch stored and its correction pushed once",
			rep, f.hr.AppliedCount(), applied)
	}
}

func appendConfig(t *testing.T, path, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, text...), 0o600); err != nil {
		t.Fatal(err)
	}
}
