package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk"
	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/loadgen"
	"github.com/punchbridge/punchbridge/mapping"
)

func benchEnv() (*cmdEnv, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cmdEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }, now: time.Now}, &out, &errb
}

func TestBenchWebhookRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--token", "t", "--aes-key", "k"}, "--url is required"},
		{[]string{"--url", "http://x", "--aes-key", "k"}, "--token and --aes-key are required"},
		{[]string{"--url", "http://x", "--token", "t", "--aes-key", "k"}, "--owner-key is required"},
		{[]string{"--url", "http://x", "--token", "t", "--aes-key", "k", "--platform", "wecom", "--batch", "5"}, "--batch must be 1 for wecom"},
		{[]string{"--url", "http://x", "--token", "t", "--aes-key", "k", "--owner-key", "o", "--admin-url", "http://y"}, "--admin-url needs --admin-token"},
		{[]string{"--url", "http://x", "--token", "t", "--aes-key", "k", "--owner-key", "o", "--platform", "lark"}, `--platform "lark"`},
	} {
		env, _, errb := benchEnv()
		if code := runBench(context.Background(), env, append([]string{"webhook"}, tc.args...)); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q does not say %q", tc.args, errb.String(), tc.want)
		}
	}
	env, _, errb := benchEnv()
	if code := runBench(context.Background(), env, []string{"--help"}); code != exitOK || !strings.Contains(errb.String(), "sys_approval_change") {
		t.Errorf("--help: exit %d, usage %q", code, errb.String())
	}
}

// TestBenchWebhookReportsARun sends a small workload to a DingTalk
// receiver and reads the JSON report.
func TestBenchWebhookReportsARun(t *testing.T) {
	const token, aesKey = "benchToken42", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	comp := loadgen.Company{Platform: loadgen.DingTalk, Seed: 1, Employees: 20, Days: 5, From: loadgen.DefaultFrom(time.Now(), 5)}.DingTalkCompany()
	conn, err := dingtalk.NewConnector("dingtalk-bench", dingtalk.Config{
		AppKey: "bench-app", AppSecret: config.Secret("s"), CorpID: comp.CorpID,
		Token: config.Secret(token), AESKey: config.Secret(aesKey), OwnerKey: "bench-app", RefreshDelay: time.Hour,
	}, connectors.Deps{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(conn.Handler(func(context.Context, []mapping.Event) error { return nil }))
	defer srv.Close()
	env, out, errb := benchEnv()
	code := runBench(context.Background(), env, []string{"webhook", "--url", srv.URL, "--token", token, "--aes-key", aesKey,
		"--owner-key", "bench-app", "--employees", "20", "--days", "5", "--events", "30", "--batch", "3", "--concurrency", "4", "--json"})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Result loadgen.Result `json:"result"`
		Check  *loadgen.Check `json:"check"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if rep.Result.Requests != 10 || rep.Result.OKEvents != 30 || rep.Check != nil {
		t.Errorf("report %+v, want 10 requests of 30 events and no check", rep)
	}
}

// baselineRules are the rules every config must have; bench baseline does
// not use them.
const baselineRules = `rules:
  timezone: Asia/Shanghai
  shifts:
    standard: {start: "09:00", end: "18:00"}
  assign: {default: standard}
`

// TestBenchBaselineClaimsEachEvent runs bench baseline against real Redis
// and drives it with bench webhook twice: the first run's events are all
// new to Redis, the second run's are all copies, and nothing needs a
// ledger.
func TestBenchBaselineClaimsEachEvent(t *testing.T) {
	const token, aesKey = "benchToken42", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	url := testenv.RedisURL(t)
	comp := loadgen.Company{Platform: loadgen.DingTalk, Seed: 1, Employees: 20, Days: 5, From: loadgen.DefaultFrom(time.Now(), 5)}.DingTalkCompany()
	cfgPath := filepath.Join(t.TempDir(), "baseline.yaml")
	cfgText := fmt.Sprintf(baselineRules+`server: {listen: "127.0.0.1:0"}
redis: {url: %q, prefix: %q}
connectors:
  - name: dingtalk-bench
    type: dingtalk
    app_key: bench-app
    app_secret: bench-secret-0123456789
    corp_id: %s
    token: %s
    aes_key: %s
    owner_key: bench-app
    refresh_delay: 1h
`, url, redisPrefix(t, url, "baseline"), comp.CorpID, token, aesKey)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	type served struct {
		b   *baseline
		err error
	}
	done := make(chan served, 1)
	go func() {
		b, err := serveBaseline(ctx, cfg, slog.New(slog.DiscardHandler), ln)
		done <- served{b, err}
	}()
	hook := "http://" + ln.Addr().String() + "/hooks/dingtalk/dingtalk-bench"
	for range 2 {
		env, out, errb := benchEnv()
		code := runBench(context.Background(), env, []string{"webhook", "--url", hook, "--token", token, "--aes-key", aesKey,
			"--owner-key", "bench-app", "--employees", "20", "--days", "5", "--events", "40", "--batch", "4", "--concurrency", "4", "--json"})
		if code != exitOK {
			t.Fatalf("bench webhook: exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out.String(), `"ok_events": 40`) {
			t.Fatalf("bench webhook report %s: want 40 events acknowledged", out.String())
		}
	}
	stop()
	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	if got := [...]int64{s.b.requests.Load(), s.b.events.Load(), s.b.claimed.Load(), s.b.copies.Load(), s.b.failed.Load()}; got != [...]int64{20, 80, 40, 40, 0} {
		t.Errorf("requests, events, claimed, copies, failed = %v; want 20 requests of 80 events, 40 new and 40 copies", got)
	}
}

func TestBenchBaselineRefusesAConfigWithoutRedis(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "baseline.yaml")
	if err := os.WriteFile(cfgPath, []byte(baselineRules+"server: {listen: \"127.0.0.1:0\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, errb := benchEnv()
	if code := runBench(context.Background(), env, []string{"baseline", "--config", cfgPath}); code != exitUsage || !strings.Contains(errb.String(), "no redis section") {
		t.Errorf("exit %d, stderr %q; want a usage error naming the missing redis section", code, errb.String())
	}
	env, _, errb = benchEnv()
	if code := runBench(context.Background(), env, []string{"baseline"}); code != exitUsage || !strings.Contains(errb.String(), "--config is required") {
		t.Errorf("without --config: exit %d, stderr %q", code, errb.String())
	}
}
