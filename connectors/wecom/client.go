package wecom

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
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/tidwall/gjson"
	"golang.org/x/sync/singleflight"

	"github.com/punchbridge/punchbridge/connectors"
)

// API names: the path below /cgi-bin/. Stats, logs and limits use them.
const (
	apiGetToken       = "gettoken"
	apiCheckinData    = "checkin/getcheckindata"
	apiDayData        = "checkin/getcheckin_daydata"
	apiHardwareData   = "hardware/get_hardware_checkin_data"
	apiUserListID     = "user/list_id"
	apiUserGet        = "user/get"
	apiStaffInfo      = "hr/get_staff_info"
	apiApprovalInfo   = "oa/getapprovalinfo"
	apiApprovalDetail = "oa/getapprovaldetail"
)

// limitedAPIs are the APIs with a client-side rate limit.
var limitedAPIs = []string{apiCheckinData, apiDayData, apiHardwareData, apiUserListID, apiUserGet, apiStaffInfo, apiApprovalInfo, apiApprovalDetail}

// limitName is an API's key in rate_limits: its last path segment, or the
// whole path for user/get, whose last segment says nothing.
func limitName(api string) string {
	if api == apiUserGet {
		return api
	}
	return api[strings.LastIndexByte(api, '/')+1:]
}

const (
	// maxRetries bounds the retries of one request: the platform asks to
	// retry a busy answer at most 3 times (B5); 45009 and 45033 get the
	// same budget.
	maxRetries = 3
	// maxBody bounds an answer read into memory; a getcheckindata answer
	// for 100 users × 30 days is a few megabytes at most.
	maxBody = 32 << 20
	// blockWindow is how long 45009 blocks an API that went over a minute
	// limit (B5: minute-level limit ⇒ blocked 60 s).
	blockWindow = time.Minute
)

// client sends WeCom API requests: one retryablehttp client, the tokens of
// the apps, the limits and the counters.
type client struct {
	base    string // without a trailing slash
	corpID  string
	apps    map[string]*app // by role
	tokens  connectors.TokenCache
	timeout time.Duration
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	log     *slog.Logger
	http    *retryablehttp.Client
	flight  singleflight.Group
	limits  *limits

	calls connectors.CallCounts

	mu        sync.Mutex
	callbacks map[string]int // by outcome
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
		corpID:    cfg.CorpID,
		apps:      newApps(cfg),
		tokens:    deps.Tokens,
		timeout:   cfg.Timeout,
		now:       deps.Now,
		sleep:     sleepCtx,
		log:       log,
		callbacks: map[string]int{},
	}
	c.limits = newLimits(cfg, deps.Now, func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) }, log)
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: transport, Timeout: cfg.Timeout}
	rc.Logger = nil // its messages carry URLs; failures are reported by the caller
	rc.RetryMax = maxRetries
	rc.RetryWaitMin = cfg.RetryWait
	rc.RetryWaitMax = 8 * cfg.RetryWait
	rc.CheckRetry = c.checkRetry
	rc.Backoff = retryablehttp.DefaultBackoff
	// Every attempt reaches the platform and counts against its limit,
	// so a retry waits for the limiter like a first attempt does.
	rc.PrepareRetry = func(req *http.Request) error {
		api, _ := req.Context().Value(apiKey{}).(string)
		return c.limits.wait(req.Context(), api)
	}
	// Hand the last answer back after the retries run out, so that the
	// caller can read its errcode instead of a generic "giving up".
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.http = rc
	return c
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// envelope is the part every answer shares. Error answers come inside
// HTTP 200.
type envelope struct {
	ErrCode int
	ErrMsg  string
}

// readEnvelope reads errcode leniently (a number or a string) with gjson,
// without decoding the whole answer.
func readEnvelope(b []byte) envelope {
	e := envelope{ErrCode: int(gjson.GetBytes(b, "errcode").Int())}
	if e.ErrCode != codeOK {
		e.ErrMsg = gjson.GetBytes(b, "errmsg").String()
	}
	return e
}

// call POSTs body to api with the token of the app in role and decodes the
// answer into out. Above the HTTP client's retries of busy answers it
// handles what needs the connector's state: a bad token (40014, 42001,
// 41001) is dropped, refreshed once and the call repeated once; 45009
// blocks the API for its window and the call is repeated after it; 45033
// lowers the API's concurrency and the call is repeated.
func (c *client) call(ctx context.Context, role, api string, body, out any) error {
	return c.send(ctx, role, api, http.MethodPost, nil, body, out)
}

