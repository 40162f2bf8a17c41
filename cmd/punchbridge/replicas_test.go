package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/server"
)

// The callback token and AES key of the tests' DingTalk webhooks.
const (
	hookToken  = "pbtesttoken"
	hookAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// freshSchema creates a PostgreSQL schema for one test and returns a DSN
// whose connections use it.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	schema := "pbtest_" + strings.ToLower(rand.Text()[:10])
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// TestThreeReplicas: three instances of Punchbridge, each with its own
// Redis and PostgreSQL connections, share one Redis and one PostgreSQL.
// The same webhook reaches all three, they all fire on the same nightly
// tick and all pull the same window: each tick runs once, every event is
// stored once, and the HR system sees each day-record version exactly once.
func TestThreeReplicas(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	dsn := freshSchema(t)
	from, days, asOf := demoCalendar(2)
	company := dingtalktest.GenerateCompany(7, 25, from, days, dingtalktest.WithUnmappedUsers(1))
	dt := dingtalktest.NewServer(dingtalktest.WithCompany(company), dingtalktest.WithClock(func() time.Time { return asOf }))
	defer dt.Close()
	hr := hrtest.NewServer(hrtest.WithToken("tok"))
	defer hr.Close()

	cfgText := demoConfig(dt.URL(), dt.AppKey(), dt.CorpID(), hr.URL(), days) +
		fmt.Sprintf("redis:\n  url: ${REDIS_URL}\n  prefix: %q\n", redisPrefix(t, redisURL, "replicas"))
	cfgText = strings.Replace(cfgText, "  driver: sqlite\n  path: punchbridge.db\n", "  driver: postgres\n  dsn: ${DATABASE_URL}\n", 1)
	cfgText = strings.Replace(cfgText, "    qps: 500", "    qps: 500\n    token: "+hookToken+"\n    aes_key: "+hookAESKey, 1)
	path := filepath.Join(t.TempDir(), "punchbridge.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"DEMO_DINGTALK_APP_SECRET": dt.AppSecret(), "DEMO_HR_TOKEN": "tok", "REDIS_URL": redisURL, "DATABASE_URL": dsn}

	ctx := context.Background()
	replicas := make([]*app, 3)
	for i := range replicas {
		cfg, err := config.Load(path, func(k string) string { return secrets[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := openApp(ctx, cfg, connectors.Deps{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return asOf }})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if a.coord == nil {
			t.Fatal("the replicas must coordinate through Redis")
		}
		replicas[i] = a
	}

	// The platform pushes the same punches to all three replicas at once
	// (a load balancer, and the platform's own retries): each punch is
	// stored once, the other copies are duplicates.
	var pushed []dingtalktest.Record
	for _, r := range company.Records {
		if r.UserID != company.Users[len(company.Users)-1].UserID && len(pushed) < 10 {
			pushed = append(pushed, r)
		}
	}
	event, _ := json.Marshal(dingtalktest.CheckRecordEvent(company.CorpID, "evt-replicas", pushed...))
	var hooksWG sync.WaitGroup
	for _, a := range replicas {
		hs := httptest.NewServer(server.New(a.serverOptions(nil, a.guard(), slog.New(slog.DiscardHandler))))
		defer hs.Close()
		hooksWG.Add(1)
		go func() {
			defer hooksWG.Done()
			res, err := dingtalktest.Push(ctx, hs.Client(), hs.URL+"/hooks/dingtalk/dingtalk-demo",
				dingtalktest.PushConfig{Token: hookToken, AESKey: hookAESKey, OwnerKey: dt.AppKey(), Time: asOf}, event)
			if err != nil || res.Reply != "success" {
				t.Errorf("push: %+v, %v", res, err)
			}
		}()
	}
	hooksWG.Wait()
	var hookStored, hookDups int
	for _, a := range replicas {
		c := a.ingester.Totals()
		hookStored += c.Stored
		hookDups += c.Duplicates
	}
	if hookStored != len(pushed) || hookDups != 2*len(pushed) {
		t.Fatalf("webhooks to three replicas stored %d and counted %d duplicates, want %d and %d", hookStored, hookDups, len(pushed), 2*len(pushed))
	}

	// Every replica fires on the same nightly tick.
	tick := asOf.Truncate(time.Minute)
	var wg sync.WaitGroup
	ran := make([]bool, 3)
	for i, a := range replicas {
		s, err := a.syncJob(a.cfg.Jobs[0])
		if err != nil {
			t.Fatal(err)
		}
		g := a.guard()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.Run(ctx, "nightly", jobs.TriggerSchedule, tick, func(ctx context.Context, now time.Time) (any, error) {
				ran[i] = true
				return s.Run(ctx, now)
			})
			if err != nil && !errors.Is(err, jobs.ErrSkipped) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := count(ran); n != 1 {
		t.Fatalf("the nightly tick ran on %d replicas, want exactly 1", n)
	}
	runs, err := replicas[2].guard().Runs.Runs(ctx, "nightly", 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("run log has %d runs (%v), want 1", len(runs), err)
	}

	// All three pull the same window at once: every event is stored once.
	w := connectors.Window{From: from, To: asOf}
	stored := make([]atomic.Int64, 3) // a pull stores several answers at once
	for i, a := range replicas {
		src, _ := a.set.Connector("dingtalk-demo")
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := src.(connectors.Source).Pull(ctx, w, func(ctx context.Context, evs []mapping.Event) error {
				c, err := a.ingester.Ingest(ctx, evs)
				stored[i].Add(int64(c.Stored + c.Revisions))
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := stored[0].Load() + stored[1].Load() + stored[2].Load(); n != 0 {
		t.Fatalf("re-pulling stored %d events again, want 0 (the nightly run stored them)", n)
	}

	// A late punch reaches every replica's pull, and all three push at once:
	// the correction is stored once and delivered once.
	late := company.Records[0]
	late.ID, late.CheckTime = 99999999901, late.CheckTime.Add(-3*time.Minute)
	dt.AddRecords(late)
	tick2 := tick.Add(time.Hour)
	for _, a := range replicas {
		s, err := a.syncJob(a.cfg.Jobs[0])
		if err != nil {
			t.Fatal(err)
		}
		g := a.guard()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.Run(ctx, "nightly", jobs.TriggerSchedule, tick2, func(ctx context.Context, now time.Time) (any, error) {
				return s.Run(ctx, now)
			})
			if err != nil && !errors.Is(err, jobs.ErrSkipped) {
				t.Error(err)
			}
			if _, err := s.PushDue(ctx, asOf); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	// Counted per record, not per key: the demo's sink sends batches, one
	// key for each.
	applied := map[string]int{}
	for _, r := range hr.Applied() {
		applied[fmt.Sprintf("%s:%s:%s:v%d", r.EmployeeID, r.Date, r.Shift, r.Version)]++
	}
	mapped := len(company.Users) - 1
	want := mapped * len(company.WorkDays)
	v1, v2 := 0, 0
	for k, n := range applied {
		if n != 1 {
			t.Errorf("%s applied %d times", k, n)
		}
		switch {
		case strings.HasSuffix(k, ":v1"):
			v1++
		case strings.HasSuffix(k, ":v2"):
			v2++
		}
	}
	if v2 != 1 {
		t.Errorf("the late punch's correction was applied as %d second versions, want 1", v2)
	}
	if v1 != want {
		t.Fatalf("HR applied %d first versions, want %d mapped employees × %d days", v1, mapped, len(company.WorkDays))
	}
	// One event per platform record, whichever way and however often it
	// arrived (the pull adds at most a richer revision of a pushed punch).
	employees, err := replicas[0].ledger.Employees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, emp := range employees {
		evs, err := replicas[0].ledger.Events(ctx, emp, from.Add(-24*time.Hour), asOf.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		events += len(evs)
	}
	unmapped := 0
	for _, r := range company.Records {
		if r.UserID == company.Users[len(company.Users)-1].UserID {
			unmapped++
		}
	}
	if want := len(company.Records) + 1 - unmapped; events != want {
		t.Errorf("the ledger holds %d events of mapped employees, want %d: one per record plus the late one", events, want)
	}
	if hr.Duplicates() != 0 {
		t.Fatalf("the HR system received %d repeated deliveries; the leases should have kept replicas from sending one twice", hr.Duplicates())
	}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// redisPrefix returns a fresh key prefix on the test Redis at url whose
// keys are deleted when the test ends.
func redisPrefix(t *testing.T, url, name string) string {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() }) // after the prefix's keys are deleted
	return testenv.RedisPrefix(t, rdb, name)
}
