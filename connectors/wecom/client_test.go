package wecom

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
)

func smallCompany() wt.Company { return wt.GenerateCompany(11, 12, monday, 7) }

// oneCall makes one getcheckindata call of the first user over monday.
func (e *env) oneCall(ctx context.Context) error {
	_, err := e.conn.checkinData(ctx, []string{"user00001"}, days(1))
	return err
}

func TestTokenPerApp(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	ctx := context.Background()
	if err := e.oneCall(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.approvalNumbers(ctx, days(1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.conn.listUserIDs(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.TokensIssued(); got != 3 {
		t.Errorf("tokens issued = %d, want one per app secret", got)
	}
	seen := map[string]bool{}
	for _, role := range []string{roleCheckin, roleApproval, roleContacts} {
		tok, ok, _ := e.tokens.Get(ctx, "wecom/"+e.conn.Tenant()+"/"+role)
		if !ok || seen[tok.Value] {
			t.Errorf("%s token missing or shared: %v", role, ok)
		}
		seen[tok.Value] = true
	}
	// The HR role falls back to the check-in app: no fourth token.
	if e.conn.client.apps[roleHR] != e.conn.client.apps[roleCheckin] {
		t.Error("hr does not share the check-in app")
	}
}

func TestRolesWithOneSecretShareItsToken(t *testing.T) {
	e := newEnv(t, smallCompany(), []wt.Option{wt.WithApps(wt.App{Secret: "one-app-for-all",
		Perms: []wt.Perm{wt.PermCheckin, wt.PermHardware, wt.PermApproval, wt.PermContacts}})},
		func(c *Config) {
			c.CheckinSecret, c.ApprovalSecret, c.ContactsSecret = "one-app-for-all", "one-app-for-all", "one-app-for-all"
		})
	ctx := context.Background()
	if err := e.oneCall(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.approvalNumbers(ctx, days(1)); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Calls(wt.APIGetToken); got != 1 {
		t.Errorf("gettoken calls = %d, want 1 for one secret", got)
	}
}

func TestTokenIsCachedUntilTenMinutesBeforeExpiry(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	ctx := context.Background()
	a := e.conn.client.apps[roleCheckin]
	issued := e.clock.Now()
	for _, step := range []struct {
		at          time.Duration // after issue
		wantFetches int
	}{
		{0, 1},
		{time.Hour, 1},
		{wt.DefaultTokenTTL - refreshBefore - time.Second, 1},
		{wt.DefaultTokenTTL - refreshBefore, 2},                 // refreshed 10 minutes before expiry...
		{wt.DefaultTokenTTL - 2*time.Minute, 2},                 // ...the same token came back with 10 minutes left: kept
		{wt.DefaultTokenTTL, 3},                                 // expired: a new one
		{2*wt.DefaultTokenTTL - refreshBefore - time.Second, 3}, // the new one lives 7200 s
		{2*wt.DefaultTokenTTL - refreshBefore/2, 4},             // refreshed again
	} {
		e.clock.Set(issued.Add(step.at))
		if _, err := e.conn.client.token(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got := e.srv.Calls(wt.APIGetToken); got != step.wantFetches {
			t.Errorf("at +%s: gettoken calls = %d, want %d", step.at, got, step.wantFetches)
		}
	}
}

func TestTokenRefreshIsSingleFlight(t *testing.T) {
	e := newEnv(t, smallCompany(), []wt.Option{wt.WithLatency(20 * time.Millisecond)}, nil)
	ctx := context.Background()
	a := e.conn.client.apps[roleCheckin]
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.conn.client.token(ctx, a)
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
	if got := e.srv.Calls(wt.APIGetToken); got != 1 {
		t.Errorf("gettoken calls = %d, want 1 shared refresh", got)
	}
}

func TestBadTokenRefreshesOnceAndRetriesOnce(t *testing.T) {
	for _, code := range []int{wt.CodeInvalidToken, wt.CodeExpiredToken, wt.CodeMissingToken} {
		e := newEnv(t, smallCompany(), nil, nil)
		e.srv.FailNext(wt.APICheckinData, code, 1)
		if err := e.oneCall(context.Background()); err != nil {
			t.Fatalf("errcode %d once: %v", code, err)
		}
		if got := e.srv.Calls(wt.APIGetToken); got != 2 {
			t.Errorf("errcode %d once: gettoken calls = %d, want 2", code, got)
		}

		e = newEnv(t, smallCompany(), nil, nil)
		e.srv.FailNext(wt.APICheckinData, code, 2)
		err := e.oneCall(context.Background())
		if !errors.Is(err, ErrTokenRejected) {
			t.Fatalf("errcode %d twice: err = %v, want ErrTokenRejected", code, err)
		}
		if got := e.srv.Calls(wt.APICheckinData); got != 2 {
			t.Errorf("errcode %d twice: calls = %d, want 2 (one retry)", code, got)
		}
	}
}

func TestExpiredAndRevokedTokensAreReplaced(t *testing.T) {
	e := newEnv(t, smallCompany(), []wt.Option{wt.WithTokenTTL(30 * time.Minute)}, nil)
	ctx := context.Background()
	if err := e.oneCall(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.RevokeTokens() // WeCom may invalidate tokens early
	if err := e.oneCall(ctx); err != nil {
		t.Fatal(err)
	}
	// Once expired, a new one is fetched.
	e.clock.Set(e.clock.Now().Add(31 * time.Minute))
	if err := e.oneCall(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.TokensIssued(); got != 3 {
		t.Errorf("tokens issued = %d, want 3 (first, after revocation, after expiry)", got)
	}
}

func TestWrongAppGetsPermissionErrors(t *testing.T) {
	// The check-in secret is configured as the contacts secret too: a
	// token of the check-in app calling user/list_id, and the approval
	// secret is the contacts secret.
	e := newEnv(t, smallCompany(), nil, func(c *Config) {
		c.ContactsSecret = config.Secret(wt.DefaultCheckinSecret)
		c.ApprovalSecret = config.Secret(wt.DefaultContactsSecret)
	})
	ctx := context.Background()
	_, _, err := e.conn.listUserIDs(ctx)
	if !errors.Is(err, ErrPermission) || !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("list_id with a check-in token: %v, want ErrPermission", err)
	}
	if !strings.Contains(err.Error(), "48002") || !strings.Contains(err.Error(), "通讯录同步") {
		t.Errorf("error does not say what to fix: %v", err)
	}
	_, err = e.conn.approvalNumbers(ctx, days(1))
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "301055") || !strings.Contains(err.Error(), "approval_secret") {
		t.Fatalf("approvals with a contacts token: %v", err)
	}
	if got := e.srv.Calls(wt.APIApprovalInfo); got != 1 {
		t.Errorf("a permission error was retried: %d calls", got)
	}
}

func TestBadCredentials(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, func(c *Config) { c.CheckinSecret = "wrong-secret-value" })
	err := e.oneCall(context.Background())
	if !errors.Is(err, ErrCredentials) || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("err = %v, want ErrCredentials without the secret", err)
	}
	e = newEnv(t, smallCompany(), nil, func(c *Config) { c.CorpID = "wwotherCorp" })
	if err := e.oneCall(context.Background()); !errors.Is(err, ErrCredentials) {
		t.Fatalf("wrong corp id: %v", err)
	}
}

func TestBusyRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		code, n   int
		wantCalls int
		wantErr   error
	}{
		{"busy twice", wt.CodeBusy, 2, 3, nil},
		{"busy beyond 3 retries", wt.CodeBusy, 4, 4, ErrBusy},
		{"checkin system error 3 times", wt.CodeCheckinSystem, 3, 4, nil},
		{"checkin system error beyond retries", wt.CodeCheckinSystem, 5, 4, ErrBusy},
		{"http 503 once", 503, 1, 2, nil},
		{"bad parameters", wt.CodeCheckinBadParams, 1, 1, connectors.ErrPermanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, smallCompany(), nil, nil)
			e.srv.FailNext(wt.APICheckinData, tc.code, tc.n)
			err := e.oneCall(context.Background())
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := e.srv.Calls(wt.APICheckinData); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestRateLimitWaitsOutTheBlockAndLogsOnce(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	e.srv.FailNext(wt.APICheckinData, wt.CodeRateLimit, 2)
	if err := e.oneCall(context.Background()); err != nil {
		t.Fatal(err)
	}
	var blocks []time.Duration
	for _, d := range e.clock.slept() {
		if d == time.Minute {
			blocks = append(blocks, d)
		}
	}
	if len(blocks) != 2 {
		t.Errorf("waits = %v, want two 60 s blocks", e.clock.slept())
	}
	if n := strings.Count(e.logs.String(), "api rate limit hit"); n != 2 {
		t.Errorf("block logged %d times, want once per block", n)
	}

	// Beyond the retry budget the call fails as rate limited.
	e = newEnv(t, smallCompany(), nil, nil)
	e.srv.FailNext(wt.APICheckinData, wt.CodeRateLimit, maxRetries+1)
	if err := e.oneCall(context.Background()); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
}

func TestConcurrentCallersShareOneBlock(t *testing.T) {
	// The fake blocks the API for a minute of its clock after 3 calls; the
	// client's own limit is higher, so the fake's 45009 is what paces.
	e := newEnv(t, smallCompany(), []wt.Option{wt.WithRateLimit(wt.APICheckinData, 3)}, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.oneCall(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.srv.Answers(wt.APICheckinData, 0); got != 8 {
		t.Errorf("successful answers = %d, want 8", got)
	}
	refused := e.srv.Answers(wt.APICheckinData, wt.CodeRateLimit)
	if blocks := strings.Count(e.logs.String(), "api rate limit hit"); refused == 0 || blocks < 1 || blocks > refused {
		t.Errorf("%d blocks logged for %d refusals", blocks, refused)
	}
}

func TestBlockIsLoggedOncePerBlock(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	l := e.conn.client.limits
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.block(apiCheckinData, time.Minute)
		}()
	}
	wg.Wait()
	e.clock.Set(e.clock.Now().Add(30 * time.Second))
	l.block(apiCheckinData, time.Minute) // inside the block: extends nothing
	if n := strings.Count(e.logs.String(), "api rate limit hit"); n != 1 {
		t.Fatalf("logged %d times, want once", n)
	}
	start := e.clock.Now()
	if err := l.wait(context.Background(), apiCheckinData); err != nil {
		t.Fatal(err)
	}
	if waited := e.clock.Now().Sub(start); waited != 30*time.Second {
		t.Errorf("waited %s, want the 30 s left of the block", waited)
	}
	l.block(apiCheckinData, time.Minute)
	if n := strings.Count(e.logs.String(), "api rate limit hit"); n != 2 {
		t.Fatalf("a new block after the first logged %d in all, want 2", n)
	}
}

func TestConcurrencyLimitLowersConcurrency(t *testing.T) {
	e := newEnv(t, wt.GenerateCompany(12, 450, monday, 3), []wt.Option{
		wt.WithMaxConcurrent(wt.APICheckinData, 1), wt.WithAPILatency(wt.APICheckinData, 20*time.Millisecond),
	}, nil)
	events, st, err := e.pull(t, days(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || st.APICalls[apiCheckinData] < 5 {
		t.Fatalf("pulled %d events in %v", len(events), st.APICalls)
	}
	if got := e.conn.client.limits.concurrency(apiCheckinData); got != 1 {
		t.Errorf("concurrency after 45033 = %d, want 1", got)
	}
	if e.srv.Answers(wt.APICheckinData, wt.CodeConcurrency) == 0 || !strings.Contains(e.logs.String(), "lowering concurrency") {
		t.Error("no 45033 seen or not logged")
	}
}

func TestGateRecovers(t *testing.T) {
	g := newGate(4)
	if n, ok := g.lower(); !ok || n != 2 {
		t.Fatalf("lower = %d %v", n, ok)
	}
	g.lower()
	if n, ok := g.lower(); ok || n != 1 {
		t.Fatalf("lower at 1 = %d %v", n, ok)
	}
	for i := 0; i < recoverAfter*3; i++ {
		g.success()
	}
	if g.size() != 4 {
		t.Fatalf("size after successes = %d, want back to 4", g.size())
	}
	ctx, cancel := context.WithCancel(context.Background())
	g2 := newGate(1)
	if err := g2.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := g2.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire on a full gate with a cancelled ctx = %v", err)
	}
}

func TestStatsCountEveryAttemptByCode(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	e.srv.FailNext(wt.APICheckinData, wt.CodeBusy, 1)
	if err := e.oneCall(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := e.conn.Stats()
	if st.Calls[apiCheckinData] != 2 || st.Codes[apiCheckinData]["-1"] != 1 || st.Codes[apiCheckinData]["0"] != 1 || st.Codes[apiGetToken]["0"] != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	ctx := context.Background()
	if err := e.oneCall(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := e.tokens.Get(ctx, e.conn.client.apps[roleCheckin].tokenKey)
	e.srv.FailNext(wt.APICheckinData, 500, maxRetries+1)
	err := e.oneCall(ctx)
	if err == nil {
		t.Fatal("no error after HTTP 500s")
	}
	e.srv.Close() // a transport error carries the URL
	err2 := e.oneCall(ctx)
	for _, text := range []string{err.Error(), err2.Error(), e.logs.String()} {
		for _, secret := range []string{tok.Value, wt.DefaultCheckinSecret, wt.DefaultContactsSecret, wt.DefaultApprovalSecret, testAESKey} {
			if strings.Contains(text, secret) {
				t.Errorf("secret %.8s… leaked in %q", secret, text)
			}
		}
	}
	if !strings.Contains(err2.Error(), "access_token=REDACTED") {
		t.Errorf("transport error %q does not show the redacted URL", err2)
	}
}

func TestRedact(t *testing.T) {
	in := "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=abc%2Bdef&x=1 and access_token=tok123#frag ACCESS_TOKEN%3Dxyz"
	out := redact(in)
	for _, s := range []string{"abc", "tok123", "xyz"} {
		if strings.Contains(out, s) {
			t.Errorf("%q kept %q", out, s)
		}
	}
	if !strings.Contains(out, "corpid=ww1") || !strings.Contains(out, "&x=1") {
		t.Errorf("redact removed too much: %q", out)
	}
}
