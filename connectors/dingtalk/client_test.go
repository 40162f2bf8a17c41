package dingtalk

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
)

func smallCompany() dt.Company { return dt.GenerateCompany(11, 12, monday, 7) }

func TestTokenIsCachedUntilTenMinutesBeforeExpiry(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	ctx := context.Background()
	issued := e.clock.Now()
	first, err := e.conn.client.token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at          time.Duration // after issue
		wantFetches int
	}{
		{0, 1},
		{time.Hour, 1},
		{dt.DefaultTokenTTL - refreshBefore - time.Second, 1},
		{dt.DefaultTokenTTL - refreshBefore, 2}, // refreshed 10 minutes before expiry
		{dt.DefaultTokenTTL, 2},                 // the refresh extended the life: still cached
	} {
		e.clock.Set(issued.Add(step.at))
		tok, err := e.conn.client.token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok != first {
			// DingTalk returns the same token while it is valid.
			t.Errorf("at +%s: token changed", step.at)
		}
		if got := e.srv.Calls(dt.APIGetToken); got != step.wantFetches {
			t.Errorf("at +%s: gettoken calls = %d, want %d", step.at, got, step.wantFetches)
		}
	}
	cached, _, _ := e.tokens.Get(ctx, "dingtalk/"+dt.DefaultCorpID+"/"+dt.DefaultAppKey)
	if want := issued.Add(dt.DefaultTokenTTL - refreshBefore + dt.DefaultTokenTTL); !cached.Expires.Equal(want) {
		t.Errorf("cached expiry = %s, want %s", cached.Expires, want)
	}
}

func TestTokenRefreshIsSingleFlight(t *testing.T) {
	e := newEnv(t, smallCompany(), []dt.Option{dt.WithLatency(20 * time.Millisecond)}, nil)
	ctx := context.Background()
	if _, err := e.conn.client.token(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(dt.DefaultTokenTTL)) // right at expiry
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.conn.client.token(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.srv.Calls(dt.APIGetToken); got != 2 {
		t.Errorf("gettoken calls = %d, want 2 (the first token and exactly one refresh)", got)
	}
}

func TestInvalidTokenRefreshesOnceAndRetriesOnce(t *testing.T) {
	for _, code := range []int{dt.CodeInvalidToken, dt.CodeExpiredToken, dt.CodeBadSecret} {
		e := newEnv(t, smallCompany(), nil, nil)
		e.srv.FailNext(dt.APIListSubDept, code, 1)
		if _, err := e.conn.departments(context.Background()); err != nil {
			t.Fatalf("errcode %d once: %v", code, err)
		}
		if got := e.srv.Calls(dt.APIGetToken); got != 2 {
			t.Errorf("errcode %d once: gettoken calls = %d, want 2", code, got)
		}

		e = newEnv(t, smallCompany(), nil, nil)
		e.srv.FailNext(dt.APIListSubDept, code, 2)
		_, err := e.conn.departments(context.Background())
		if !errors.Is(err, ErrTokenRejected) {
			t.Fatalf("errcode %d twice: err = %v, want ErrTokenRejected", code, err)
		}
		if got := e.srv.Calls(dt.APIListSubDept); got != 2 {
			t.Errorf("errcode %d twice: listsubid calls = %d, want 2 (one retry)", code, got)
		}
		if got := e.srv.Calls(dt.APIGetToken); got != 2 {
			t.Errorf("errcode %d twice: gettoken calls = %d, want 2 (one refresh)", code, got)
		}
	}
}

func TestRevokedTokenGetsANewOne(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	ctx := context.Background()
	if _, err := e.conn.departments(ctx); err != nil {
		t.Fatal(err)
	}
	old := e.cachedToken(t)
	e.srv.RevokeTokens()
	if _, err := e.conn.departments(ctx); err != nil {
		t.Fatal(err)
	}
	if e.cachedToken(t) == old {
		t.Error("the revoked token is still cached")
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		code, n   int
		wantCalls int
		wantErr   error
	}{
		{"busy twice", dt.CodeBusy, 2, 3, nil},
		{"busy beyond 3 retries", dt.CodeBusy, 4, 4, ErrBusy},
		{"qps once", dt.CodeAppQPS, 1, 2, nil},
		{"global qps once", dt.CodeGlobalQPS, 1, 2, nil},
		{"qps many times", dt.CodeAppQPS, maxQPSRetries, maxQPSRetries + 1, nil},
		{"qps beyond retries", dt.CodeAppQPS, maxQPSRetries + 1, maxQPSRetries + 1, ErrRateLimited},
		{"http 503 once", 503, 1, 2, nil},
		{"monthly quota", dt.CodeMonthlyQuota, 1, 1, ErrQuota},
		{"bad parameters", dt.CodeInvalidParams, 1, 1, connectors.ErrPermanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, smallCompany(), nil, nil)
			e.srv.FailNext(dt.APIListSubDept, tc.code, tc.n)
			_, err := e.conn.departments(context.Background())
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := e.srv.Calls(dt.APIListSubDept); got < tc.wantCalls {
				t.Errorf("listsubid calls = %d, want at least %d", got, tc.wantCalls)
			}
			// The first department's calls are exactly the failures plus one.
			st := e.conn.Stats()
			if got := st.Codes[apiListSubDept][codeOrStatus(tc.code)]; got != min(tc.n, tc.wantCalls) {
				t.Errorf("stats[%d] = %d, want %d (%v)", tc.code, got, min(tc.n, tc.wantCalls), st.Codes)
			}
		})
	}
}

