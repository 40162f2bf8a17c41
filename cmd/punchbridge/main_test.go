package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/internal/testenv"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// runCmd runs the binary's command table in-process.
func runCmd(t *testing.T, getenv map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	_, _, asOf := demoCalendar(1)
	env := &cmdEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return getenv[k] },
		now: func() time.Time { return asOf }}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestDemoTwice is the spine's end-to-end check: a first run delivers every
// (mapped employee, work day) exactly once and quarantines the unmapped
// user; a second run on the same ledger pulls the same punches, stores none
// of them again and pushes nothing.
func TestDemoTwice(t *testing.T) {
	dir := t.TempDir()
	var first, second demoSummary
	for i, sum := range []*demoSummary{&first, &second} {
		code, stdout, stderr := runCmd(t, nil, "demo", "--json", "--employees", "30", "--days", "3", "--data", dir)
		if code != exitOK {
			t.Fatalf("run %d: exit %d\n%s%s", i+1, code, stdout, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), sum); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, stdout)
		}
	}
	mapped := 30 - first.UnmappedUsers
	if first.RecordsPushed != mapped*3 || first.HRApplied != mapped*3 || first.PushFailures != 0 {
		t.Errorf("first run pushed %d, HR applied %d, want %d", first.RecordsPushed, first.HRApplied, mapped*3)
	}
	if first.Duplicates == 0 || first.Quarantined == 0 || first.UnmappedUsers != 1 {
		t.Errorf("first run: %d duplicates, %d quarantined, %d unmapped users; the demo company has all three",
			first.Duplicates, first.Quarantined, first.UnmappedUsers)
	}
	if first.EventsStored+first.Duplicates != first.EventsPulled {
		t.Errorf("stored %d + duplicates %d != pulled %d", first.EventsStored, first.Duplicates, first.EventsPulled)
	}
	if !strings.HasPrefix(first.Check, "ok") || !strings.HasPrefix(second.Check, "ok") {
		t.Errorf("checks: %q, %q", first.Check, second.Check)
	}
	if second.RecordsPushed != 0 || second.EventsStored != 0 || second.Duplicates != second.EventsPulled || second.EventsPulled != first.EventsPulled {
		t.Errorf("second run: pulled %d, stored %d, duplicates %d, pushed %d; want everything a duplicate and nothing pushed",
			second.EventsPulled, second.EventsStored, second.Duplicates, second.RecordsPushed)
	}
	_, stdout, _ := runCmd(t, nil, "demo", "--json", "--employees", "2", "--days", "1")
	for _, key := range []string{"events_pulled", "events_stored", "duplicates", "rejected", "quarantined", "days_reconciled", "records_pushed", "push_failures", "api_calls", "elapsed_ms"} {
		if !strings.Contains(stdout, `"`+key+`"`) {
			t.Errorf("demo --json lacks %q", key)
		}
	}
}

func TestDemoReadable(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, "demo", "--employees", "5", "--days", "1")
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	for _, want := range []string{"pull", "store", "reconcile", "push", "check      ok"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	env := map[string]string{"DINGTALK_APP_SECRET": "s3cret-value", "HR_TOKEN": "hr-token-value"}
	code, stdout, stderr := runCmd(t, env, "check-config", "--config", "../../config/examples/punchbridge.yaml")
	if code != exitOK || !strings.HasPrefix(stdout, "ok:") {
		t.Fatalf("example config: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cret-value") {
		t.Fatal("check-config printed a secret")
	}

	code, _, stderr = runCmd(t, env, "check-config", "--config", "../../config/testdata/three-mistakes.yaml")
	if code != exitFailure {
		t.Fatalf("three mistakes: exit %d, want %d", code, exitFailure)
	}
	for _, line := range []string{"three-mistakes.yaml:4: ledger.paht", "three-mistakes.yaml:9: rules.shifts.standard.late_grace", "three-mistakes.yaml:14: jobs[0].schedule"} {
		if !strings.Contains(stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, stderr)
		}
	}

	// A sound file whose connector settings and rules are wrong: those are
	// reported with their lines too.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`rules:
  timezone: Asia/Shanghai
  shifts:
    standard: {start: "25:00", end: "18:00"}
  assign: {default: standard}
connectors:
  - name: hq
    type: dingtalk
    app_key: k
    corp_id: c
sinks:
  - name: hr
    type: hrhttp
    url: not-a-url
`), 0o600)
	code, _, stderr = runCmd(t, nil, "check-config", "--config", bad)
	if code != exitFailure {
		t.Fatalf("bad components: exit %d", code)
	}
	for _, want := range []string{"bad.yaml:4:", "app_secret", "bad.yaml:14:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestHelpAndUsage(t *testing.T) {
	for name := range commands() {
		code, _, stderr := runCmd(t, nil, name, "--help")
		if code != exitOK || !strings.Contains(stderr, "Example") {
			t.Errorf("%s --help: exit %d, output %q; want 0 and an example", name, code, stderr)
		}
	}
	if code, _, _ := runCmd(t, nil); code != exitUsage {
		t.Errorf("no command: exit %d, want %d", code, exitUsage)
	}
	if code, _, stderr := runCmd(t, nil, "frobnicate"); code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, stderr)
	}
	if code, _, _ := runCmd(t, nil, "serve"); code != exitUsage {
		t.Errorf("serve without --config: exit %d, want %d", code, exitUsage)
	}
}

// TestDemoWithRedis runs the demo with Redis coordination: dedupe claims,
// delivery leases and the shared token cache; the result is the same, and
// the run's keys go with its temporary ledger.
func TestDemoWithRedis(t *testing.T) {
	url := testenv.RedisURL(t)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	demoKeys := func() int {
		keys, err := rdb.Keys(t.Context(), "pbdemo:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	before := demoKeys()
	code, stdout, stderr := runCmd(t, nil, "demo", "--json", "--employees", "20", "--days", "2", "--redis", url)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var sum demoSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.Check, "ok") || sum.RecordsPushed != 19*2 || sum.Duplicates == 0 {
		t.Fatalf("summary %+v", sum)
	}
	if after := demoKeys(); after != before {
		t.Errorf("%d demo keys in Redis after the run, %d before: the run's keys outlived its temporary ledger", after, before)
	}
}
