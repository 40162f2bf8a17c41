package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/sync/singleflight"

	"github.com/punchbridge/punchbridge/connectors"
)

// API names: the path without its leading slash. Stats and logs use them.
const (
	apiGetToken      = "gettoken"
	apiListRecord    = "attendance/listRecord"
	apiListSubDept   = "topapi/v2/department/listsubid"
	apiUserList      = "topapi/v2/user/list"
	apiInstanceIDs   = "v1.0/workflow/processes/instanceIds/query"
	apiInstance      = "v1.0/workflow/processInstances"
	apiStreamGateway = "v1.0/gateway/connections/open"
)

// v1TokenHeader carries the access token of the v1.0 APIs (platform API
// reference A1).
const v1TokenHeader = "x-acs-dingtalk-access-token"

// maxBody bounds an answer read into memory; a listRecord answer for 50
// users × 7 days is well under a megabyte.
const maxBody = 32 << 20

// Stats counts the requests a connector sent, retries included: by API name
// and, per API, by outcome — "0" for success, the errcode of an oapi
// answer ("-1" busy, "90018" QPS, ...), the code of a v1.0 error answer
// ("InvalidAuthentication", "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
// ...), "1111" for the IP block answer, "http_<status>" for another non-200
// answer, "transport" for a network failure and "bad_json" for an
// unreadable answer.
type Stats struct {
	Calls map[string]int
	Codes map[string]map[string]int
}

// client sends DingTalk requests: one retryablehttp client, the token, the
// per-API limiters, the retry policy and the counters.
type client struct {
	base      string // oapi, without a trailing slash
	apiBase   string // v1.0, without a trailing slash
	appKey    string
	appSecret string
	tokenKey  string
	tokens    connectors.TokenCache
	timeout   time.Duration
	retryWait time.Duration
	now       func() time.Time
	log       *slog.Logger
	http      *retryablehttp.Client
	flight    singleflight.Group
	limits    *limiters
	// sleep waits between retries of busy, QPS and IP-block answers; tests
	// replace it so that they never wait for the wall clock.
	sleep func(ctx context.Context, d time.Duration) error

	calls connectors.CallCounts
}

func newClient(cfg Config, deps connectors.Deps, log *slog.Logger) *client {
	transport := deps.Transport
	if transport == nil {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			transport = t.Clone()
		} else {
			transport = http.DefaultTransport
		}
	}
	c := &client{
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		apiBase:   strings.TrimRight(cfg.APIBaseURL, "/"),
		appKey:    cfg.AppKey,
		appSecret: cfg.AppSecret.Reveal(),
		tokenKey:  Platform + "/" + cfg.CorpID + "/" + cfg.AppKey,
		tokens:    deps.Tokens,
		timeout:   cfg.Timeout,
		retryWait: cfg.RetryWait,
		now:       deps.Now,
		log:       log,
		limits:    newLimiters(cfg.QPS),
		sleep:     sleepCtx,
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: transport, Timeout: cfg.Timeout}
	rc.Logger = nil // its messages carry URLs; failures are reported by the caller
	// Transport failures and HTTP 429/5xx are retried here, at most 3
	// times; the platform's own codes inside an answer are retried by
	// invoke, which knows each code's budget and wait.
	rc.RetryMax = maxBusyRetries
	rc.RetryWaitMin = cfg.RetryWait
	rc.RetryWaitMax = 8 * cfg.RetryWait
	rc.CheckRetry = c.checkRetry
	rc.Backoff = retryablehttp.DefaultBackoff
	rc.PrepareRetry = func(req *http.Request) error {
		info, _ := req.Context().Value(callKey{}).(callInfo)
		return c.limits.wait(req.Context(), info.api)
	}
	// Hand the last answer back after the retries run out, so that the
	// caller can read its errcode instead of a generic "giving up".
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.http = rc
	return c
}

// callInfo travels in a request's context to checkRetry and PrepareRetry.
type callInfo struct {
	api string
	v1  bool
}

type callKey struct{}

// request is one logical API call.
type request struct {
	api    string
	v1     bool       // a v1.0 API: token in a header, errors as HTTP status + code
	method string     // default POST
	query  url.Values // without the access token
	body   any        // JSON-encoded when not nil
	// noToken marks the calls that authenticate otherwise (gettoken, the
	// Stream gateway).
	noToken bool
}

// call POSTs body to an oapi API with the access token and decodes the
// answer into out.
func (c *client) call(ctx context.Context, api string, body, out any) error {
	return c.invoke(ctx, request{api: api, body: body}, out)
}

// callV1 sends a v1.0 request with the token in its header and decodes the
// answer into out.
func (c *client) callV1(ctx context.Context, method, api string, query url.Values, body, out any) error {
	return c.invoke(ctx, request{api: api, v1: true, method: method, query: query, body: body}, out)
}

// send makes one HTTP exchange (retryablehttp retries transport failures
// and 429/5xx) and returns the status and body of the last answer. Every
// error it returns has its secrets redacted.
func (c *client) send(ctx context.Context, r request, token string) (int, []byte, error) {
	var raw any
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode request: %w", err)
		}
		raw = b
	}
	base := c.base
	if r.v1 {
		base = c.apiBase
	}
	q := url.Values{}
	maps.Copy(q, r.query)
	if token != "" && !r.v1 {
		q.Set("access_token", token)
	}
	u := base + "/" + r.api
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	ctx = context.WithValue(ctx, callKey{}, callInfo{api: r.api, v1: r.v1})
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, raw)
	if err != nil {
		return 0, nil, redactErr(err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" && r.v1 {
		req.Header.Set(v1TokenHeader, token)
	}
	began := time.Now()
	resp, err := c.http.Do(req)
	c.limits.answered(r.api, time.Since(began))
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		return 0, nil, redactErr(err)
	}
	defer drain(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, redactErr(fmt.Errorf("read answer: %w", err))
	}
	return resp.StatusCode, b, nil
}

// checkRetry is the transport retry policy: the rules of retryablehttp
// (transport failures, 429, 5xx), except for the IP block answer, which
// invoke waits out. It also counts every attempt, because it sees each one.
func (c *client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	info, _ := ctx.Value(callKey{}).(callInfo)
	if err != nil {
		c.calls.Count(ctx, info.api, "transport")
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if rerr != nil {
		c.calls.Count(ctx, info.api, "transport")
		return true, nil
	}
	if ipBlocked(b) {
		c.calls.Count(ctx, info.api, code(codeIPBlock))
		return false, nil
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		c.calls.Count(ctx, info.api, "http_"+strconv.Itoa(resp.StatusCode))
		return retryablehttp.DefaultRetryPolicy(ctx, resp, nil)
	}
	c.calls.Count(ctx, info.api, outcome(info, resp.StatusCode, b))
	return false, nil
}

// outcome names an answer for the stats.
func outcome(info callInfo, status int, b []byte) string {
	if info.v1 {
		if status == http.StatusOK {
			return code(codeOK)
		}
		if e := readV1Error(status, b); e.V1Code != "" {
			return e.V1Code
		}
		return "http_" + strconv.Itoa(status)
	}
	if status != http.StatusOK {
		return "http_" + strconv.Itoa(status)
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return "bad_json"
	}
	return code(readEnvelope(b).ErrCode)
}

// snapshot returns a copy of the counters.
func (c *client) snapshot() Stats {
	calls, codes := c.calls.Snapshot()
	return Stats{Calls: calls, Codes: codes}
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxBody))
	body.Close()
}

// snippet shortens an unexpected answer body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return redact(s)
}
