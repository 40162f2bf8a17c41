package hrhttp_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/mapping"
)

const sinkName = "payroll"

// fastConfig is a config pointed at url whose retry waits are milliseconds.
func fastConfig(url string) hrhttp.Config {
	cfg := hrhttp.DefaultConfig()
	cfg.URL = url
	cfg.Timeout = 5 * time.Second
	cfg.RetryWaitMin = time.Millisecond
	cfg.RetryWaitMax = 5 * time.Millisecond
	return cfg
}

func newSink(t *testing.T, cfg hrhttp.Config, deps connectors.Deps) *hrhttp.Sink {
	t.Helper()
	s, err := hrhttp.NewSink(sinkName, cfg, deps)
	if err != nil {
		t.Fatalf("NewSink: %v", err)
	}
	return s
}

func day(employee string, version int) mapping.DayRecord {
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, time.FixedZone("CST", 8*3600))
	out := in.Add(9 * time.Hour)
	return mapping.DayRecord{
		Schema: mapping.DaySchema, EmployeeID: employee, Date: "2026-11-20", Shift: "standard",
		Status: mapping.DayPresent, FirstIn: &in, LastOut: &out, WorkedMinutes: 540,
		Events: []string{"dingtalk/ding5f3a/punch/" + employee}, Version: version,
	}
}

func delivery(rec mapping.DayRecord) connectors.Delivery {
	return connectors.Delivery{Record: rec, IdempotencyKey: connectors.IdempotencyKey(sinkName, rec)}
}

func TestDeliver(t *testing.T) {
	tests := []struct {
		name      string
		server    func(*hrtest.Server)
		config    func(*hrhttp.Config, *hrtest.Server)
		record    mapping.DayRecord
		wantErr   string // substring; "" means success
		permanent bool
		requests  int
		applied   int
	}{
		{name: "success", record: day("E1", 1), requests: 1, applied: 1},
		{
			name:   "two 503s then success",
			server: func(s *hrtest.Server) { s.FailFirst(2, http.StatusServiceUnavailable) },
			record: day("E1", 1), requests: 3, applied: 1,
		},
		{
			name:   "two 500s without Retry-After then success",
			server: func(s *hrtest.Server) { s.FailFirst(2, http.StatusInternalServerError) },
			record: day("E1", 1), requests: 3, applied: 1,
		},
		{
			name:   "429 then success",
			server: func(s *hrtest.Server) { s.FailFirst(1, http.StatusTooManyRequests) },
			record: day("E1", 1), requests: 2, applied: 1,
		},
		{
			name:   "answer lost after apply: the retry is a duplicate",
			server: func(s *hrtest.Server) { s.ApplyThenFailFirst(1, http.StatusBadGateway) },
			record: day("E1", 1), requests: 2, applied: 1,
		},
		{
			name:    "retries exhausted",
			server:  func(s *hrtest.Server) { s.FailAlways(http.StatusServiceUnavailable) },
			config:  func(c *hrhttp.Config, _ *hrtest.Server) { c.MaxRetries = 2 },
			record:  day("E1", 1),
			wantErr: "answered 503 Service Unavailable after 3 attempt(s)", requests: 3,
		},
		{
			name:    "422 is permanent",
			record:  day("", 1),
			wantErr: "answered 422 Unprocessable Entity after 1 attempt(s): {\"error\":\"employee_id is required\"}", permanent: true, requests: 1,
		},
		{
			name:    "400 is permanent",
			server:  func(s *hrtest.Server) { s.FailAlways(http.StatusBadRequest) },
			record:  day("E1", 1),
			wantErr: "answered 400 Bad Request after 1 attempt(s)", permanent: true, requests: 1,
		},
		{
			name:    "501 is permanent",
			server:  func(s *hrtest.Server) { s.FailAlways(http.StatusNotImplemented) },
			record:  day("E1", 1),
			wantErr: "answered 501", permanent: true, requests: 1,
		},
		{
			name: "wrong path names the fix",
			config: func(c *hrhttp.Config, s *hrtest.Server) {
				c.URL = strings.TrimSuffix(s.URL(), hrtest.Path) + "/api/days"
			},
			record:  day("E1", 1),
			wantErr: "check the sink's url", permanent: true, requests: 1,
		},
		{
			name:   "token required and sent",
			server: func(s *hrtest.Server) { s.RequireToken("hr-token-123") },
			config: func(c *hrhttp.Config, _ *hrtest.Server) { c.Token = "hr-token-123" },
			record: day("E1", 1), requests: 1, applied: 1,
		},
		{
			name:    "token missing is permanent",
			server:  func(s *hrtest.Server) { s.RequireToken("hr-token-123") },
			record:  day("E1", 1),
			wantErr: "answered 401 Unauthorized after 1 attempt(s)", permanent: true, requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			if tt.server != nil {
				tt.server(srv)
			}
			cfg := fastConfig(srv.URL())
			cfg.Headers = map[string]string{"X-Tenant": "acme"}
			if tt.config != nil {
				tt.config(&cfg, srv)
			}
			s := newSink(t, cfg, connectors.Deps{})

			err := s.Deliver(t.Context(), delivery(tt.record))

			if tt.wantErr == "" && err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Deliver error = %v, want one containing %q", err, tt.wantErr)
			}
			if err != nil && errors.Is(err, connectors.ErrPermanent) != tt.permanent {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v (%v)", !tt.permanent, tt.permanent, err)
			}
			if got := srv.Requests(); got != tt.requests {
				t.Errorf("server got %d requests, want %d", got, tt.requests)
			}
			if got := srv.AppliedCount(); got != tt.applied {
				t.Errorf("server applied %d records, want %d", got, tt.applied)
			}
			wantStats := hrhttp.Stats{Attempts: tt.requests, Successes: 1}
			if err != nil {
				wantStats = hrhttp.Stats{Attempts: tt.requests, Failures: 1}
			}
			if got := s.Stats(); got != wantStats {
				t.Errorf("Stats() = %+v, want %+v", got, wantStats)
			}
			checkHeaders(t, srv.Received(), delivery(tt.record).IdempotencyKey, cfg.Token.Reveal())
			if tt.applied == 1 {
				got := srv.Applied()[0]
				if got.EmployeeID != tt.record.EmployeeID || got.WorkedMinutes != tt.record.WorkedMinutes ||
					!got.FirstIn.Equal(*tt.record.FirstIn) || !slices.Equal(got.Events, tt.record.Events) {
					t.Errorf("applied %+v, want %+v", got, tt.record)
				}
			}
		})
	}
}

// checkHeaders asserts that every request carried the sink's headers.
func checkHeaders(t *testing.T, reqs []hrtest.Request, key, token string) {
	t.Helper()
	for i, r := range reqs {
		want := map[string]string{
			"Content-Type":    "application/json",
			"Idempotency-Key": key,
			"X-Tenant":        "acme",
			"User-Agent":      "punchbridge",
		}
		if token != "" {
			want["Authorization"] = "Bearer " + token
		}
		for h, v := range want {
			if got := r.Header.Get(h); got != v {
				t.Errorf("request %d: %s = %q, want %q", i, h, got, v)
			}
		}
		if token == "" && r.Header.Get("Authorization") != "" {
			t.Errorf("request %d: Authorization sent without a token", i)
		}
	}
}
