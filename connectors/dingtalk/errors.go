package dingtalk

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/punchbridge/punchbridge/connectors"
)

// Errors callers branch on with errors.Is. An *APIError matches the one
// that fits its errcode.
var (
	// ErrCredentials: gettoken refused the app key or secret. Retrying
	// cannot help; the config must change.
	ErrCredentials = errors.New("dingtalk: app key or app secret rejected")
	// ErrTokenRejected: the platform rejected a fresh access token too.
	ErrTokenRejected = errors.New("dingtalk: access token rejected after a refresh")
	// ErrBusy: the platform answered -1 (系统繁忙) on every retry.
	ErrBusy = errors.New("dingtalk: platform busy")
	// ErrRateLimited: the platform answered a QPS code (90018, 90002) on
	// every retry.
	ErrRateLimited = errors.New("dingtalk: rate limited")
	// ErrQuota: the organization's monthly API call quota is used up
	// (90020); nothing will succeed until the next month or an upgrade.
	ErrQuota = errors.New("dingtalk: monthly API call quota (90020) used up")
)

// Platform error codes the connector acts on (platform API reference A1, A5).
const (
	codeOK           = 0
	codeBusy         = -1
	codeAuth         = 88 // 鉴权异常; the sub-code says which
	codeSecretOrTok  = 40001
	codeInvalidToken = 40014
	codeMissingToken = 41001
	codeExpiredToken = 42001
	codeGlobalQPS    = 90002
	codeAppQPS       = 90018
	codeMonthlyQuota = 90020
)

// class is what a platform answer means for the caller.
type class int

const (
	classOK        class = iota
	classRetry           // busy or over a QPS window: wait and try again
	classToken           // the access token is bad: refresh once, retry once
	classCreds           // gettoken refused the credentials
	classQuota           // monthly quota used up
	classPermanent       // anything else: a bad request the same call repeats
)

// classify is the one place that decides what an errcode means. api tells
// gettoken (where 40001 means a wrong secret) from the business APIs (where
// it means a bad token).
func classify(api string, code int, subCode, msg string) class {
	switch code {
	case codeOK:
		return classOK
	case codeBusy, codeAppQPS, codeGlobalQPS:
		return classRetry
	case codeMonthlyQuota:
		return classQuota
	case codeSecretOrTok, codeInvalidToken, codeExpiredToken:
		if api == apiGetToken {
			return classCreds
		}
		return classToken
	case codeAuth:
		if authSubCode(subCode, msg) {
			if api == apiGetToken {
				return classCreds
			}
			return classToken
		}
	}
	return classPermanent
}

// authSubCode reports whether an errcode 88 is about the access token. The
// sub-codes are not listed in the platform docs; the answers seen in the
// wild carry a token errcode as sub_code or say 不合法的access_token, so
// both are accepted (the lenient reading: a needless refresh costs one
// call, a missed one fails the run).
func authSubCode(subCode, msg string) bool {
	switch subCode {
	case "40001", "40014", "41001", "42001":
		return true
	}
	return strings.Contains(strings.ToLower(msg), "access_token")
}

// APIError is a platform answer with a non-zero errcode.
type APIError struct {
	API     string // e.g. "attendance/listRecord"
	Code    int
	Msg     string
	SubCode string
	SubMsg  string
}

// Error names the API, the code and the platform's message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("dingtalk: %s: errcode %d: %s", e.API, e.Code, e.Msg)
	if e.SubCode != "" || e.SubMsg != "" {
		s += fmt.Sprintf(" (sub_code %s: %s)", e.SubCode, e.SubMsg)
	}
	return redact(s)
}

func (e *APIError) class() class { return classify(e.API, e.Code, e.SubCode, e.Msg+" "+e.SubMsg) }

// Is maps the errcode to this package's sentinels and to
// connectors.ErrPermanent for answers no retry can change.
func (e *APIError) Is(target error) bool {
	c := e.class()
	switch target {
	case ErrCredentials:
		return c == classCreds
	case ErrTokenRejected:
		return c == classToken
	case ErrBusy:
		return e.Code == codeBusy
	case ErrRateLimited:
		return e.Code == codeAppQPS || e.Code == codeGlobalQPS
	case ErrQuota:
		return c == classQuota
	case connectors.ErrPermanent:
		return c == classCreds || c == classQuota || c == classPermanent
	}
	return false
}

// code renders an errcode for the stats.
func code(c int) string { return strconv.Itoa(c) }

// secretParam matches the query values that must never leave the process:
// the access token and the app secret, also when URL-encoded inside
// another URL.
var secretParam = regexp.MustCompile(`(?i)((?:access_token|appsecret)(?:=|%3D))(?:[^&\s"'#%]|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))*`)

// redact replaces access_token= and appsecret= values in s.
func redact(s string) string {
	return secretParam.ReplaceAllString(s, "${1}REDACTED")
}

// redactedError carries an error whose text had secrets in it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr returns err with every access_token= and appsecret= value
// removed from its text and from the URL of a *url.Error inside it, so that
// the caller may log or wrap it freely. The wrapped error stays reachable
// for errors.Is (context.DeadlineExceeded and the like).
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact(ue.URL)
	}
	return &redactedError{msg: redact(err.Error()), err: err}
}
