package hrhttp

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors"
)

// BodyError is a 2xx answer whose body says the record was not taken
// (success: in the sink's config).
type BodyError struct {
	StatusCode int
	// Path and Value are the body's result, e.g. code and 40001.
	Path  string
	Value string
	// Message is the body's error message, when success.message names it.
	Message string
	// Excerpt is the start of the body, token redacted.
	Excerpt string
	// Permanent is false for the values success.retry lists.
	Permanent bool
}

func (e *BodyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HR system answered %d %s with %s = %q", e.StatusCode, http.StatusText(e.StatusCode), e.Path, e.Value)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	} else if e.Excerpt != "" {
		fmt.Fprintf(&b, ": %s", e.Excerpt)
	}
	if e.Permanent {
		b.WriteString(" (the record was refused; check the mapping and the HR system's rules)")
	}
	return b.String()
}

// Is makes a permanent BodyError match connectors.ErrPermanent.
func (e *BodyError) Is(target error) bool {
	return e.Permanent && target == connectors.ErrPermanent
}

// judge decides a final answer: nil when the record was taken, or is
// already there; otherwise a *StatusError or *BodyError.
func (s *Sink) judge(code int, body []byte, attempts int) error {
	err := s.judgeAnswer(code, body, attempts)
	if err != nil && s.alreadyThere(body) {
		// A refusal because the record is there already is a delivery
		// done: an earlier attempt's answer was lost, or a replica sent it.
		return nil
	}
	return err
}

func (s *Sink) judgeAnswer(code int, body []byte, attempts int) error {
	if err := statusError(code, body, attempts, s.token); err != nil {
		return err
	}
	if s.success.Path == "" {
		return nil
	}
	got := gjson.GetBytes(body, s.success.Path)
	value := got.String()
	if got.Exists() && contains(s.success.Equals, value) {
		return nil
	}
	if !got.Exists() {
		value = "(absent)"
	}
	e := &BodyError{
		StatusCode: code,
		Path:       s.success.Path,
		Value:      value,
		Excerpt:    excerpt(body, s.token),
		Permanent:  !got.Exists() || !contains(s.success.Retry, value),
	}
	if s.success.Message != "" {
		e.Message = excerpt([]byte(gjson.GetBytes(body, s.success.Message).String()), s.token)
	}
	return e
}

// alreadyThere reports whether an answer says the record exists already.
func (s *Sink) alreadyThere(body []byte) bool {
	if len(s.already) == 0 {
		return false
	}
	text := string(body)
	for _, a := range s.already {
		if strings.Contains(text, a) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
