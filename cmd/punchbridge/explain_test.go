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

	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/explain"
)

// explainCmd runs the explain subcommand as runCmd runs a registered one.
func explainCmd(t *testing.T, getenv map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	_, _, asOf := demoCalendar(1)
	env := &cmdEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return getenv[k] },
		now: func() time.Time { return asOf }}
	code = runExplain(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestExplainCommand: on the demo deployment, where user00002 (E1002)
// punched nothing on the work day, `explain` says E1002 is absent because
// no punch was counted and names the window; a present employee's day
// names the punches and the numbers compared. When E1002's punches arrive
// late, the next run stores version 2, and explain shows both versions and
// what changed.
func TestExplainCommand(t *testing.T) {
	from, days, _ := demoCalendar(1)
	date := from.Format(time.DateOnly)
	company := dingtalktest.GenerateCompany(1, 4, from, days)
	kept := company.Records[:0]
	for _, r := range company.Records {
		if r.UserID != "user00002" {
			kept = append(kept, r)
		}
	}
	company.Records = kept
	f := newExplainFixture(t, company, days)

	if code, stdout, stderr := runCmd(t, f.secrets, "jobs", "run", "--config", f.cfg, "nightly"); code != exitOK {
		t.Fatalf("jobs run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := explainCmd(t, f.secrets, "--config", f.cfg, "--employee", "E1002", "--date", date)
	if code != exitOK {
		t.Fatalf("explain E1002: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"E1002 " + date + " standard: absent (final)",
		"window end " + date + " 22:00:00 + settle 0s < watermark",
		"status absent: no counted punches in the window 07:00:00–22:00:00",
		"absent", "applies",
		"matches stored version 1",
		"v1 absent",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explain E1002 lacks %q:\n%s", want, stdout)
		}
	}

	// A present employee, found through the JSON report.
	present := ""
	for _, emp := range []string{"E1001", "E1003", "E1004"} {
		code, stdout, stderr := explainCmd(t, f.secrets, "--config", f.cfg, "--employee", emp, "--date", date, "--json")
		if code != exitOK {
			t.Fatalf("explain %s --json: exit %d %s", emp, code, stderr)
		}
		var rep explain.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("explain %s --json: %v\n%s", emp, err, stdout)
		}
		if len(rep.Shifts) != 1 || rep.Watermark == nil || len(rep.Shifts[0].History) != 1 {
			t.Fatalf("explain %s --json: %+v", emp, rep)
		}
		if rep.Shifts[0].Record.Status == "present" && present == "" {
			present = emp
		}
	}
	if present == "" {
		t.Fatal("no present employee among E1001, E1003, E1004")
	}
	_, stdout, _ = explainCmd(t, f.secrets, "--config", f.cfg, "--employee", present, "--date", date)
	for _, want := range []string{
		present + " " + date + " standard: present (final)",
		"counted as first in",
		"(start 09:00 + grace 10m)",
		"(end 18:00 − grace 10m)",
		"is not below absent_below 120m or half_day_below 240m",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explain %s lacks %q:\n%s", present, want, stdout)
		}
	}

	// E1002's watch uploads its punches; the next run corrects the day.
	day := from
	f.dt.AddRecords(
		punchRecord("user00002", day, day.Add(9*time.Hour), day.Add(8*time.Hour+55*time.Minute), "OnDuty"),
		punchRecord("user00002", day, day.Add(18*time.Hour), day.Add(18*time.Hour+5*time.Minute), "OffDuty"),
	)
	if code, stdout, stderr := runCmd(t, f.secrets, "jobs", "run", "--config", f.cfg, "nightly"); code != exitOK {
		t.Fatalf("second jobs run: exit %d\n%s%s", code, stdout, stderr)
	}
	_, stdout, _ = explainCmd(t, f.secrets, "--config", f.cfg, "--employee", "E1002", "--date", date)
	for _, want := range []string{
		"E1002 " + date + " standard: present (final)",
		"on time: 08:55:00 <= 09:10:00 (start 09:00 + grace 10m)",
		"matches stored version 2",
		"v1 absent\n",
		"v2 present: status absent → present; first_in none → " + date + "T08:55:00+08:00",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explain E1002 after the upload lacks %q:\n%s", want, stdout)
		}
	}
}

func TestExplainCommandUsage(t *testing.T) {
	code, _, stderr := explainCmd(t, nil, "--help")
	if code != exitOK || !strings.Contains(stderr, "punchbridge explain --config punchbridge.yaml --employee E1002 --date 2026-11-20") {
		t.Errorf("--help: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := explainCmd(t, nil, "--config", "x.yaml", "--date", "2026-11-20"); code != exitUsage || !strings.Contains(stderr, "--employee") {
		t.Errorf("no --employee: exit %d %s", code, stderr)
	}
	if code, _, _ := explainCmd(t, nil, "--bogus"); code != exitUsage {
		t.Errorf("unknown flag: exit %d", code)
	}
	f := newOpsFixture(t, 2)
	if code, _, stderr := explainCmd(t, f.secrets, "--config", f.cfg, "--employee", "E1001", "--date", "2026-13-01"); code != exitUsage || !strings.Contains(stderr, `date "2026-13-01"`) {
		t.Errorf("bad date: exit %d %s", code, stderr)
	}
	// Before any pull there is no watermark: nothing is final, and the
	// report says which source holds it back.
	code, stdout, stderr := explainCmd(t, f.secrets, "--config", f.cfg, "--employee", "E1001", "--date", "2026-11-20")
	if code != exitOK || !strings.Contains(stdout, "not final: source dingtalk-demo has never been pulled") || !strings.Contains(stdout, "(NOT FINAL)") {
		t.Errorf("never pulled: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := explainCmd(t, nil, "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--employee", "E1001", "--date", "2026-11-20"); code != exitFailure {
		t.Errorf("missing config: exit %d", code)
	}
}

// newExplainFixture is newOpsFixture with a company of the test's making.
func newExplainFixture(t *testing.T, company dingtalktest.Company, days int) *opsFixture {
	t.Helper()
	_, _, asOf := demoCalendar(1)
	dt := dingtalktest.NewServer(dingtalktest.WithCompany(company), dingtalktest.WithClock(func() time.Time { return asOf }))
	t.Cleanup(dt.Close)
	hr := hrtest.NewServer(hrtest.WithToken("tok"))
	t.Cleanup(hr.Close)
	path := filepath.Join(t.TempDir(), "punchbridge.yaml")
	if err := os.WriteFile(path, []byte(demoConfig(dt.URL(), dt.AppKey(), dt.CorpID(), hr.URL(), days)), 0o600); err != nil {
		t.Fatal(err)
	}
	return &opsFixture{cfg: path, secrets: map[string]string{"DEMO_DINGTALK_APP_SECRET": dt.AppSecret(), "DEMO_HR_TOKEN": "tok"}, dt: dt, hr: hr}
}

// punchRecord is a normal app punch as the fake platform reports it.
func punchRecord(user string, day, base, at time.Time, checkType string) dingtalktest.Record {
	return dingtalktest.Record{
		UserID: user, CheckTime: at, BaseCheckTime: base, WorkDate: day, CheckType: checkType,
		TimeResult: "Normal", LocationResult: "Normal", SourceType: "USER", LocationMethod: "MAP", IsLegal: "Y",
		HasLocation: true, Lat: 31.2304, Lng: 121.4737, Accuracy: 20,
	}
}
