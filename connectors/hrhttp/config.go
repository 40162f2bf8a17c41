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
	"github.com/punchbridge/punchbridge/mapping/presets"
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

	// AuthScheme is the Authorization scheme token is sent with: Bearer
	// (the default), or e.g. token for Frappe's "token key:secret".
	AuthScheme string `yaml:"auth_scheme"`
	// Records is what the sink carries: days (day records, the default)
	// or events (raw punch events, for HR systems that compute
	// attendance themselves).
	Records string `yaml:"records"`
	// Mapping builds the request body from each record: preset:NAME, a
	// mapping file (relative to the config file), or the mapping written
	// inline. Without one the body is the record itself
	// (punchbridge.day/v1 or punchbridge.event/v1).
	Mapping presets.Ref `yaml:"mapping"`
	// Timezone is the IANA zone the mapping writes local times in, over
	// the mapping file's own timezone:.
	Timezone string `yaml:"timezone"`
	// Batch sends several records per request, as a JSON array.
	Batch Batch `yaml:"batch"`
	// Success judges a 2xx answer by its body too, for HR systems that
	// answer 200 with an error inside.
	Success Success `yaml:"success"`
	// AlreadyDelivered lists texts that, found in the body of a refusing
	// answer, mean the HR system already holds the record (a duplicate):
	// the delivery counts as done. E.g. Frappe's "This employee already
	// has a log with the same timestamp".
	AlreadyDelivered []string `yaml:"already_delivered"`
}

// Records values.
const (
	RecordsDays   = "days"
	RecordsEvents = "events"
)

// Batch is the batch setting of a sink.
type Batch struct {
	// Size is how many records one request carries at most; 0 sends one
	// record per request, the body being the record itself.
	Size int `yaml:"size"`
	// Path is where the array goes in the body, in sjson syntax:
	// "attendances" sends {"attendances": [...]}; "" sends the array
	// itself.
	Path string `yaml:"path"`
}

// Success says how a 2xx answer's body shows success.
type Success struct {
	// Path is the gjson path of the result in the body, e.g. code.
	Path string `yaml:"path"`
	// Equals lists the values at Path that mean success, e.g. [0].
	Equals []string `yaml:"equals"`
	// Retry lists values at Path that mean "busy, try later": the
	// delivery is retried by the next push instead of dead-lettered.
	Retry []string `yaml:"retry"`
	// Message is the gjson path of the error message quoted in a failure,
	// e.g. msg.
	Message string `yaml:"message"`
}

// maxBatch bounds a batch; HR APIs take tens to a few hundred records.
const maxBatch = 1000

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
	if c.AuthScheme != "" && !validHeaderName(c.AuthScheme) {
		bad("auth_scheme", c.AuthScheme, "must be one word, such as Bearer or token")
	}
	switch c.Records {
	case "", RecordsDays, RecordsEvents:
	default:
		bad("records", c.Records, "must be days (day records) or events (raw punch events)")
	}
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "Local" {
			bad("timezone", c.Timezone, "must be an IANA time zone such as Asia/Shanghai or Europe/Berlin")
		}
	}
	if c.Batch.Size < 0 || c.Batch.Size > maxBatch {
		bad("batch.size", strconv.Itoa(c.Batch.Size), "must be between 0 (one record per request) and 1000")
	}
	if c.Batch.Path != "" && c.Batch.Size == 0 {
		bad("batch.path", c.Batch.Path, "needs batch.size, the records per request")
	}
	if c.Batch.Path != "" && (strings.HasPrefix(c.Batch.Path, ".") || strings.HasSuffix(c.Batch.Path, ".") || strings.Contains(c.Batch.Path, "..")) {
		bad("batch.path", c.Batch.Path, "must be a path such as attendances or data.items")
	}
	switch {
	case c.Success.Path == "" && (len(c.Success.Equals) > 0 || len(c.Success.Retry) > 0 || c.Success.Message != ""):
		bad("success.path", "", "is required with success: the body path that holds the result, e.g. code")
	case c.Success.Path != "" && len(c.Success.Equals) == 0:
		bad("success.equals", "", "is required with success.path: the values that mean success, e.g. [0]")
	}
	for i, s := range c.AlreadyDelivered {
		if strings.TrimSpace(s) == "" {
			bad("already_delivered["+strconv.Itoa(i)+"]", s, "must not be empty: it would match every answer")
		}
	}
	return errors.Join(errs...)
}

// records returns the kind of record the sink carries.
func (c Config) records() string {
	if c.Records == "" {
		return RecordsDays
	}
	return c.Records
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
