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
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/tidwall/gjson"
	"golang.org/x/sync/singleflight"

	"github.com/punchbridge/punchbridge/connectors"
)

// API names: the oapi path without its leading slash. Stats and logs use
// them.
const (
	apiGetToken    = "gettoken"
	apiListRecord  = "attendance/listRecord"
	apiListSubDept = "topapi/v2/department/listsubid"
	apiUserList    = "topapi/v2/user/list"
)

const (
	// maxRetries bounds the retries of one request: the platform asks to
	// retry a busy answer at most 3 times, and QPS waits share the budget.
	maxRetries = 3
	// maxBody bounds an answer read into memory; a listRecord answer for
	// 50 users × 7 days is well under a megabyte.
	maxBody = 32 << 20
)

// Stats counts the requests a connector sent, retries included: by API name
// and, per API, by outcome — the errcode ("0" is success, "-1" busy,
// "90018" QPS, ...), "http_<status>" for a non-200 answer, "transport" for
// a network failure and "bad_json" for an unreadable answer.
type Stats struct {
	Calls map[string]int
	Codes map[string]map[string]int
}

// client sends DingTalk oapi requests: one retryablehttp client, the token,
// and the counters.
type client struct {
	base      string // without a trailing slash
	appKey    string
	appSecret string
	tokenKey  string
	tokens    connectors.TokenCache
	timeout   time.Duration
	now       func() time.Time
	log       *slog.Logger
	http      *retryablehttp.Client
	flight    singleflight.Group

	mu    sync.Mutex
	stats Stats
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
		appKey:    cfg.AppKey,
		appSecret: cfg.AppSecret.Reveal(),
		tokenKey:  Platform + "/" + cfg.CorpID + "/" + cfg.AppKey,
		tokens:    deps.Tokens,
		timeout:   cfg.Timeout,
		now:       deps.Now,
		log:       log,
		stats:     Stats{Calls: map[string]int{}, Codes: map[string]map[string]int{}},
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: transport, Timeout: cfg.Timeout}
	rc.Logger = nil // its messages carry URLs; failures are reported by the caller
	rc.RetryMax = maxRetries
	rc.RetryWaitMin = cfg.RetryWait
	rc.RetryWaitMax = 8 * cfg.RetryWait
	rc.CheckRetry = c.checkRetry
	rc.Backoff = retryablehttp.DefaultBackoff
	// Hand the last answer back after the retries run out, so that the
	// caller can read its errcode instead of a generic "giving up".
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.http = rc
	return c
}

// envelope is the part every oapi answer shares. Error answers come inside
// HTTP 200.
type envelope struct {
	ErrCode int
	ErrMsg  string
	SubCode string
	SubMsg  string
}

// readEnvelope reads the shared fields with gjson, leniently (errcode may
// be a number or a string; sub_code and subCode both occur), without
// decoding the whole answer: the payload is decoded once, by the caller.
// The other fields are looked up only for an error, which is small.
func readEnvelope(b []byte) envelope {
	e := envelope{ErrCode: int(gjson.GetBytes(b, "errcode").Int())}
	if e.ErrCode == codeOK {
		return e
	}
	r := gjson.GetManyBytes(b, "errmsg", "sub_code", "subCode", "sub_msg", "subMsg")
	e.ErrMsg, e.SubCode, e.SubMsg = r[0].String(), r[1].String(), r[3].String()
	if e.SubCode == "" {
		e.SubCode = r[2].String()
	}
	if e.SubMsg == "" {
		e.SubMsg = r[4].String()
	}
	return e
}

// apiError returns the answer's error, or nil for errcode 0.
func (e envelope) apiError(api string) *APIError {
	if e.ErrCode == codeOK {
		return nil
	}
	return &APIError{API: api, Code: e.ErrCode, Msg: e.ErrMsg, SubCode: e.SubCode, SubMsg: e.SubMsg}
}

// call POSTs body to api with the access token and decodes the answer into
// out. An answer saying the token is bad (40014, 42001, 40001, 88 with an
// auth sub-code) drops the cached token, refreshes it once and retries
// once. This sits above retryablehttp because the token is part of the URL.
func (c *client) call(ctx context.Context, api string, body, out any) error {
	for refreshed := false; ; refreshed = true {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		raw, err := c.do(ctx, api, http.MethodPost, url.Values{"access_token": {tok}}, body)
		if err != nil {
			return fmt.Errorf("dingtalk: call %s: %w", api, err)
		}
		apiErr := readEnvelope(raw).apiError(api)
		if apiErr == nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("dingtalk: decode %s answer: %w", api, err)
			}
			return nil
		}
		if refreshed || apiErr.class() != classToken {
			return apiErr
		}
		c.log.Info("access token rejected, refreshing", "api", api, "errcode", apiErr.Code)
		if err := c.dropToken(ctx, tok); err != nil {
			return err
		}
	}
}

type apiKey struct{}

// do sends one request and returns the body of the last answer. The HTTP
// client retries transport failures, 429/5xx and busy or QPS errcodes with
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
	u := c.base + "/" + api + "?" + query.Encode()
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
	return b, nil
}

// checkRetry is the retry policy: the transport rules of retryablehttp,
// plus DingTalk's errcodes inside HTTP 200 — -1 (busy) and 90018/90002
// (over a QPS window) are retried with backoff. It also counts every
// attempt, because it sees each one.
func (c *client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	api, _ := ctx.Value(apiKey{}).(string)
	if err != nil {
		c.count(ctx, api, "transport")
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp.StatusCode != http.StatusOK {
		c.count(ctx, api, "http_"+strconv.Itoa(resp.StatusCode))
		return retryablehttp.DefaultRetryPolicy(ctx, resp, nil)
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if rerr != nil {
		c.count(ctx, api, "transport")
		return true, nil
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		c.count(ctx, api, "bad_json")
		return false, nil
	}
	env := readEnvelope(b)
	c.count(ctx, api, code(env.ErrCode))
	if apiErr := env.apiError(api); apiErr != nil {
		return apiErr.class() == classRetry, nil
	}
	return false, nil
}

type counterKey struct{}

// callCounter counts the calls of one pull.
type callCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func withCounter(ctx context.Context, cc *callCounter) context.Context {
	return context.WithValue(ctx, counterKey{}, cc)
}

func (cc *callCounter) snapshot() map[string]int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return maps.Clone(cc.m)
}

func (c *client) count(ctx context.Context, api, outcome string) {
	c.mu.Lock()
	c.stats.Calls[api]++
	if c.stats.Codes[api] == nil {
		c.stats.Codes[api] = map[string]int{}
	}
	c.stats.Codes[api][outcome]++
	c.mu.Unlock()
	if cc, ok := ctx.Value(counterKey{}).(*callCounter); ok {
		cc.mu.Lock()
		if cc.m == nil {
			cc.m = map[string]int{}
		}
		cc.m[api]++
		cc.mu.Unlock()
	}
}

// snapshot returns a copy of the counters.
func (c *client) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Stats{Calls: maps.Clone(c.stats.Calls), Codes: map[string]map[string]int{}}
	for api, m := range c.stats.Codes {
		out.Codes[api] = maps.Clone(m)
	}
	return out
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