func codeOrStatus(c int) string {
	if c >= 500 && c <= 599 {
		return "http_" + code(c)
	}
	return code(c)
}

func TestWrongSecretIsPermanent(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, func(c *Config) { c.AppSecret = "wrong-secret-value" })
	_, err := e.conn.Users(context.Background())
	if !errors.Is(err, ErrCredentials) || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err = %v, want ErrCredentials and ErrPermanent", err)
	}
	if got := e.srv.Calls(dt.APIGetToken); got != 1 {
		t.Errorf("gettoken calls = %d, want 1 (no retry of a wrong secret)", got)
	}
}

// TestNoSecretInErrorsOrLogs drives every failure path that carries a URL
// and checks that neither the token nor the secret shows.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const secret = "s3cr3t-app-secret-for-leak-test"
	e := newEnv(t, smallCompany(), []dt.Option{dt.WithCredentials(dt.DefaultAppKey, secret)},
		func(c *Config) { c.AppSecret = "wrong-" + secret })
	ctx := context.Background()
	var errs []error
	_, err := e.conn.Users(ctx) // wrong secret
	errs = append(errs, err)

	e = newEnv(t, smallCompany(), []dt.Option{dt.WithCredentials(dt.DefaultAppKey, secret)},
		func(c *Config) { c.AppSecret = secret })
	if _, err := e.conn.departments(ctx); err != nil {
		t.Fatal(err)
	}
	token := e.cachedToken(t)
	e.srv.FailNext(dt.APIListSubDept, 502, 10)
	_, err = e.conn.departments(ctx) // 5xx until the retries run out
	errs = append(errs, err)
	e.srv.FailNext(dt.APIListSubDept, dt.CodeInvalidToken, 2)
	_, err = e.conn.departments(ctx) // token rejected twice
	errs = append(errs, err)
	e.srv.Close()
	_, err = e.conn.departments(ctx) // connection refused: *url.Error with the full URL
	errs = append(errs, err)
	e.tokens.Delete(ctx, e.conn.client.tokenKey)
	_, err = e.conn.departments(ctx) // gettoken unreachable: the URL holds the secret
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		for _, leak := range []string{token, secret} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("case %d: error leaks a secret: %v", i, err)
			}
		}
	}
	if !strings.Contains(errs[3].Error(), "access_token=REDACTED") {
		t.Errorf("transport error lost its redacted URL: %v", errs[3])
	}
	if logs := e.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, secret) {
		t.Errorf("logs leak a secret:\n%s", logs)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"GET http://h/gettoken?appkey=k&appsecret=abc%2Fdef":  "GET http://h/gettoken?appkey=k&appsecret=REDACTED",
		`Post "http://h/x?access_token=tok123": EOF`:          `Post "http://h/x?access_token=REDACTED": EOF`,
		"access_token=a%2Fb%3Dc&x=1":                          "access_token=REDACTED&x=1",
		`"http://h/x?a=1&ACCESS_TOKEN=T#frag"`:                `"http://h/x?a=1&ACCESS_TOKEN=REDACTED#frag"`,
		"next=http%3A%2F%2Fh%2F%3Faccess_token%3Dtok%26x=1":   "next=http%3A%2F%2Fh%2F%3Faccess_token%3DREDACTED%26x=1",
		`dial "ws://h/gateway/stream?ticket=5f2a9c": refused`: `dial "ws://h/gateway/stream?ticket=REDACTED": refused`,
		"no secrets here": "no secrets here",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		api     string
		code    int
		sub     string
		msg     string
		want    class
		comment string
	}{
		{apiListRecord, 0, "", "", classOK, "ok"},
		{apiListRecord, -1, "", "", classBusy, "busy"},
		{apiListRecord, 90018, "", "", classQPS, "app QPS"},
		{apiListRecord, 90002, "", "", classQPS, "global QPS"},
		{apiListRecord, 90020, "", "", classQuota, "monthly quota"},
		{apiListRecord, 40014, "", "", classToken, "invalid token"},
		{apiListRecord, 42001, "", "", classToken, "expired token"},
		{apiListRecord, 40001, "", "", classToken, "40001 outside gettoken"},
		{apiGetToken, 40001, "", "", classCreds, "40001 at gettoken: wrong secret"},
		{apiListRecord, 88, "40014", "", classToken, "88 with a token sub-code"},
		{apiListRecord, 88, "", "不合法的access_token", classToken, "88 saying access_token"},
		{apiListRecord, 88, "60011", "no permission", classPermanent, "88 about something else"},
		{apiListRecord, 400002, "", "", classPermanent, "bad parameters"},
	} {
		if got := classify(tc.api, tc.code, tc.sub, tc.msg); got != tc.want {
			t.Errorf("%s: classify = %d, want %d", tc.comment, got, tc.want)
		}
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestUsesTheGivenTransport(t *testing.T) {
	srv := dt.NewServer(dt.WithCompany(smallCompany()))
	t.Cleanup(srv.Close)
	tr := &countingTransport{}
	conn, err := NewConnector("dt", Config{AppKey: srv.AppKey(), AppSecret: config.Secret(srv.AppSecret()), CorpID: srv.CorpID(), BaseURL: srv.URL()},
		connectors.Deps{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.departments(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := srv.Calls(dt.APIGetToken) + srv.Calls(dt.APIListSubDept); tr.n != want || want == 0 {
		t.Errorf("transport carried %d requests, the server saw %d", tr.n, want)
	}
}
