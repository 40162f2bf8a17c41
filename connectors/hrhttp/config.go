package hrhttp

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/config"
)

// Bounds that keep a misconfigured sink from stalling a push run.
const (
	maxRetriesLimit = 20
	maxWaitLimit    = time.Hour
)

// Config is the settings of one hrhttp sink entry.
type Config struct {
	// URL is the absolute http(s) endpoint that takes day records.
	URL string `yaml:"url" required:"true"`
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token config.Secret `yaml:"token"`
	// Headers are sent with every request, e.g. a tenant id. They are not
	// secret: put a credential in Token.
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds each attempt, from connecting to reading the answer.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries is how many times a transient failure is retried; 0 makes
	// one attempt only.
	MaxRetries int `yaml:"max_retries"`
	// RetryWaitMin and RetryWaitMax bound the wait between attempts; a
	// Retry-After from the HR system is honoured up to RetryWaitMax.
	RetryWaitMin time.Duration `yaml:"retry_wait_min"`
	RetryWaitMax time.Duration `yaml:"retry_wait_max"`
}

// DefaultConfig returns the defaults that a config entry's settings
// override.
func DefaultConfig() Config {
	return Config{
		Timeout:      10 * time.Second,
		MaxRetries:   4,
		RetryWaitMin: 500 * time.Millisecond,
		RetryWaitMax: 30 * time.Second,
	}
}

// reservedHeaders are set by the sink itself on every request.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Idempotency-Key", "Host", "Transfer-Encoding"}

// Validate reports every bad setting, each as a *config.FieldError, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}

	if c.URL == "" {
		bad("url", "", "is required; set the HR endpoint, e.g. https://hr.example.com/api/v1/attendance/days")
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", c.URL, "must be an absolute http:// or https:// URL")
	} else if u.User != nil {
		bad("url", u.Redacted(), "must not carry user:password; put the credential in token")
	}

	if tok := c.Token.Reveal(); tok != "" && (strings.TrimSpace(tok) != tok || strings.ContainsFunc(tok, isCtlOrSpace)) {
		bad("token", "", "must not contain spaces or control characters; check the variable it comes from")
	}

	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		value := c.Headers[name]
		path := "headers." + name
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !validHeaderName(name):
			bad(path, name, "is not a valid header name")
		case isReserved(canon):
			bad(path, "", "is set by the sink; remove it")
		case canon == "Authorization" && c.Token != "":
			bad(path, "", "conflicts with token; set one of them")
		case strings.ContainsFunc(value, isCtl):
			bad(path, "", "value must not contain control characters or line breaks")
		}
	}

	if c.Timeout <= 0 {
		bad("timeout", c.Timeout.String(), "must be positive, e.g. 10s")
	}
	if c.MaxRetries < 0 || c.MaxRetries > maxRetriesLimit {
		bad("max_retries", strconv.Itoa(c.MaxRetries), "must be between 0 and 20")
	}
	if c.RetryWaitMin < 0 {
		bad("retry_wait_min", c.RetryWaitMin.String(), "must not be negative")
	}
	if c.RetryWaitMax < c.RetryWaitMin || c.RetryWaitMax > maxWaitLimit {
		bad("retry_wait_max", c.RetryWaitMax.String(), "must be at least retry_wait_min ("+c.RetryWaitMin.String()+") and at most 1h")
	}
	return errors.Join(errs...)
}

func isReserved(canon string) bool { return slices.Contains(reservedHeaders, canon) }

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func isCtl(r rune) bool        { return r < ' ' || r == 0x7f }
func isCtlOrSpace(r rune) bool { return isCtl(r) || r == ' ' }
