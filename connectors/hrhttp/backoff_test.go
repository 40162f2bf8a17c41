package hrhttp

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
)

func TestBackoff(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	answer := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	const waitMin, waitMax = 100 * time.Millisecond, 30 * time.Second
	tests := []struct {
		name    string
		attempt int
		resp    *http.Response
		lo, hi  time.Duration // inclusive bounds of the wait
	}{
		{"429 seconds", 0, answer(429, "3"), 3 * time.Second, 3 * time.Second},
		{"503 seconds", 2, answer(503, "1"), time.Second, time.Second},
		{"Retry-After 0 beats the minimum", 0, answer(503, "0"), 0, 0},
		{"Retry-After capped at max", 0, answer(429, "120"), waitMax, waitMax},
		{"huge Retry-After capped at max", 0, answer(429, "99999999999999"), waitMax, waitMax},
		{"HTTP date", 0, answer(429, now.Add(7*time.Second).Format(http.TimeFormat)), 7 * time.Second, 7 * time.Second},
		{"HTTP date in the past", 0, answer(503, now.Add(-time.Minute).Format(http.TimeFormat)), 0, 0},
		{"Retry-After ignored on 500", 0, answer(500, "3"), waitMin, waitMin},
		{"negative Retry-After ignored", 1, answer(429, "-1"), waitMin, 2 * waitMin},
		{"garbage Retry-After ignored", 1, answer(429, "soon"), waitMin, 2 * waitMin},
		{"connection error, first retry", 0, nil, waitMin, waitMin},
		{"exponential with jitter", 3, nil, 400 * time.Millisecond, 800 * time.Millisecond},
		{"exponential capped", 12, answer(502, ""), waitMax / 2, waitMax},
	}
	s := &Sink{now: func() time.Time { return now }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Jitter is random: probe it a few times against the bounds.
			for range 20 {
				got := s.backoff(waitMin, waitMax, tt.attempt, tt.resp)
				if got < tt.lo || got > tt.hi {
					t.Fatalf("backoff = %v, want within [%v, %v]", got, tt.lo, tt.hi)
				}
			}
		})
	}
}

func TestCheckRetry(t *testing.T) {
	tests := []struct {
		status int
		retry  bool
	}{
		{200, false}, {201, false}, {302, false}, {400, false}, {401, false}, {404, false}, {409, false}, {422, false},
		{429, true}, {500, true}, {501, false}, {502, true}, {503, true}, {504, true},
	}
	for _, tt := range tests {
		retry, err := checkRetry(t.Context(), &http.Response{StatusCode: tt.status}, nil)
		if retry != tt.retry || err != nil {
			t.Errorf("checkRetry(%d) = %v, %v; want %v, nil", tt.status, retry, err, tt.retry)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := make([]byte, 0, 600)
	for len(long) < 600 {
		long = append(long, "考勤 "...)
	}
	tests := []struct {
		name, body, secret, want string
	}{
		{"collapses whitespace", "{\n  \"error\": \"bad\"\n}\n", "", `{ "error": "bad" }`},
		{"redacts the secret", `{"auth":"Bearer tok-1"}`, "tok-1", `{"auth":"Bearer [REDACTED]"}`},
		{"drops control characters", "a\x00b\x1bc", "", "abc"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		if got := excerpt([]byte(tt.body), tt.secret); got != tt.want {
			t.Errorf("%s: excerpt = %q, want %q", tt.name, got, tt.want)
		}
	}
	got := excerpt(long, "")
	if len(got) > excerptLen+len("…") || got[len(got)-len("…"):] != "…" {
		t.Errorf("long excerpt = %q (%d bytes), want at most %d bytes and an ellipsis", got, len(got), excerptLen)
	}
	for _, r := range got {
		if r == '\uFFFD' {
			t.Errorf("long excerpt cut inside a character: %q", got)
		}
	}
}

func TestStatusErrorIsPermanent(t *testing.T) {
	if err := statusError(503, nil, 5, ""); err == nil || errorsIsPermanent(err) {
		t.Errorf("503: %v, want a transient error", err)
	}
	if err := statusError(409, nil, 1, ""); !errorsIsPermanent(err) {
		t.Errorf("409: %v, want a permanent error", err)
	}
	if err := statusError(204, nil, 1, ""); err != nil {
		t.Errorf("204: %v, want success", err)
	}
}

func errorsIsPermanent(err error) bool { return errors.Is(err, connectors.ErrPermanent) }