// get is call for the GET APIs (user/get).
func (c *client) get(ctx context.Context, role, api string, query url.Values, out any) error {
	return c.send(ctx, role, api, http.MethodGet, query, nil, out)
}

func (c *client) send(ctx context.Context, role, api, method string, query url.Values, body, out any) error {
	a := c.apps[role]
	if a == nil {
		return fmt.Errorf("wecom: %s: no secret configured for the %s app", api, role)
	}
	refreshed, blocked, crowded := false, 0, 0
	for {
		apiErr, raw, tok, err := c.attempt(ctx, a, api, method, query, body)
		if err != nil {
			return err
		}
		if apiErr == nil {
			c.limits.succeeded(api)
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("wecom: decode %s answer: %w", api, err)
			}
			return nil
		}
		switch apiErr.class() {
		case classToken:
			if refreshed {
				return apiErr
			}
			refreshed = true
			c.log.Info("access token rejected, refreshing", "api", api, "app", a.role, "errcode", apiErr.Code)
			if err := c.dropToken(ctx, a, tok); err != nil {
				return err
			}
		case classBlocked:
			if blocked == maxRetries {
				return apiErr
			}
			blocked++
			c.limits.block(api, blockWindow)
		case classConcurrency:
			if crowded == maxRetries {
				return apiErr
			}
			crowded++
			c.limits.crowded(api)
			if err := c.sleep(ctx, time.Duration(crowded)*c.http.RetryWaitMin); err != nil {
				return err
			}
		default:
			return apiErr
		}
	}
}

// attempt sends one logical request (the HTTP client may retry it) once
// the API's concurrency gate and then its limiter let it through. The gate
// comes first so that the call leaves at the instant the limiter chose:
// waiting for a slot after that would bunch calls the limiter had spread.
func (c *client) attempt(ctx context.Context, a *app, api, method string, query url.Values, body any) (apiErr *APIError, raw []byte, tok string, err error) {
	release, err := c.limits.acquire(ctx, api)
	if err != nil {
		return nil, nil, "", err
	}
	defer release()
	if err := c.limits.wait(ctx, api); err != nil {
		return nil, nil, "", err
	}
	tok, err = c.token(ctx, a)
	if err != nil {
		return nil, nil, "", err
	}
	q := url.Values{}
	maps.Copy(q, query)
	q.Set("access_token", tok)
	raw, err = c.do(ctx, api, method, q, body)
	if err != nil {
		return nil, nil, tok, fmt.Errorf("wecom: call %s: %w", api, err)
	}
	env := readEnvelope(raw)
	if env.ErrCode == codeOK {
		return nil, raw, tok, nil
	}
	return &APIError{API: api, App: a.key, Code: env.ErrCode, Msg: env.ErrMsg}, raw, tok, nil
}

type apiKey struct{}

// do sends one request and returns the body of the last answer. The HTTP
// client retries transport failures, 429/5xx and busy errcodes with
// backoff; every error it returns has its secrets redacted.
func (c *client) do(ctx context.Context, api, method string, query url.Values, body any) ([]byte, error) {
	var raw any
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		raw = b
	}
	u := c.base + "/cgi-bin/" + api + "?" + query.Encode()
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, apiKey{}, api), method, u, raw)
	if err != nil {
		return nil, redactErr(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		return nil, redactErr(err)
	}
	defer drain(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, redactErr(fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, redact(snippet(b)))
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("answer is not a JSON object: %s", redact(snippet(b)))
	}
	return b, nil
}

// checkRetry is the retry policy: the transport rules of retryablehttp,
// plus WeCom's errcodes inside HTTP 200 — -1 (系统繁忙), 301070 (打卡系统
// 错误) and 301026 (审批内部错误) are retried with backoff. It also counts
// every attempt, because it sees each one.
func (c *client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	api, _ := ctx.Value(apiKey{}).(string)
	if err != nil {
		c.calls.Count(ctx, api, "transport")
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp.StatusCode != http.StatusOK {
		c.calls.Count(ctx, api, "http_"+strconv.Itoa(resp.StatusCode))
		return retryablehttp.DefaultRetryPolicy(ctx, resp, nil)
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if rerr != nil {
		c.calls.Count(ctx, api, "transport")
		return true, nil
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		c.calls.Count(ctx, api, "bad_json")
		return false, nil
	}
	env := readEnvelope(b)
	c.calls.Count(ctx, api, code(env.ErrCode))
	return classify(api, env.ErrCode) == classRetry, nil
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
	return s
}
