package wecom

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/punchbridge/punchbridge/connectors"
)

// Errors callers branch on with errors.Is. An *APIError matches the one
// that fits its errcode.
var (
	// ErrCredentials: gettoken refused the corp id or an app secret
	// (40001, 40013, 40091). Retrying cannot help; the config must change.
	ErrCredentials = errors.New("wecom: corp id or app secret rejected")
	// ErrTokenRejected: the platform rejected a freshly fetched access
	// token too (40014, 42001, 41001 after one refresh).
	ErrTokenRejected = errors.New("wecom: access token rejected after a refresh")
	// ErrPermission: the app behind the secret may not call the API
	// (48002, 301055, 60020): it is not listed in the console's
	// 可调用接口的应用 of 打卡/审批, or the secret is of the wrong kind.
	ErrPermission = errors.New("wecom: the app may not call this API")
	// ErrBusy: the platform answered -1 (系统繁忙) or 301070 (打卡系统错误)
	// on every retry.
	ErrBusy = errors.New("wecom: platform busy")
	// ErrRateLimited: the platform answered 45009 (接口调用超过限制) again
	// after its block window was waited out, or 45033 (接口并发调用超过限制)
	// at the lowest concurrency.
	ErrRateLimited = errors.New("wecom: rate limited")
	// ErrRangeTooWide: oa/getapprovalinfo asked for a narrower time range
	// (301112) even for a single day.
	ErrRangeTooWide = errors.New("wecom: time range too wide for the platform")
)

// Platform error codes the connector acts on (platform API reference B1,
// B3, B5; global codes page path/90313).
const (
	codeOK               = 0
	codeBusy             = -1
	codeBadSecret        = 40001
	codeBadCorpID        = 40013
	codeInvalidToken     = 40014
	codeOtherCorpSecret  = 40091
	codeMissingToken     = 41001
	codeExpiredToken     = 42001
	codeRateLimit        = 45009
	codeConcurrency      = 45033
	codeNoPermission     = 48002
	codeIPNotAllowed     = 60020
	codeApprovalInternal = 301026
	codeApprovalNoAccess = 301055
	codeCheckinSystem    = 301070
	codeNarrowRange      = 301112
)

// class is what a platform answer means for the caller.
type class int

const (
	classOK          class = iota
	classRetry             // busy: retried by the HTTP client with backoff
	classToken             // the access token is bad: refresh once, retry once
	classCreds             // gettoken refused the credentials
	classBlocked           // 45009: wait out the block window, then retry
	classConcurrency       // 45033: lower the concurrency, then retry
	classPermission        // the app may not call this API
	classNarrow            // 301112: split the time range
	classPermanent         // anything else: a bad request the same call repeats
)

// classify is the one place that decides what an errcode means. api tells
// gettoken (where 40001/40013 mean wrong credentials) from the business
// APIs.
func classify(api string, code int) class {
	switch code {
	case codeOK:
		return classOK
	case codeBusy, codeCheckinSystem, codeApprovalInternal:
		return classRetry
	case codeInvalidToken, codeExpiredToken, codeMissingToken:
		return classToken
	case codeBadSecret, codeBadCorpID, codeOtherCorpSecret:
		if api == apiGetToken {
			return classCreds
		}
	case codeRateLimit:
		return classBlocked
	case codeConcurrency:
		return classConcurrency
	case codeNoPermission, codeApprovalNoAccess, codeIPNotAllowed:
		return classPermission
	case codeNarrowRange:
		return classNarrow
	}
	return classPermanent
}

// APIError is a platform answer with a non-zero errcode.
type APIError struct {
	API  string // e.g. "checkin/getcheckindata"
	App  string // the config key of the secret whose token was used, e.g. "checkin_secret"
	Code int
	Msg  string
}

// Error names the API, the code and the platform's message, and for a
// permission error the console setting to fix.
func (e *APIError) Error() string {
	s := fmt.Sprintf("wecom: %s: errcode %d: %s", e.API, e.Code, e.Msg)
	switch e.class() {
	case classPermission:
		s += fmt.Sprintf(" (the app of %s must be allowed to call %s: %s)", e.App, e.API, permissionHint(e.API))
	case classCreds:
		s += fmt.Sprintf(" (check corp_id and %s)", e.App)
	}
	return redact(s)
}

func (e *APIError) class() class { return classify(e.API, e.Code) }

// Is maps the errcode to this package's sentinels and to
// connectors.ErrPermanent for answers no retry can change.
func (e *APIError) Is(target error) bool {
	c := e.class()
	switch target {
	case ErrCredentials:
		return c == classCreds
	case ErrTokenRejected:
		return c == classToken
	case ErrPermission:
		return c == classPermission
	case ErrBusy:
		return c == classRetry
	case ErrRateLimited:
		return c == classBlocked || c == classConcurrency
	case ErrRangeTooWide:
		return c == classNarrow
	case connectors.ErrPermanent:
		return c == classCreds || c == classPermission || c == classPermanent
	}
	return false
}

// permissionHint says where in the admin console an API is granted.
func permissionHint(api string) string {
	switch api {
	case apiCheckinData, apiHardwareData:
		return "list the app in 打卡 - 可调用接口的应用"
	case apiApprovalInfo, apiApprovalDetail:
		return "list the app in 审批 - 可调用接口的应用"
	case apiUserListID:
		return "use the 通讯录同步 secret"
	case apiStaffInfo:
		return "list the app in 人事助手 - 可调用接口的应用"
	}
	return "check the app's API permissions and trusted IPs"
}

// code renders an errcode for the stats.
func code(c int) string { return strconv.Itoa(c) }

// secrets are the query values that must never leave the process:
// the access token and the app secrets.
var secrets = connectors.NewRedactor("access_token", "corpsecret")

// redact replaces the secret values in s.
func redact(s string) string { return secrets.String(s) }

// redactErr returns err with the secret values removed from its text and
// from the URL of a *url.Error inside it.
func redactErr(err error) error { return secrets.Error(err) }
