package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/frappetest"
)

// TestRawPunchesToFrappe: a sink that carries events (ERPNext computes
// attendance itself) gets every mapped punch once as an Employee Checkin,
// never a day record, with locations rounded to about 100 m because its
// privacy setting says coarse; the unmapped user's punches stay home.
func TestRawPunchesToFrappe(t *testing.T) {
	from, days, asOf := demoCalendar(1)
	company := dingtalktest.GenerateCompany(3, 6, from, days, dingtalktest.WithUnmappedUsers(1))
	dt := dingtalktest.NewServer(dingtalktest.WithCompany(company), dingtalktest.WithClock(func() time.Time { return asOf }))
	defer dt.Close()
	erp := frappetest.NewServer("key", "secret")
	defer erp.Close()
	for _, u := range company.Users {
		if u.JobNumber != "" {
			erp.AddEmployee(u.JobNumber, u.Name, nil)
		}
	}
	cfg := demoConfig(dt.URL(), dt.AppKey(), dt.CorpID(), "http://unused.invalid", days)
	cfg = cfg[:strings.Index(cfg, "sinks:")] + `sinks:
  - name: erpnext
    type: hrhttp
    records: events
    url: ` + erp.CheckinURL() + `
    auth_scheme: token
    token: key:secret
    mapping: preset:frappe-checkin
    timezone: Asia/Shanghai
    already_delivered: [This employee already has a log with the same timestamp]
    privacy: {location: coarse}
` + cfg[strings.Index(cfg, "jobs:"):]
	path := filepath.Join(t.TempDir(), "punchbridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"DEMO_DINGTALK_APP_SECRET": dt.AppSecret()}
	for run := 1; run <= 2; run++ {
		if code, stdout, stderr := runCmd(t, secrets, "jobs", "run", "--config", path, "nightly"); code != exitOK {
			t.Fatalf("run %d: exit %d\n%s%s", run, code, stdout, stderr)
		}
	}
	mapped := 0
	for _, r := range company.Records {
		for _, u := range company.Users {
			if u.UserID == r.UserID && u.JobNumber != "" {
				mapped++
			}
		}
	}
	checkins := erp.Checkins()
	if len(checkins) != mapped {
		t.Fatalf("ERPNext has %d checkins, want each of the %d mapped punches once", len(checkins), mapped)
	}
	located := 0
	for _, c := range checkins {
		if c.Employee == "" || (c.LogType != "IN" && c.LogType != "OUT" && c.LogType != "") {
			t.Fatalf("checkin %+v", c)
		}
		if c.Latitude != nil {
			located++
			for _, v := range []float64{*c.Latitude, *c.Longitude} {
				if math.Abs(v*1000-math.Round(v*1000)) > 1e-6 {
					t.Fatalf("coordinate %v was sent at more than 0.001° (~100 m) precision", v)
				}
			}
		}
	}
	if located == 0 {
		t.Fatal("no checkin carried a location; the coarse check proved nothing")
	}
}
