package frappetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/connectors/hrhttp/frappetest"
)

func call(t *testing.T, site *frappetest.Server, method, u, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, out
}

func TestCheckins(t *testing.T) {
	site := frappetest.NewServer("k", "s")
	defer site.Close()
	site.AddEmployee("HR-EMP-00001", "张伟", map[string]string{"attendance_device_id": "E1001"})
	const auth = "token k:s"
	tests := []struct {
		name       string
		auth, body string
		wantStatus int
		wantText   string // in the answer
	}{
		{"created", auth, `{"employee":"HR-EMP-00001","time":"2026-11-20 09:02:11","log_type":"IN","device_id":"F7","skip_auto_attendance":0}`, 200, `EMP-CKIN-11-2026-000001`},
		{"same time and log type again", auth, `{"employee":"HR-EMP-00001","time":"2026-11-20 09:02:11.250000","log_type":"IN"}`, 417, "This employee already has a log with the same timestamp"},
		{"same time, other log type", auth, `{"employee":"HR-EMP-00001","time":"2026-11-20 09:02:11","log_type":"OUT"}`, 200, "EMP-CKIN-11-2026-000002"},
		{"unknown employee", auth, `{"employee":"HR-EMP-09999","time":"2026-11-20 09:02:11"}`, 417, "Could not find Employee: HR-EMP-09999"},
		{"no employee", auth, `{"time":"2026-11-20 09:02:11"}`, 417, "MandatoryError"},
		{"RFC 3339 time", auth, `{"employee":"HR-EMP-00001","time":"2026-11-20T09:02:11+08:00"}`, 417, "is not a valid datetime"},
		{"bad log type", auth, `{"employee":"HR-EMP-00001","time":"2026-11-20 10:00:00","log_type":"in"}`, 417, "Log Type cannot be"},
		{"wrong token", "token k:x", `{"employee":"HR-EMP-00001","time":"2026-11-20 10:00:00"}`, 401, "AuthenticationError"},
		{"bearer is not Frappe's scheme", "Bearer k:s", `{"employee":"HR-EMP-00001","time":"2026-11-20 10:00:00"}`, 401, "AuthenticationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := call(t, site, "POST", site.CheckinURL(), tt.auth, tt.body)
			b, _ := json.Marshal(out)
			if status != tt.wantStatus || !strings.Contains(string(b), tt.wantText) {
				t.Fatalf("answer %d %s, want %d with %q", status, b, tt.wantStatus, tt.wantText)
			}
		})
	}
	got := site.Checkins()
	if len(got) != 2 || got[0].Time != "2026-11-20 09:02:11" || got[0].EmployeeName != "张伟" || got[1].LogType != "OUT" {
		t.Fatalf("checkins %+v", got)
	}
	if n := len(site.Received()); n != len(tests) {
		t.Fatalf("received %d requests, want %d", n, len(tests))
	}
}

func TestEmployeeLookup(t *testing.T) {
	site := frappetest.NewServer("k", "s")
	defer site.Close()
	site.AddEmployee("HR-EMP-00001", "张伟", map[string]string{"attendance_device_id": "E1001"})
	site.AddEmployee("HR-EMP-00002", "李娜", map[string]string{"attendance_device_id": "E1002"})
	q := url.Values{"filters": {`[["attendance_device_id","=","E1002"]]`}, "fields": {`["name","employee_name"]`}}
	status, out := call(t, site, "GET", site.URL()+frappetest.EmployeePath+"?"+q.Encode(), "token k:s", "")
	b, _ := json.Marshal(out)
	if status != 200 || string(b) != `{"data":[{"employee_name":"李娜","name":"HR-EMP-00002"}]}` {
		t.Fatalf("answer %d %s", status, b)
	}
	q.Set("filters", `[["attendance_device_id","=","E9"]]`)
	_, out = call(t, site, "GET", site.URL()+frappetest.EmployeePath+"?"+q.Encode(), "token k:s", "")
	if b, _ := json.Marshal(out); string(b) != `{"data":[]}` {
		t.Fatalf("no match: %s", b)
	}
}

func TestFailNext(t *testing.T) {
	site := frappetest.NewServer("k", "s")
	defer site.Close()
	site.AddEmployee("HR-EMP-00001", "张伟", nil)
	site.FailNext(1, http.StatusServiceUnavailable)
	body := `{"employee":"HR-EMP-00001","time":"2026-11-20 09:02:11"}`
	if status, _ := call(t, site, "POST", site.CheckinURL(), "token k:s", body); status != 503 {
		t.Fatalf("first answer %d, want 503", status)
	}
	if status, _ := call(t, site, "POST", site.CheckinURL(), "token k:s", body); status != 200 {
		t.Fatalf("second answer %d, want 200", status)
	}
}
