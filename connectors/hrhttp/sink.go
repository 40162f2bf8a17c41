package hrhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
)

// Type is the sink type name in the config.
const Type = "hrhttp"

// Body size limits: what an answer may make us read before closing, and how
// much of it is kept for classification.
const (
	drainLimit = 64 << 10
	keepLimit  = 4 << 10
)

var _ connectors.Sink = (*Sink)(nil)

// Sink delivers day records to one HR endpoint. It is safe for concurrent
// use; all deliveries share one HTTP client and its connections.
type Sink struct {
	name    string
	url     string
	safeURL string // url without query or user info, for errors
	token   string
	header  http.Header // configured headers, canonical
	client  *retryablehttp.Client
	now     func() time.Time

	attempts, successes, failures atomic.Int64
}

// Stats counts a sink's work since it was built.
type Stats struct {
	// Attempts is the number of HTTP requests sent, retries included.
	Attempts int
	// Successes and Failures count Deliver calls by outcome.
	Successes int
	Failures  int
}

// New is the connectors.SinkFactory of type "hrhttp": it decodes the
// entry's settings over DefaultConfig, strictly, and builds the sink.
func New(c config.Component, deps connectors.Deps) (connectors.Sink, error) {
	cfg := DefaultConfig()
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	s, err := NewSink(c.Name, cfg, deps)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewSink builds a sink named name from a config, which it validates. Zero
// fields are not defaulted: start from DefaultConfig.
func NewSink(name string, cfg Config, deps connectors.Deps) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hrhttp %s: %w", name, err)
	}
	u, _ := url.Parse(cfg.URL) // Validate parsed it
	safe := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}

	transport := deps.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Push runs deliver concurrently to one host; keep their
		// connections instead of redialling.
		t.MaxIdleConnsPerHost = 16
		transport = t
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	header := http.Header{}
	header.Set("User-Agent", "punchbridge")
	for k, v := range cfg.Headers {
		header.Set(k, v)
	}

	s := &Sink{
		name:    name,
		url:     cfg.URL,
		safeURL: safe.String(),
		token:   cfg.Token.Reveal(),
		header:  header,
		now:     now,
	}
	s.client = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			// A redirected POST may turn into a GET; make it an answer
			// that statusError reports instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin:   cfg.RetryWaitMin,
		RetryWaitMax:   cfg.RetryWaitMax,
		RetryMax:       cfg.MaxRetries,
		CheckRetry:     checkRetry,
		Backoff:        s.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: s.countAttempt,
		// Logger stays nil: the caller logs a failed delivery once.
	}
	return s, nil
}

// Name is the sink's instance name.
func (s *Sink) Name() string { return s.name }

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Attempts:  int(s.attempts.Load()),
		Successes: int(s.successes.Load()),
		Failures:  int(s.failures.Load()),
	}
}

// Deliver POSTs one day record with its idempotency key, retrying
// transient failures. Its error wraps connectors.ErrPermanent when the HR
// system refused the record, and ctx's error when ctx ended first.
func (s *Sink) Deliver(ctx context.Context, d connectors.Delivery) error {
	if err := s.deliver(ctx, d); err != nil {
		s.failures.Add(1)
		return fmt.Errorf("hrhttp %s: deliver %s: %w", s.name, d.IdempotencyKey, err)
	}
	s.successes.Add(1)
	return nil
}

func (s *Sink) deliver(ctx context.Context, d connectors.Delivery) error {
	if d.IdempotencyKey == "" {
		return fmt.Errorf("empty idempotency key: %w", connectors.ErrPermanent)
	}
	body, err := json.Marshal(d.Record)
	if err != nil {
		return fmt.Errorf("encode day record: %w (%w)", err, connectors.ErrPermanent)
	}
	tries := new(int)
	ctx = context.WithValue(ctx, attemptsKey{}, tries)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, s.url, body)
	if err != nil {
		return fmt.Errorf("build request: %w (%w)", err, connectors.ErrPermanent)
	}
	for k, v := range s.header {
		req.Header[k] = slices.Clone(v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", d.IdempotencyKey)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("POST %s: stopped after %d attempt(s): %w", s.safeURL, *tries, ctxErr)
		}
		// The url.Error names the full URL, query included; we name the
		// safe one instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: gave up after %d attempt(s): %w", s.safeURL, *tries, err)
	}
	kept, _ := io.ReadAll(io.LimitReader(resp.Body, keepLimit))
	drain(resp.Body)
	if err := statusError(resp.StatusCode, kept, *tries, s.token); err != nil {
		return fmt.Errorf("POST %s: %w", s.safeURL, err)
	}
	return nil
}

// attemptsKey keys the per-delivery attempt counter in a request context.
type attemptsKey struct{}

// countAttempt runs before every attempt of every delivery. Attempts of
// one delivery run one after another, so its counter needs no lock.
func (s *Sink) countAttempt(_ retryablehttp.Logger, req *http.Request, _ int) {
	s.attempts.Add(1)
	if n, ok := req.Context().Value(attemptsKey{}).(*int); ok {
		*n++
	}
}

// checkRetry retries connection errors and the answers retryableStatus
// names; it stops when ctx ends. A transport error retrying cannot fix (a
// bad certificate, an unsupported scheme) is permanent.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err); retry {
			return true, nil
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return false, fmt.Errorf("%w (%w)", err, connectors.ErrPermanent)
	}
	return retryableStatus(resp.StatusCode), nil
}

// backoff is the wait before retry attemptNum+1 (attemptNum counts from
// 0). A 429 or 503 with a Retry-After gets what it asks for, capped at
// waitMax; anything else waits waitMin·2^attemptNum, capped at waitMax,
// jittered into its upper half and never below waitMin.
func (s *Sink) backoff(waitMin, waitMax time.Duration, attemptNum int, resp *http.Response) time.Duration {
	if resp != nil && honoursRetryAfter(resp.StatusCode) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), s.now()); ok {
			return clamp(d, 0, waitMax)
		}
	}
	base := waitMin
	for i := 0; i < attemptNum && base < waitMax; i++ {
		base *= 2
	}
	base = clamp(base, 0, waitMax)
	half := base / 2
	wait := half + rand.N(base-half+1)
	return clamp(wait, waitMin, waitMax)
}

// retryAfter parses a Retry-After value, delay-seconds or an HTTP date
// relative to now (RFC 9110 §10.2.3). A date in the past means now.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second) // no overflow; max caps it anyway
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// drain reads what is left of a body, within a limit, so that the
// connection can be reused, and closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
	_ = body.Close()
}
