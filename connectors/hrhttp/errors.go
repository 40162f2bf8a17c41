package hrhttp

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/punchbridge/punchbridge/connectors"
)

// excerptLen bounds how much of an answer's body an error quotes.
const excerptLen = 200

// StatusError is an answer from the HR system that was not a 2xx, after
// the retries it warranted.
type StatusError struct {
	StatusCode int
	// Attempts is how many requests the delivery made.
	Attempts int
	// Excerpt is the start of the answer's body, whitespace collapsed and
	// any configured token redacted.
	Excerpt string
	// Permanent is set when retrying cannot help; the error then matches
	// connectors.ErrPermanent.
	Permanent bool
}

// Error names the status, the attempts, the body excerpt and, for the
// statuses a config change fixes, the fix.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HR system answered %d %s after %d attempt(s)",
		e.StatusCode, http.StatusText(e.StatusCode), e.Attempts)
	if e.Excerpt != "" {
		b.WriteString(": ")
		b.WriteString(e.Excerpt)
	}
	if h := statusHint(e.StatusCode); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	return b.String()
}

// Is makes a permanent StatusError match connectors.ErrPermanent.
func (e *StatusError) Is(target error) bool {
	return e.Permanent && target == connectors.ErrPermanent
}

// retryableStatus is the one place that says which answers are worth
// another attempt: rate limiting and server trouble. 501 Not Implemented
// is the server saying it never will.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusNotImplemented)
}

// successStatus reports whether an answer means the record was taken.
func successStatus(code int) bool { return code >= 200 && code < 300 }

// honoursRetryAfter reports whether the Retry-After of an answer with code
// sets the wait before the next attempt.
func honoursRetryAfter(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// statusHint says what to fix in the sink's config for an answer that a
// retry will not change.
func statusHint(code int) string {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return "check the sink's token and headers"
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return "check the sink's url"
	case code >= 300 && code < 400:
		return "set the sink's url to the address it redirects to"
	}
	return ""
}

// statusError classifies a final answer; it returns nil for a success.
func statusError(code int, body []byte, attempts int, secret string) error {
	if successStatus(code) {
		return nil
	}
	return &StatusError{
		StatusCode: code,
		Attempts:   attempts,
		Excerpt:    excerpt(body, secret),
		Permanent:  !retryableStatus(code),
	}
}

// excerpt returns the start of body fit for an error message: valid UTF-8,
// whitespace collapsed, control characters dropped, secret redacted, at
// most excerptLen bytes.
func excerpt(body []byte, secret string) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= excerptLen {
		return s
	}
	cut := excerptLen
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
