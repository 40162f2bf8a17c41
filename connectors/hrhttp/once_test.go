package hrhttp_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
)

// TestEveryRecordDeliveredOnce is issue 2's must-show: an HR system that
// fails the first 2 attempts of each delivery still ends with every record
// applied exactly once, because the sink retries and the HR system drops
// a repeated Idempotency-Key.
func TestEveryRecordDeliveredOnce(t *testing.T) {
	const records = 50
	tests := []struct {
		name           string
		fail           func(*hrtest.Server)
		wantDuplicates int
	}{
		{"503 with Retry-After before applying", func(s *hrtest.Server) { s.FailFirst(2, http.StatusServiceUnavailable) }, 0},
		{"500 before applying", func(s *hrtest.Server) { s.FailFirst(2, http.StatusInternalServerError) }, 0},
		{"429 before applying", func(s *hrtest.Server) { s.FailFirst(2, http.StatusTooManyRequests) }, 0},
		{"503 after applying (lost answers)", func(s *hrtest.Server) { s.ApplyThenFailFirst(2, http.StatusServiceUnavailable) }, 2 * records},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			tt.fail(srv)
			s := newSink(t, fastConfig(srv.URL()), connectors.Deps{})

			keys := make([]string, records)
			var wg sync.WaitGroup
			for i := range records {
				d := delivery(day(fmt.Sprintf("E%04d", i), 1))
				keys[i] = d.IdempotencyKey
				wg.Go(func() {
					if err := s.Deliver(t.Context(), d); err != nil {
						t.Errorf("Deliver %s: %v", d.IdempotencyKey, err)
					}
				})
			}
			wg.Wait()

			if got := srv.AppliedCount(); got != records {
				t.Errorf("AppliedCount() = %d, want %d", got, records)
			}
			applied := srv.AppliedKeys()
			slices.Sort(applied)
			slices.Sort(keys)
			if !slices.Equal(applied, keys) {
				t.Errorf("applied keys = %v, want each of %v once", applied, keys)
			}
			for _, k := range keys {
				if n := srv.Attempts(k); n != 3 {
					t.Errorf("key %s: %d attempts, want 3", k, n)
				}
			}
			if got := srv.Duplicates(); got != tt.wantDuplicates {
				t.Errorf("Duplicates() = %d, want %d", got, tt.wantDuplicates)
			}
			if got, want := s.Stats(), (hrhttp.Stats{Attempts: 3 * records, Successes: records}); got != want {
				t.Errorf("Stats() = %+v, want %+v", got, want)
			}
		})
	}
}

// TestRedeliveryAppliedOnce: delivering the same version again (a second
// replica, a retried push run) is accepted but not applied again; a new
// version is a correction and is applied.
func TestRedeliveryAppliedOnce(t *testing.T) {
	srv := hrtest.NewServer()
	defer srv.Close()
	s := newSink(t, fastConfig(srv.URL()), connectors.Deps{})

	v1 := delivery(day("E1", 1))
	for range 3 {
		if err := s.Deliver(t.Context(), v1); err != nil {
			t.Fatalf("Deliver v1: %v", err)
		}
	}
	if srv.AppliedCount() != 1 || srv.Duplicates() != 2 {
		t.Fatalf("after 3 deliveries of v1: applied %d, duplicates %d; want 1, 2", srv.AppliedCount(), srv.Duplicates())
	}
	v2 := delivery(day("E1", 2))
	if err := s.Deliver(t.Context(), v2); err != nil {
		t.Fatalf("Deliver v2: %v", err)
	}
	got := srv.Applied()
	if len(got) != 2 || got[0].Version != 1 || got[1].Version != 2 {
		t.Fatalf("Applied() = %+v, want v1 then v2", got)
	}
}

// TestRetryAfterHonoured sets the exponential waits to an hour: a delivery
// that retries within the test's deadline did so on the answer's
// Retry-After.
func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
	}{
		{"429 seconds", http.StatusTooManyRequests, "0"},
		{"503 seconds", http.StatusServiceUnavailable, "0"},
		{"503 date in the past", http.StatusServiceUnavailable, "Wed, 21 Oct 2015 07:28:00 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			srv.FailFirst(2, tt.status)
			srv.SetRetryAfter(tt.retryAfter)
			cfg := fastConfig(srv.URL())
			cfg.RetryWaitMin, cfg.RetryWaitMax = time.Hour, time.Hour
			s := newSink(t, cfg, connectors.Deps{})

			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			if err := s.Deliver(ctx, delivery(day("E1", 1))); err != nil {
				t.Fatalf("Deliver: %v (Retry-After %q not honoured?)", err, tt.retryAfter)
			}
			if srv.Requests() != 3 || srv.AppliedCount() != 1 {
				t.Fatalf("requests %d, applied %d; want 3, 1", srv.Requests(), srv.AppliedCount())
			}
		})
	}
}
