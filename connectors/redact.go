package connectors

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Redactor hides the values of secret query parameters (access tokens, app
// secrets) in text, also when the URL is URL-encoded inside another one,
// so that errors and logs may carry request URLs. It is immutable and safe
// for concurrent use.
type Redactor struct {
	re *regexp.Regexp
}

// NewRedactor returns a Redactor for the named query parameters.
func NewRedactor(params ...string) Redactor {
	quoted := make([]string, len(params))
	for i, p := range params {
		quoted[i] = regexp.QuoteMeta(p)
	}
	// A value runs to the next separator; %26 (&), %23 (#) and %20 end it
	// inside an encoded URL, any other escape is part of the value.
	return Redactor{re: regexp.MustCompile(`(?i)((?:` + strings.Join(quoted, "|") + `)(?:=|%3D))(?:[^&\s"'#%]|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))*`)}
}

// String returns s with every secret value replaced by REDACTED.
func (r Redactor) String(s string) string {
	return r.re.ReplaceAllString(s, "${1}REDACTED")
}

// Error returns err with every secret value removed from its text and from
// the URL of a *url.Error inside it, so that the caller may log or wrap it
// freely. The wrapped error stays reachable for errors.Is.
func (r Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = r.String(ue.URL)
	}
	return &redactedError{msg: r.String(err.Error()), err: err}
}

// redactedError carries an error whose text had secrets in it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
