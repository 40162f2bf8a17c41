package hrhttp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// Type is the sink type name in the config.
const Type = "hrhttp"

// Body size limits: what an answer may make us read before closing, and how
// much of it is kept for classification (all of what is read when the body
// is judged by success:).
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
	scheme  string      // Authorization scheme of token
	header  http.Header // configured headers, canonical
	client  *retryablehttp.Client
	now     func() time.Time

	records string           // RecordsDays or RecordsEvents
	mapping *mapping.Mapping // nil: the record itself is the body
	batch   Batch
	success Success
	already []string
	keep    int64 // bytes of an answer kept for judging

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
//
// A mapping: is compiled here, as part of the config file, so that its
// errors carry the file:line they are at.
func New(c config.Component, deps connectors.Deps) (connectors.Sink, error) {
	cfg := DefaultConfig()
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	m, err := cfg.Mapping.Compile(c.File, zoneOption(cfg.Timezone)...)
	if err != nil {
		return nil, err
	}
	if err := checkInput(m, cfg.records()); err != nil {
		return nil, config.Errors{{File: c.File, Line: config.LineOf(c.Node, "mapping"), Msg: fmt.Sprintf("sink %q: %v", c.Name, err)}}
	}
	if m != nil {
		cfg.Mapping = presets.Use(m)
	}
	s, err := NewSink(c.Name, cfg, deps)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewSink builds a sink named name from a config, which it validates. Zero
// fields are not defaulted: start from DefaultConfig. A mapping given as
// written (not by presets.Use) is read relative to the working directory.
func NewSink(name string, cfg Config, deps connectors.Deps) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hrhttp %s: %w", name, err)
	}
	m, err := cfg.Mapping.Compile("(config)", zoneOption(cfg.Timezone)...)
	if err != nil {
		return nil, fmt.Errorf("hrhttp %s: %w", name, err)
	}
	if err := checkInput(m, cfg.records()); err != nil {
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
		scheme:  cmp.Or(cfg.AuthScheme, "Bearer"),
		header:  header,
		now:     now,
		records: cfg.records(),
		mapping: m,
		batch:   cfg.Batch,
		success: cfg.Success,
		already: cfg.AlreadyDelivered,
		keep:    keepLimit,
	}
	if cfg.Success.Path != "" {
		s.keep = drainLimit
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

// BatchSize is batch.size, the records one request carries; 0 means one
// record per request.
func (s *Sink) BatchSize() int { return s.batch.Size }

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	return Stats{
		Attempts:  int(s.attempts.Load()),
		Successes: int(s.successes.Load()),
		Failures:  int(s.failures.Load()),
	}
}

// Records is what the sink carries: RecordsDays or RecordsEvents.
func (s *Sink) Records() string { return s.records }

// CarriesEvents reports whether the sink is configured with records:
// events (connectors.EventSink).
func (s *Sink) CarriesEvents() bool { return s.records == RecordsEvents }

var _ connectors.EventSink = (*Sink)(nil)

// Mapping is the sink's mapping, or nil when the body is the record
// itself.
func (s *Sink) Mapping() *mapping.Mapping { return s.mapping }

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
