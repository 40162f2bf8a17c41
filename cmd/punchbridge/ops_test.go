package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
)

// opsFixture is a deployment on the fake platforms: a config file, its
// secrets, and the fakes behind it.
type opsFixture struct {
	cfg     string
	secrets map[string]string
	dt      *dingtalktest.Server
	hr      *hrtest.Server
}

func newOpsFixture(t *testing.T, employees int) *opsFixture {
	t.Helper()
	from, days, asOf := demoCalendar(1)
	dt := dingtalktest.NewServer(dingtalktest.WithCompany(dingtalktest.GenerateCompany(1, employees, from, days)),
		dingtalktest.WithClock(func() time.Time { return asOf }))
	t.Cleanup(dt.Close)
	hr := hrtest.NewServer(hrtest.WithToken("tok"))
	t.Cleanup(hr.Close)
	path := filepath.Join(t.TempDir(), "punchbridge.yaml")
	if err := os.WriteFile(path, []byte(demoConfig(dt.URL(), dt.AppKey(), dt.CorpID(), hr.URL(), days)), 0o600); err != nil {
		t.Fatal(err)
	}
	return &opsFixture{cfg: path, secrets: map[string]string{"DEMO_DINGTALK_APP_SECRET": dt.AppSecret(), "DEMO_HR_TOKEN": "tok"}, dt: dt, hr: hr}
}

// TestDeadLetterReplay: the HR system refuses every record, so they all go
// to the dead-letter queue; once it is healthy, `dlq replay` delivers every
// one of them, once.
func TestDeadLetterReplay(t *testing.T) {
	f := newOpsFixture(t, 6)
	f.hr.FailAlways(422)
	code, stdout, stderr := runCmd(t, f.secrets, "jobs", "run", "--config", f.cfg, "nightly")
	if code != exitFailure && code != exitOK {
		t.Fatalf("jobs run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, f.secrets, "dlq", "list", "--config", f.cfg)
	if code != exitOK || !strings.Contains(stderr, "6 dead deliveries") || !strings.Contains(stdout, "422") {
		t.Fatalf("dlq list: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCmd(t, f.secrets, "dlq", "show", "--config", f.cfg, "--id", "1")
	if code != exitOK || !strings.Contains(stdout, `"EmployeeID"`) && !strings.Contains(stdout, `"employee_id"`) {
		t.Fatalf("dlq show: exit %d\n%s", code, stdout)
	}

	// Still failing: a replay puts them back in the queue.
	code, stdout, _ = runCmd(t, f.secrets, "dlq", "replay", "--config", f.cfg)
	if code != exitFailure || !strings.Contains(stdout, "requeued 6, delivered 0") {
		t.Fatalf("replay while failing: exit %d %s", code, stdout)
	}

	f.hr.Heal()
	code, stdout, stderr = runCmd(t, f.secrets, "dlq", "replay", "--config", f.cfg, "--sink", "hr-demo", "--since", "2020-01-01")
	if code != exitOK || !strings.Contains(stdout, "requeued 6, delivered 6") {
		t.Fatalf("replay: exit %d\n%s%s", code, stdout, stderr)
	}
	if f.hr.AppliedCount() != 6 {
		t.Fatalf("HR applied %d records, want 6", f.hr.AppliedCount())
	}
	_, _, stderr = runCmd(t, f.secrets, "dlq", "list", "--config", f.cfg)
	if !strings.Contains(stderr, "0 dead deliveries") {
		t.Fatalf("queue not empty after replay: %s", stderr)
	}
	// Nothing is left to push, and a second replay sends nothing twice.
	code, stdout, _ = runCmd(t, f.secrets, "push", "--config", f.cfg)
	if code != exitOK || !strings.Contains(stdout, "delivered 0") || f.hr.AppliedCount() != 6 {
		t.Fatalf("push after replay: exit %d %s, applied %d", code, stdout, f.hr.AppliedCount())
	}
}

func TestJobsHistory(t *testing.T) {
	f := newOpsFixture(t, 3)
	if code, stdout, stderr := runCmd(t, f.secrets, "jobs", "run", "--config", f.cfg, "nightly"); code != exitOK || !strings.Contains(stdout, `"records_pushed": 3`) {
		t.Fatalf("jobs run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ := runCmd(t, f.secrets, "jobs", "history", "--config", f.cfg)
	if code != exitOK || !strings.Contains(stdout, "nightly") || !strings.Contains(stdout, "manual") || !strings.Contains(stdout, "succeeded") {
		t.Fatalf("jobs history: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(t, f.secrets, "jobs", "list", "--config", f.cfg)
	if code != exitOK || !strings.Contains(stdout, "CRON_TZ=Asia/Shanghai 0 2 * * *") || !strings.Contains(stdout, "succeeded") {
		t.Fatalf("jobs list: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := runCmd(t, f.secrets, "jobs", "run", "--config", f.cfg, "weekly"); code != exitFailure || !strings.Contains(stderr, `no job named "weekly"`) {
		t.Fatalf("unknown job: exit %d %s", code, stderr)
	}
	// pull backfills without moving the checkpoint; push --dry-run sends nothing.
	code, stdout, stderr := runCmd(t, f.secrets, "pull", "--config", f.cfg, "--connector", "dingtalk-demo", "--from", "2026-11-20", "--to", "2026-11-20")
	if code != exitOK || !strings.Contains(stdout, `"duplicates": 6`) {
		t.Fatalf("pull: exit %d\n%s%s", code, stdout, stderr)
	}
	var pulled struct {
		Quota map[string]connectors.QuotaUse `json:"quota"`
	}
	if err := json.Unmarshal([]byte(stdout), &pulled); err != nil {
		t.Fatal(err)
	}
	if q := pulled.Quota["attendance/listRecord"]; q.Calls < 1 || q.Limit != 500 || q.Utilisation <= 0 {
		t.Errorf("pull's quota use of listRecord = %+v, want its calls against the 500 a second the config allows", q)
	}
	if code, _, stderr := runCmd(t, f.secrets, "push", "--config", f.cfg, "--dry-run"); code != exitOK || !strings.Contains(stderr, "0 deliveries due") {
		t.Fatalf("push --dry-run: exit %d %s", code, stderr)
	}
}
