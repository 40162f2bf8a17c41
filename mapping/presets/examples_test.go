package presets_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/csvfile"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/frappetest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/personiotest"
	"github.com/punchbridge/punchbridge/mapping"
)

// exampleSink loads examples/<file> with env and builds its one sink.
func exampleSink(t *testing.T, file string, env map[string]string, build connectors.SinkFactory, deps connectors.Deps) connectors.Sink {
	t.Helper()
	cfg, err := config.Load(filepath.Join("examples", file), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("examples/%s does not load: %v", file, err)
	}
	if len(cfg.Sinks) != 1 {
		t.Fatalf("examples/%s has %d sinks, want 1", file, len(cfg.Sinks))
	}
	s, err := build(cfg.Sinks[0], deps)
	if err != nil {
		t.Fatalf("examples/%s: sink does not build: %v", file, err)
	}
	return s
}

func event(t *testing.T, name string) mapping.Event {
	t.Helper()
	e, err := mapping.DecodeEvent(read(t, filepath.Join("testdata", "frappe-checkin", name, "input.json")))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func dayRecord(t *testing.T, preset, name string) mapping.DayRecord {
	t.Helper()
	var d mapping.DayRecord
	if err := json.Unmarshal(read(t, filepath.Join("testdata", preset, name, "input.json")), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFrappeExample drives the Frappe example config against a fake
// Frappe site with the real Employee Checkin fields.
func TestFrappeExample(t *testing.T) {
	site := frappetest.NewServer("apikey", "apisecret")
	defer site.Close()
	site.AddEmployee("HR-EMP-00001", "张伟", map[string]string{"attendance_device_id": "0231445566"})
	env := map[string]string{"DINGTALK_APP_SECRET": "x", "ERPNEXT_URL": site.URL(), "ERPNEXT_API_KEY": "apikey", "ERPNEXT_API_SECRET": "apisecret"}
	sink := exampleSink(t, "frappe.yaml", env, hrhttp.New, connectors.Deps{}).(*hrhttp.Sink)
	if sink.Records() != hrhttp.RecordsEvents {
		t.Fatalf("records %q", sink.Records())
	}
	var ds []hrhttp.EventDelivery
	for _, name := range []string{"punch-in", "punch-unknown-direction", "makeup-approved", "makeup-pending"} {
		e := event(t, name)
		ds = append(ds, hrhttp.EventDelivery{Event: e, IdempotencyKey: hrhttp.EventIdempotencyKey("erpnext", e)})
	}
	for i, err := range sink.DeliverEvents(t.Context(), ds) {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	got := site.Checkins()
	want := []frappetest.Checkin{
		{Employee: "HR-EMP-00001", LogType: "IN", Time: "2026-11-20 09:02:11", DeviceID: "F7CA-0031"},
		{Employee: "HR-EMP-00001", LogType: "", Time: "2026-11-20 18:05:40", DeviceID: "dingtalk-hq"},
		{Employee: "HR-EMP-00001", LogType: "OUT", Time: "2026-11-19 18:00:00", DeviceID: "dingtalk-hq"},
	}
	if len(got) != len(want) {
		t.Fatalf("checkins %+v, want %d (the pending make-up is not sent)", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Employee != w.Employee || g.LogType != w.LogType || g.Time != w.Time || g.DeviceID != w.DeviceID || g.EmployeeName != "张伟" || g.SkipAutoAttendance != 0 {
			t.Errorf("checkin %d = %+v, want %+v", i, g, w)
		}
	}
	// A retry after a lost answer meets Frappe's duplicate check: done.
	if err := sink.DeliverEvent(t.Context(), ds[0]); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := len(site.Checkins()); n != 3 {
		t.Fatalf("%d checkins after a redelivery", n)
	}
	// An employee Frappe does not know is refused for good.
	e := event(t, "punch-in")
	e.EmployeeID, e.ID = "HR-EMP-09999", e.ID+"x"
	err := sink.DeliverEvent(t.Context(), hrhttp.EventDelivery{Event: e, IdempotencyKey: "k"})
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "Could not find Employee: HR-EMP-09999") {
		t.Fatalf("unknown employee: %v", err)
	}
	// An unmapped user's punch cannot be written: a mapping error.
	e.EmployeeID = ""
	err = sink.DeliverEvent(t.Context(), hrhttp.EventDelivery{Event: e, IdempotencyKey: "k2"})
	if !errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, mapping.ErrMapping) {
		t.Fatalf("unmapped user: %v", err)
	}
}

// TestPersonioExample drives the Personio-style example against the fake.
func TestPersonioExample(t *testing.T) {
	api := personiotest.NewServer("tok")
	defer api.Close()
	api.AddPerson("12345")
	env := map[string]string{"DINGTALK_APP_SECRET": "x", "PERSONIO_URL": strings.TrimSuffix(api.URL(), personiotest.Path), "PERSONIO_TOKEN": "tok"}
	sink := exampleSink(t, "personio.yaml", env, hrhttp.New, connectors.Deps{})
	present := dayRecord(t, "personio-attendance", "present")
	absent := dayRecord(t, "personio-attendance", "absent")
	for _, d := range []mapping.DayRecord{present, absent} {
		if err := sink.Deliver(t.Context(), connectors.Delivery{Record: d, IdempotencyKey: connectors.IdempotencyKey("personio", d)}); err != nil {
			t.Fatal(err)
		}
	}
	got := api.Periods()
	// The example's timezone is Europe/Berlin: 09:02:11+08:00 is 02:02:11 there.
	if len(got) != 1 || got[0].Person != "12345" || got[0].Type != "WORK" ||
		got[0].Start.Format("2006-01-02T15:04:05") != "2026-11-20T02:02:11" || got[0].End.Format("15:04:05") != "11:05:40" {
		t.Fatalf("periods %+v; want one WORK period in Berlin time (the absent day has none)", got)
	}
	if api.Requests() != 1 {
		t.Fatalf("%d requests; the absent day must send nothing", api.Requests())
	}
	corrected := present
	corrected.Version = 2
	err := sink.Deliver(t.Context(), connectors.Delivery{Record: corrected, IdempotencyKey: connectors.IdempotencyKey("personio", corrected)})
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "overlapping") {
		t.Fatalf("a correction of a sent day: %v; want the overlap refusal, for the dead-letter queue", err)
	}
}

// TestGenericExample drives the generic example: batches of records
// under "records", success read from the body's code.
func TestGenericExample(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies(), hrtest.WithCodeEnvelope(), hrtest.WithToken("hr-tok"))
	defer srv.Close()
	env := map[string]string{"DINGTALK_APP_SECRET": "x", "HR_URL": strings.TrimSuffix(srv.URL(), hrtest.Path), "HR_TOKEN": "hr-tok"}
	sink := exampleSink(t, "generic.yaml", env, hrhttp.New, connectors.Deps{}).(*hrhttp.Sink)
	var ds []connectors.Delivery
	for _, name := range []string{"present", "absent-correction"} {
		d := dayRecord(t, "generic-json", name)
		ds = append(ds, connectors.Delivery{Record: d, IdempotencyKey: connectors.IdempotencyKey("hr", d)})
	}
	for i, err := range sink.DeliverBatch(t.Context(), ds) {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	bodies := srv.AppliedBodies()
	if len(bodies) != 1 {
		t.Fatalf("%d requests, want one batch", len(bodies))
	}
	var body struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(bodies[0], &body); err != nil || len(body.Records) != 2 || body.Records[0]["worked_hours"] != 9.05 || body.Records[1]["missing_punches"] != "in" {
		t.Fatalf("body %s, %v", bodies[0], err)
	}
	srv.RequireToken("rotated")
	err := sink.Deliver(t.Context(), ds[0])
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), `code = "401"`) {
		t.Fatalf("a refusal inside a 200: %v", err)
	}
}

// TestPayrollCSVExample builds the csvfile example and exports a period.
func TestPayrollCSVExample(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC)
	env := map[string]string{"DINGTALK_APP_SECRET": "x", "PAYROLL_DIR": dir}
	sink := exampleSink(t, "payroll-csv.yaml", env, csvfile.New, connectors.Deps{Now: func() time.Time { return now }})
	d := dayRecord(t, "csv-payroll", "present")
	if err := sink.Deliver(t.Context(), connectors.Delivery{Record: d, IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	// The push flushes its sinks after delivering: November, closed, is
	// exported then.
	f, ok := sink.(interface{ Flush(context.Context) error })
	if !ok {
		t.Fatalf("%T cannot be flushed", sink)
	}
	if err := f.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"attendance-2026-11.csv", "attendance-2026-11.xlsx"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "attendance-2026-11.csv"))
	if !strings.Contains(string(b), "E1001,2026-11-20,standard,出勤,09:02,18:05,9.05,12,0,1.0,0.00,,1") {
		t.Fatalf("csv:\n%s", b)
	}
}
