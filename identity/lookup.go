package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
)

// Placeholder is replaced, in a lookup URL, by the user's key, escaped.
const Placeholder = "{value}"

// maxLookupBody bounds a lookup answer.
const maxLookupBody = 1 << 20

// LookupConfig is the HTTP lookup of the identity section.
type LookupConfig struct {
	// URL is the GET request to make, with {value} where the user's key
	// goes, e.g. a Frappe site's
	// https://erp.example.com/api/resource/Employee?filters=[["attendance_device_id","=","{value}"]]
	URL string `yaml:"url"`
	// Path is the gjson path of the employee id in the answer, e.g.
	// data.0.name. An answer without it, or a 404, means "not mapped".
	Path string `yaml:"path"`
	// Token, when set, is sent as "Authorization: <AuthScheme> <token>".
	Token      config.Secret     `yaml:"token"`
	AuthScheme string            `yaml:"auth_scheme"` // default Bearer
	Headers    map[string]string `yaml:"headers"`
	// Timeout bounds each attempt (default 10s); MaxRetries retries
	// connection errors, 429 and 5xx (default 2), waiting from RetryWait
	// (default 200ms), doubling.
	Timeout    time.Duration `yaml:"timeout"`
	MaxRetries int           `yaml:"max_retries"`
	RetryWait  time.Duration `yaml:"retry_wait"`
	// CacheTTL is how long a found employee id is reused (default 1h);
	// MissTTL how long "not mapped" is (default 5m), so that a new hire
	// is found soon after HR adds them.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	MissTTL  time.Duration `yaml:"miss_ttl"`
}

// DefaultLookupConfig returns the defaults a config's lookup: settings
// override.
func DefaultLookupConfig() LookupConfig {
	return LookupConfig{
		AuthScheme: "Bearer",
		Timeout:    10 * time.Second,
		MaxRetries: 2,
		RetryWait:  200 * time.Millisecond,
		CacheTTL:   time.Hour,
		MissTTL:    5 * time.Minute,
	}
}

// Validate reports every bad setting as a *config.FieldError.
func (c LookupConfig) Validate() error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	u, err := url.Parse(strings.ReplaceAll(c.URL, Placeholder, "x"))
	switch {
	case c.URL == "":
		bad("lookup.url", "", "is required: the HR system's GET request, with {value} where the user's key goes")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		bad("lookup.url", c.URL, "must be an absolute http:// or https:// URL")
	case !strings.Contains(c.URL, Placeholder):
		bad("lookup.url", c.URL, "must contain {value}, where the user's key goes")
	case u.User != nil:
		bad("lookup.url", u.Redacted(), "must not carry user:password; put the credential in token")
	}
	if c.Path == "" {
		bad("lookup.path", "", "is required: the gjson path of the employee id in the answer, e.g. data.0.name")
	}
	if c.Timeout <= 0 {
		bad("lookup.timeout", c.Timeout.String(), "must be positive, e.g. 10s")
	}
	if c.CacheTTL < 0 || c.MissTTL < 0 || c.RetryWait < 0 {
		bad("lookup", "", "cache_ttl, miss_ttl and retry_wait must not be negative")
	}
	if c.AuthScheme == "" || strings.ContainsAny(c.AuthScheme, " \t\r\n") {
		bad("lookup.auth_scheme", c.AuthScheme, "must be one word, such as Bearer or token")
	}
	if c.MaxRetries < 0 || c.MaxRetries > 10 {
		bad("lookup.max_retries", fmt.Sprint(c.MaxRetries), "must be between 0 and 10")
	}
	return errors.Join(errs...)
}

// Lookup asks the HR system for each user's employee id, by the value of
// a directory field, and caches the answers. It is safe for concurrent
// use.
type Lookup struct {
	cfg    LookupConfig
	field  Field
	client *retryablehttp.Client
	now    func() time.Time
	header http.Header

	mu    sync.Mutex
	cache map[string]cached
	calls int
}

type cached struct {
	id      string // "" for "not mapped"
	expires time.Time
}

// NewLookup builds a lookup keyed by field from a config, which it
// validates; start from DefaultLookupConfig.
func NewLookup(cfg LookupConfig, field Field, deps connectors.Deps) (*Lookup, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	transport := deps.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	header := http.Header{}
	header.Set("Accept", "application/json")
	header.Set("User-Agent", "punchbridge")
	for k, v := range cfg.Headers {
		header.Set(k, v)
	}
	if tok := cfg.Token.Reveal(); tok != "" {
		header.Set("Authorization", cfg.AuthScheme+" "+tok)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Lookup{
		cfg:   cfg,
		field: field,
		client: &retryablehttp.Client{
			HTTPClient:   &http.Client{Transport: transport, Timeout: cfg.Timeout},
			RetryWaitMin: cfg.RetryWait,
			RetryWaitMax: max(cfg.RetryWait, 5*time.Second),
			RetryMax:     cfg.MaxRetries,
			CheckRetry:   retryablehttp.DefaultRetryPolicy,
			Backoff:      retryablehttp.DefaultBackoff,
			ErrorHandler: retryablehttp.PassthroughErrorHandler,
		},
		now:    now,
		header: header,
		cache:  map[string]cached{},
	}, nil
}

// Calls is the number of lookups sent to the HR system (cache misses).
func (l *Lookup) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// Resolve returns the employee id the HR system gives for u's key.
func (l *Lookup) Resolve(ctx context.Context, _, _ string, u connectors.User) (string, error) {
	key := l.field.Of(u)
	if key == "" {
		return "", nil
	}
	now := l.now()
	l.mu.Lock()
	if c, ok := l.cache[key]; ok && now.Before(c.expires) {
		l.mu.Unlock()
		return c.id, nil
	}
	l.calls++
	l.mu.Unlock()

	id, err := l.ask(ctx, key)
	if err != nil {
		return "", err
	}
	ttl := l.cfg.CacheTTL
	if id == "" {
		ttl = l.cfg.MissTTL
	}
	l.mu.Lock()
	l.cache[key] = cached{id: id, expires: now.Add(ttl)}
	l.mu.Unlock()
	return id, nil
}

// ask makes one lookup; "" means the HR system has no such employee.
func (l *Lookup) ask(ctx context.Context, key string) (string, error) {
	u := l.url(key)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("identity lookup: build request: %w", err)
	}
	for k, v := range l.header {
		req.Header[k] = v
	}
	resp, err := l.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error would quote the query, the user's key with it
		}
		return "", fmt.Errorf("identity lookup of %s %q: %w", l.field, key, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxLookupBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxLookupBody))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "", fmt.Errorf("identity lookup of %s %q: HR system answered %d %s", l.field, key, resp.StatusCode, http.StatusText(resp.StatusCode))
	case !gjson.ValidBytes(body):
		return "", fmt.Errorf("identity lookup of %s %q: the answer is not JSON", l.field, key)
	}
	return strings.TrimSpace(gjson.GetBytes(body, l.cfg.Path).String()), nil
}

// url puts the escaped key into the URL: query-escaped after the '?',
// path-escaped before it.
func (l *Lookup) url(key string) string {
	q := strings.IndexByte(l.cfg.URL, '?')
	i := strings.Index(l.cfg.URL, Placeholder)
	esc := url.PathEscape(key)
	if q >= 0 && i > q {
		esc = url.QueryEscape(key)
	}
	return strings.ReplaceAll(l.cfg.URL, Placeholder, esc)
}
