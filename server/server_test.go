package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	m.Run()
}

// echoReceiver turns every POST into one event and acknowledges it only
// after ingest succeeds.
type echoReceiver struct{ name string }

func (e echoReceiver) Name() string     { return e.name }
func (e echoReceiver) Platform() string { return "fake" }
func (e echoReceiver) Tenant() string   { return "t1" }
func (e echoReceiver) Handler(ingest connectors.EmitFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev := mapping.Event{ID: "fake/t1/punch/" + string(body), Connector: e.name}
		if err := ingest(r.Context(), []mapping.Event{ev}); err != nil {
			http.Error(w, "retry later", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "success")
	})
}

func TestWebhookRouting(t *testing.T) {
	var got []string
	fail := false
	h := New(Options{
		Receivers: []connectors.Receiver{echoReceiver{"hq"}, echoReceiver{"branch"}},
		Ingest: func(_ context.Context, evs []mapping.Event) error {
			if fail {
				return errors.New("ledger down")
			}
			for _, e := range evs {
				got = append(got, e.Connector+":"+e.ID)
			}
			return nil
		},
	})
	cases := []struct {
		name, path, body string
		fail             bool
		wantCode         int
		wantGot          string
	}{
		{"routes by connector name", "/hooks/fake/branch", "1", false, 200, "branch:fake/t1/punch/1"},
		{"other tenant", "/hooks/fake/hq", "2", false, 200, "hq:fake/t1/punch/2"},
		{"unknown connector", "/hooks/fake/nowhere", "3", false, 404, ""},
		{"unknown platform", "/hooks/dingtalk/hq", "4", false, 404, ""},
		{"ingest failure makes the platform retry", "/hooks/fake/hq", "5", true, 503, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, fail = nil, tc.fail
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body)))
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.wantCode, rec.Body)
			}
			if strings.Join(got, ",") != tc.wantGot {
				t.Fatalf("ingested %v, want %q", got, tc.wantGot)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	var readyErr error
	h := New(Options{Ready: func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("readiness check must run with a deadline")
		}
		return readyErr
	}})
	for _, tc := range []struct {
		path  string
		ready error
		want  int
	}{
		{"/healthz", nil, 200},
		{"/healthz", errors.New("down"), 200},
		{"/readyz", nil, 200},
		{"/readyz", errors.New("ledger: database is locked"), 503},
	} {
		readyErr = tc.ready
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s with ready=%v: %d, want %d", tc.path, tc.ready, rec.Code, tc.want)
		}
	}
}
