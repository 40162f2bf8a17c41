package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
)

// TestLogsKeepSecretsAndLocations runs the whole demo with debug logging and
// scans everything it wrote for the app secret, the HR token, any access
// token, and any punch coordinate: none may appear (PIPL, and the platforms'
// terms for keys).
// accessToken matches an access_token query value that was not redacted.
var accessToken = regexp.MustCompile(`access_token=(?:[^R&\s"]|R[^E])[^&\s"]*`)

func TestLogsKeepSecretsAndLocations(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil, "demo", "-v", "--employees", "12", "--days", "2")
	if code != exitOK {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if len(stderr) < 200 {
		t.Fatalf("the verbose demo logged almost nothing (%d bytes); the scan would prove nothing", len(stderr))
	}
	out := stdout + stderr
	from, days, _ := demoCalendar(2)
	company := dingtalktest.GenerateCompany(1, 12, from, days)
	dt := dingtalktest.NewServer(dingtalktest.WithCompany(company))
	defer dt.Close()
	forbidden := map[string]string{
		"the DingTalk app secret": dt.AppSecret(),
		"the HR token":            "demo-hr-token",
	}
	for what, s := range forbidden {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the logs contain %s", what)
		}
	}
	if m := accessToken.FindString(out); m != "" {
		t.Errorf("the logs contain an access token: %s", m)
	}
	seen := 0
	for _, r := range company.Records {
		if r.Lat == 0 && r.Lng == 0 {
			continue
		}
		for _, v := range []float64{r.Lat, r.Lng} {
			// Coordinates as JSON or %v would print them: six decimals are
			// enough to find any of them.
			s := strconv.FormatFloat(v, 'f', 6, 64)
			if strings.Contains(out, s) {
				t.Fatalf("the logs contain the coordinate %s of punch %d", s, r.ID)
			}
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("the demo company has no located punches; the coordinate scan would prove nothing")
	}
}

// TestFailureLogsKeepSecrets: when every delivery fails and the platform
// answers with errors, the warnings carry URLs and error bodies; they must
// still hold no token, secret or key.
func TestFailureLogsKeepSecrets(t *testing.T) {
	f := newOpsFixture(t, 4)
	f.hr.FailAlways(503)
	f.dt.FailNext("attendance/listRecord", 40014, 1) // a rejected token: refreshed and retried
	_, stdout, stderr := runCmd(t, f.secrets, "jobs", "run", "--config", f.cfg, "nightly")
	out := stdout + stderr
	if !strings.Contains(out, "delivery failed") {
		t.Fatalf("no delivery failure was logged; the scan would prove nothing:\n%s", out)
	}
	for what, s := range map[string]string{"the app secret": f.secrets["DEMO_DINGTALK_APP_SECRET"], "the HR token": "Bearer tok"} {
		if strings.Contains(out, s) {
			t.Errorf("the logs contain %s", what)
		}
	}
	if m := accessToken.FindString(out); m != "" {
		t.Errorf("the logs contain an access token: %s", m)
	}
}
