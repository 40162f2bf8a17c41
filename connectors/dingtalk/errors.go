package dingtalk

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	// ErrRateLimited: the platform answered a QPS code (90018, 90002,
	// Forbidden.AccessDenied.Qps*) on every retry.
	ErrRateLimited = errors.New("dingtalk: rate limited")
	// ErrQuota: the organization's monthly API call quota is used up
	// (90020, Forbidden.AccessDenied.ApiCountLimitForOrg); nothing will
	// succeed until the next month or an upgrade.
	ErrQuota = errors.New("dingtalk: monthly API call quota (90020) used up")
	// ErrIPBlocked: the platform blocked this IP address (status 1111) for
	// too many calls and the waits did not lift the block.
	ErrIPBlocked = errors.New("dingtalk: IP address blocked by the platform (status 1111)")
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
	// codeIPBlock is the "status" of the per-IP block answer, which has no
	// errcode.
	codeIPBlock = 1111
)

// v1.0 error codes (HTTP 400/401/403 with a code string).
const (
	v1InvalidAuth  = "InvalidAuthentication"
	v1Unauthorized = "Unauthorized"
	v1QPSPrefix    = "Forbidden.AccessDenied.Qps"
	v1QPMPrefix    = "Forbidden.AccessDenied.Qpm"
	v1Quota        = "Forbidden.AccessDenied.ApiCountLimitForOrg"
	v1BadSecret    = "invalidClientIdOrSecret"
)

// class is what a platform answer means for the caller.
type class int

const (
	classOK        class = iota
	classBusy            // -1: wait and retry, at most 3 times
	classQPS             // over a QPS window: wait for the next window and retry
	classIPBlock         // status 1111: wait the block out
	classToken           // the access token is bad: refresh once, retry once
	classCreds           // gettoken refused the credentials
	classQuota           // monthly quota used up
	classTransient       // 5xx after the transport retries ran out
	classPermanent       // anything else: a bad request the same call repeats
)

// classify is the one place that decides what an oapi errcode means. api
// tells gettoken (where 40001 means a wrong secret) from the business APIs
// (where it means a bad token).
func classify(api string, code int, subCode, msg string) class {
	switch code {
	case codeOK:
		return classOK
	case codeBusy:
		return classBusy
	case codeAppQPS, codeGlobalQPS:
		return classQPS
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

// classifyV1 decides what a v1.0 error answer means: its HTTP status and
// code string (platform API reference A1, A5).
func classifyV1(api string, status int, code string) class {
	switch {
	case code == v1InvalidAuth, code == v1Unauthorized, status == http.StatusUnauthorized && code == "":
		if api == apiStreamGateway {
			return classCreds // the gateway takes the app key and secret
		}
		return classToken
	case code == v1BadSecret:
		return classCreds
	case strings.HasPrefix(code, v1QPSPrefix), strings.HasPrefix(code, v1QPMPrefix), status == http.StatusTooManyRequests:
		return classQPS
	case code == v1Quota:
		return classQuota
	case status >= 500:
		return classTransient
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

// APIError is a platform answer that is not a success: an oapi errcode, a
// v1.0 error (HTTP status and code string), an unexpected HTTP status, or
// the IP block answer.
type APIError struct {
	API     string // e.g. "attendance/listRecord"
	Status  int    // HTTP status; 0 or 200 for an oapi errcode
	Code    int    // oapi errcode, or 1111 for the IP block
	V1Code  string // v1.0 code, e.g. "InvalidAuthentication"
	Msg     string
	SubCode string
	SubMsg  string
	wait    time.Duration // the IP block's announced length
}

// Error names the API, the code and the platform's message; a used-up
// quota says so in words, because no retry or restart will help.
func (e *APIError) Error() string {
	var s string
	switch {
	case e.class() == classQuota:
		s = fmt.Sprintf("dingtalk: %s: the organization's monthly API call quota is used up (%s: %s); "+
			"no call succeeds until next month or a higher DingTalk plan", e.API, e.codeString(), e.Msg)
	case e.Code == codeIPBlock:
		s = fmt.Sprintf("dingtalk: %s: this IP address is blocked by the platform for too many calls (status 1111, %s)", e.API, e.wait)
	case e.V1Code != "" || (e.Status != 0 && e.Status != http.StatusOK):
		s = fmt.Sprintf("dingtalk: %s: HTTP %d %s: %s", e.API, e.Status, e.V1Code, e.Msg)
	default:
		s = fmt.Sprintf("dingtalk: %s: errcode %d: %s", e.API, e.Code, e.Msg)
	}
	if e.SubCode != "" || e.SubMsg != "" {
		s += fmt.Sprintf(" (sub_code %s: %s)", e.SubCode, e.SubMsg)
	}
	return redact(s)
}

// codeString names the error's code for logs and messages.
func (e *APIError) codeString() string {
	switch {
	case e.V1Code != "":
		return e.V1Code
	case e.Code == 0 && e.Status != 0:
		return "HTTP " + strconv.Itoa(e.Status)
	}
	return "errcode " + strconv.Itoa(e.Code)
}

// perMinute reports a per-minute limit, which waits a minute, not a second.
func (e *APIError) perMinute() bool { return strings.HasPrefix(e.V1Code, v1QPMPrefix) }

func (e *APIError) class() class {
	switch {
	case e.Code == codeIPBlock && e.V1Code == "" && e.wait > 0:
		return classIPBlock
	case e.V1Code != "" || (e.Code == 0 && e.Status != 0 && e.Status != http.StatusOK):
		return classifyV1(e.API, e.Status, e.V1Code)
	}
	return classify(e.API, e.Code, e.SubCode, e.Msg+" "+e.SubMsg)
}

// Is maps the error to this package's sentinels and to
// connectors.ErrPermanent for answers no retry can change.
func (e *APIError) Is(target error) bool {
	c := e.class()
	switch target {
	case ErrCredentials:
		return c == classCreds
	case ErrTokenRejected:
		return c == classToken
	case ErrBusy:
		return c == classBusy
	case ErrRateLimited:
		return c == classQPS
	case ErrQuota:
		return c == classQuota
	case ErrIPBlocked:
		return c == classIPBlock
	case connectors.ErrPermanent:
		return c == classCreds || c == classQuota || c == classPermanent
	}
	return false
}

// code renders an errcode for the stats.
func code(c int) string { return strconv.Itoa(c) }

// secrets are the query values that must never leave the process:
// the access token, the app secret and a Stream ticket.
var secrets = connectors.NewRedactor("access_token", "appsecret", "ticket")

// redact replaces the secret values in s.
func redact(s string) string { return secrets.String(s) }

// redactErr returns err with the secret values removed from its text and
// from the URL of a *url.Error inside it.
func redactErr(err error) error { return secrets.Error(err) }
