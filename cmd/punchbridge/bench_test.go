package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk"
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
