package hrhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
)

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestContextCancellationStopsRetries(t *testing.T) {
	tests := []struct {
		name         string
		cancelBefore bool
		wantRequests int
	}{
		{"cancelled during the backoff", false, 1},
		{"cancelled before the first attempt", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			srv.FailAlways(http.StatusInternalServerError)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			base := srv.Client().Transport
			// The transport ends ctx once the first answer is in, so that
			// the sink meets a cancelled context in its hour-long wait.
			transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := base.RoundTrip(r)
				cancel()
				return resp, err
			})
			cfg := fastConfig(srv.URL())
			cfg.RetryWaitMin, cfg.RetryWaitMax = time.Hour, time.Hour
			s := newSink(t, cfg, connectors.Deps{Transport: transport})
			if tt.cancelBefore {
				cancel()
			}

			err := s.Deliver(ctx, delivery(day("E1", 1)))

			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Deliver error = %v, want context.Canceled", err)
			}
			if errors.Is(err, connectors.ErrPermanent) {
				t.Errorf("a cancelled delivery is not permanent: %v", err)
			}
			if got := srv.Requests(); got != tt.wantRequests {
				t.Errorf("server got %d requests, want %d", got, tt.wantRequests)
			}
		})
	}
}

// TestTransportFailures: connection errors and timeouts are retried and
// end in a transient error; an untrusted certificate is not retried.
func TestTransportFailures(t *testing.T) {
	closed := hrtest.NewServer()
	closedURL := closed.URL()
	closed.Close()
	slow := hrtest.NewServer(hrtest.WithLatency(time.Second))
	defer slow.Close()

	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	defer untrusted.Close()

	tests := []struct {
		name      string
		url       string
		timeout   time.Duration
		wantErr   string
		permanent bool
		attempts  int
	}{
		{"connection refused", closedURL, time.Second, "gave up after 3 attempt(s)", false, 3},
		{"attempt timeout", slow.URL(), 20 * time.Millisecond, "Client.Timeout exceeded", false, 3},
		{"untrusted certificate", untrusted.URL + "/days", time.Second, "certificate", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fastConfig(tt.url)
			cfg.Timeout = tt.timeout
			cfg.MaxRetries = 2
			s := newSink(t, cfg, connectors.Deps{})
			err := s.Deliver(t.Context(), delivery(day("E1", 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Deliver error = %v, want one containing %q", err, tt.wantErr)
			}
			if errors.Is(err, connectors.ErrPermanent) != tt.permanent {
				t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v (%v)", !tt.permanent, tt.permanent, err)
			}
			if got := s.Stats().Attempts; got != tt.attempts {
				t.Errorf("Stats().Attempts = %d, want %d", got, tt.attempts)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	target := hrtest.NewServer()
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL(), http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()

	s := newSink(t, fastConfig(redirect.URL+"/days"), connectors.Deps{})
	err := s.Deliver(t.Context(), delivery(day("E1", 1)))
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "307") {
		t.Fatalf("Deliver error = %v, want a permanent 307", err)
	}
	if target.Requests() != 0 {
		t.Errorf("redirect target got %d requests, want 0", target.Requests())
	}
}

// TestErrorsNeverCarryTheToken points the sink at servers that echo the
// Authorization header and at a closed port with a secret in the URL's
// query: no error may show either secret.
func TestErrorsNeverCarryTheToken(t *testing.T) {
	const token = "sk-live-4f9a8b7c6d5e"
	const querySecret = "qs-7e6d5c4b"
	echo := func(status int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":"bad credentials %s"}`, r.Header.Get("Authorization"))
		}))
	}
	bad, busy := echo(http.StatusBadRequest), echo(http.StatusServiceUnavailable)
	defer bad.Close()
	defer busy.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name string
		url  string
	}{
		{"400 echoing the header", bad.URL + "/days?key=" + querySecret},
		{"503 echoing the header", busy.URL + "/days?key=" + querySecret},
		{"connection refused", closed.URL + "/days?key=" + querySecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fastConfig(tt.url)
			cfg.Token = config.Secret(token)
			cfg.MaxRetries = 1
			s := newSink(t, cfg, connectors.Deps{})
			err := s.Deliver(t.Context(), delivery(day("E1", 1)))
			if err == nil {
				t.Fatal("Deliver succeeded, want an error")
			}
			for _, secret := range []string{token, querySecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q: %v", secret, err)
				}
			}
			if !strings.Contains(err.Error(), "/days") {
				t.Errorf("error should still name the endpoint: %v", err)
			}
		})
	}
}

func TestDeliverRefusesEmptyKey(t *testing.T) {
	srv := hrtest.NewServer()
	defer srv.Close()
	s := newSink(t, fastConfig(srv.URL()), connectors.Deps{})
	err := s.Deliver(t.Context(), connectors.Delivery{Record: day("E1", 1)})
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "empty idempotency key") {
		t.Fatalf("Deliver error = %v, want a permanent empty-key error", err)
	}
	if srv.Requests() != 0 {
		t.Errorf("server got %d requests, want 0", srv.Requests())
	}
}
