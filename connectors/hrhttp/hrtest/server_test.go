package hrtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/mapping"
)

func dayJSON(t *testing.T, employee string, version int) string {
	t.Helper()
	b, err := json.Marshal(mapping.DayRecord{
		EmployeeID: employee, Date: "2026-11-20", Shift: "standard",
		Status: mapping.DayPresent, Version: version,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type reply struct {
	status     int
	body       string
	retryAfter string
}

// post sends one request to the fake and returns its answer.
func post(t *testing.T, srv *hrtest.Server, method, url, contentType, key, auth, body string) reply {
	t.Helper()
	r, err := send(t, srv, method, url, contentType, key, auth, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is post for goroutines other than the test's.
func send(t *testing.T, srv *hrtest.Server, method, url, contentType, key, auth, body string) (reply, error) {
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, body: string(bytes.TrimSpace(b)), retryAfter: resp.Header.Get("Retry-After")}, nil
}

func TestServerValidatesRequests(t *testing.T) {
	const ct = "application/json"
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		key         string
		body        string
		wantStatus  int
		wantBody    string // substring
		wantOutcome string
	}{
		{"applied", "POST", hrtest.Path, ct, "k1", "", http.StatusCreated, `"status":"applied"`, "applied"},
		{"charset parameter accepted", "POST", hrtest.Path, ct + "; charset=utf-8", "k1", "", http.StatusCreated, "applied", "applied"},
		{"wrong path", "POST", "/other", ct, "k1", "", http.StatusNotFound, "day records go to " + hrtest.Path, "invalid"},
		{"wrong method", "PUT", hrtest.Path, ct, "k1", "", http.StatusMethodNotAllowed, "use POST", "invalid"},
		{"not json", "POST", hrtest.Path, "text/plain", "k1", "", http.StatusUnsupportedMediaType, "application/json", "invalid"},
		{"no idempotency key", "POST", hrtest.Path, ct, "", "", http.StatusBadRequest, "Idempotency-Key", "invalid"},
		{"malformed body", "POST", hrtest.Path, ct, "k1", `{"employee_id":`, http.StatusBadRequest, "not a day record", "invalid"},
		{"unknown field", "POST", hrtest.Path, ct, "k1", `{"schema":"punchbridge.day/v1","employee":"E1"}`, http.StatusBadRequest, "unknown field", "invalid"},
		{"no employee", "POST", hrtest.Path, ct, "k1", "EMPTY_EMPLOYEE", http.StatusUnprocessableEntity, "employee_id is required", "invalid"},
		{"version 0", "POST", hrtest.Path, ct, "k1", "VERSION_0", http.StatusUnprocessableEntity, "version 0", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			body := tt.body
			switch body {
			case "":
				body = dayJSON(t, "E1", 1)
			case "EMPTY_EMPLOYEE":
				body = dayJSON(t, "", 1)
			case "VERSION_0":
				body = dayJSON(t, "E1", 0)
			}
			base := strings.TrimSuffix(srv.URL(), hrtest.Path)
			got := post(t, srv, tt.method, base+tt.path, tt.contentType, tt.key, "", body)
			if got.status != tt.wantStatus || !strings.Contains(got.body, tt.wantBody) {
				t.Fatalf("answer = %d %s, want %d containing %q", got.status, got.body, tt.wantStatus, tt.wantBody)
			}
			recv := srv.Received()
			if len(recv) != 1 || recv[0].Outcome != tt.wantOutcome || recv[0].Status != tt.wantStatus {
				t.Fatalf("Received() = %+v, want one request with outcome %q", recv, tt.wantOutcome)
			}
			wantApplied := 0
			if tt.wantOutcome == "applied" {
				wantApplied = 1
				if recv[0].Record.EmployeeID != "E1" || recv[0].IdempotencyKey != "k1" {
					t.Errorf("recorded %+v, want E1 under key k1", recv[0])
				}
			}
			if srv.AppliedCount() != wantApplied {
				t.Errorf("AppliedCount() = %d, want %d", srv.AppliedCount(), wantApplied)
			}
		})
	}
}

func TestServerFailureInjection(t *testing.T) {
	type step struct {
		key        string
		wantStatus int
		wantRA     string
	}
	tests := []struct {
		name          string
		setup         func(*hrtest.Server)
		steps         []step
		wantApplied   int
		wantDuplicate int
	}{
		{
			name:  "fail first 2 with 503 per key",
			setup: func(s *hrtest.Server) { s.FailFirst(2, http.StatusServiceUnavailable) },
			steps: []step{
				{"a", 503, "0"}, {"b", 503, "0"}, {"a", 503, "0"}, {"a", 201, ""}, {"b", 503, "0"}, {"b", 201, ""}, {"a", 200, ""},
			},
			wantApplied: 2, wantDuplicate: 1,
		},
		{
			name:        "500 carries no Retry-After",
			setup:       func(s *hrtest.Server) { s.FailFirst(1, http.StatusInternalServerError) },
			steps:       []step{{"a", 500, ""}, {"a", 201, ""}},
			wantApplied: 1,
		},
		{
			name: "custom Retry-After on 429",
			setup: func(s *hrtest.Server) {
				s.FailFirst(1, http.StatusTooManyRequests)
				s.SetRetryAfter("7")
			},
			steps:       []step{{"a", 429, "7"}, {"a", 201, ""}},
			wantApplied: 1,
		},
		{
			name:        "apply then fail: the retry is a duplicate",
			setup:       func(s *hrtest.Server) { s.ApplyThenFailFirst(1, http.StatusBadGateway) },
			steps:       []step{{"a", 502, ""}, {"a", 200, ""}},
			wantApplied: 1, wantDuplicate: 1,
		},
		{
			name:        "fail always until healed",
			setup:       func(s *hrtest.Server) { s.FailAlways(http.StatusServiceUnavailable) },
			steps:       []step{{"a", 503, "0"}, {"a", 503, "0"}, {"HEAL", 0, ""}, {"a", 201, ""}},
			wantApplied: 1,
		},
		{
			name:        "token required",
			setup:       func(s *hrtest.Server) { s.RequireToken("tok") },
			steps:       []step{{"NOAUTH", 401, ""}, {"a", 201, ""}},
			wantApplied: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			tt.setup(srv)
			for i, st := range tt.steps {
				if st.key == "HEAL" {
					srv.Heal()
					continue
				}
				key, auth := st.key, "Bearer tok"
				if key == "NOAUTH" {
					key, auth = "a", ""
				}
				got := post(t, srv, "POST", srv.URL(), "application/json", key, auth, dayJSON(t, "E-"+key, 1))
				if got.status != st.wantStatus || got.retryAfter != st.wantRA {
					t.Fatalf("step %d (%s): answer %d Retry-After %q, want %d %q", i, st.key, got.status, got.retryAfter, st.wantStatus, st.wantRA)
				}
			}
			if got := srv.AppliedCount(); got != tt.wantApplied {
				t.Errorf("AppliedCount() = %d, want %d", got, tt.wantApplied)
			}
			if got := srv.Duplicates(); got != tt.wantDuplicate {
				t.Errorf("Duplicates() = %d, want %d", got, tt.wantDuplicate)
			}
		})
	}
}

// TestServerConcurrentAttemptsApplyOnce races many attempts with one key:
// exactly one applies.
func TestServerConcurrentAttemptsApplyOnce(t *testing.T) {
	srv := hrtest.NewServer()
	defer srv.Close()
	body := dayJSON(t, "E1", 1)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := send(t, srv, "POST", srv.URL(), "application/json", "same", "", body)
			if err != nil || (r.status != http.StatusCreated && r.status != http.StatusOK) {
				t.Errorf("answer %d, %v; want 201 or 200", r.status, err)
			}
		})
	}
	wg.Wait()
	if srv.AppliedCount() != 1 || srv.Duplicates() != 19 || srv.Requests() != 20 || srv.Attempts("same") != 20 {
		t.Fatalf("applied %d, duplicates %d, requests %d, attempts %d; want 1, 19, 20, 20",
			srv.AppliedCount(), srv.Duplicates(), srv.Requests(), srv.Attempts("same"))
	}
	if got := srv.Applied(); len(got) != 1 || got[0].EmployeeID != "E1" {
		t.Fatalf("Applied() = %+v", got)
	}
	if got := srv.AppliedKeys(); len(got) != 1 || got[0] != "same" {
		t.Fatalf("AppliedKeys() = %v", got)
	}
}
