package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
)

const (
	// refreshBefore is how long before its expiry a token is replaced.
	refreshBefore = 10 * time.Minute
	// defaultTokenLife is used when gettoken gives no expires_in (B1:
	// normally 7200 s).
	defaultTokenLife = 7200 * time.Second
)

// App roles: which app's token an API needs (B1: the 打卡 APIs need an app
// listed in 打卡 - 可调用接口的应用, approvals one in 审批, user/list_id the
// 通讯录同步 secret; the HR roster an app listed in 人事助手).
const (
	roleCheckin  = "checkin"
	roleApproval = "approval"
	roleContacts = "contacts"
	roleHR       = "hr"
)

// app is one secret and where its token is cached. Roles configured with
// the same secret share one app, because WeCom issues one token per app.
type app struct {
	role     string // the first role that uses the secret
	key      string // its config key, for messages: "checkin_secret"
	secret   string
	tokenKey string // wecom/<corp>/<role>

	// kept is a token gettoken handed out with less than refreshBefore to
	// live, and until when to use it anyway: asking again would only
	// return the same token (see fetchToken).
	mu        sync.Mutex
	kept      string
	keptUntil time.Time
}

// keep remembers a short-lived token until until.
func (a *app) keep(tok string, until time.Time) {
	a.mu.Lock()
	a.kept, a.keptUntil = tok, until
	a.mu.Unlock()
}

// isKept reports whether tok is the kept token and now before its end.
func (a *app) isKept(tok string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return tok != "" && tok == a.kept && now.Before(a.keptUntil)
}

// newApps maps each configured role to its app.
func newApps(cfg Config) map[string]*app {
	apps := map[string]*app{}
	bySecret := map[string]*app{}
	add := func(role, key, secret string) {
		if secret == "" {
			return
		}
		if a, ok := bySecret[secret]; ok {
			apps[role] = a
			return
		}
		a := &app{role: role, key: key, secret: secret, tokenKey: Platform + "/" + cfg.CorpID + "/" + role}
		bySecret[secret] = a
		apps[role] = a
	}
	add(roleCheckin, "checkin_secret", cfg.CheckinSecret.Reveal())
	add(roleApproval, "approval_secret", cfg.ApprovalSecret.Reveal())
	add(roleContacts, "contacts_secret", cfg.ContactsSecret.Reveal())
	if cfg.HRSecret != "" {
		add(roleHR, "hr_secret", cfg.HRSecret.Reveal())
	} else if a := apps[roleCheckin]; a != nil {
		apps[roleHR] = a
	}
	return apps
}

type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	ExpiresIn   lenient.Int `json:"expires_in"`
}

// token returns a valid access token of app a: the cached one until 10
// minutes before it expires, else a fresh one. Concurrent callers share a
// single refresh per app and each waits for it (or for its own ctx).
func (c *client) token(ctx context.Context, a *app) (string, error) {
	if tok, ok := c.cachedToken(ctx, a); ok {
		return tok, nil
	}
	ch := c.flight.DoChan(a.tokenKey, func() (any, error) {
		// The refresh serves every waiter, so one waiter giving up must
		// not cancel it; it has its own timeout instead.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout*(maxRetries+1)+time.Minute)
		defer cancel()
		if tok, ok := c.cachedToken(fctx, a); ok {
			return tok, nil // refreshed by another caller (or replica) meanwhile
		}
		t, cacheErr, err := connectors.RefreshToken(fctx, c.tokens, a.tokenKey, func(ctx context.Context) (connectors.Token, error) {
			return c.fetchToken(ctx, a)
		})
		if cacheErr != nil {
			c.log.Warn("token cache failed", "app", a.role, "error", redactErr(cacheErr))
		}
		return t.Value, err
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// cachedToken returns the cached token while it has more than
// refreshBefore to live. A failing cache counts as empty: the platform is
// the source of truth.
func (c *client) cachedToken(ctx context.Context, a *app) (string, bool) {
	t, ok, err := c.tokens.Get(ctx, a.tokenKey)
	if err != nil {
		c.log.Warn("token cache read failed", "app", a.role, "error", redactErr(err))
		return "", false
	}
	if !ok || t.Value == "" {
		return "", false
	}
	if now := c.now(); !now.Before(t.Expires.Add(-refreshBefore)) && !a.isKept(t.Value, now) {
		return "", false
	}
	return t.Value, true
}

// fetchToken calls gettoken; the token's expiry is counted from before the
// request so that it never runs late. The caller stores it.
func (c *client) fetchToken(ctx context.Context, a *app) (connectors.Token, error) {
	start := c.now()
	q := url.Values{"corpid": {c.corpID}, "corpsecret": {a.secret}}
	raw, err := c.do(ctx, apiGetToken, http.MethodGet, q, nil)
	if err != nil {
		return connectors.Token{}, fmt.Errorf("wecom: get access token of the %s app: %w", a.role, err)
	}
	if env := readEnvelope(raw); env.ErrCode != codeOK {
		return connectors.Token{}, &APIError{API: apiGetToken, App: a.key, Code: env.ErrCode, Msg: env.ErrMsg}
	}
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return connectors.Token{}, fmt.Errorf("wecom: decode gettoken answer: %w", err)
	}
	if tr.AccessToken == "" {
		return connectors.Token{}, errors.New("wecom: gettoken answered without an access_token")
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = defaultTokenLife
	}
	t := connectors.Token{Value: tr.AccessToken, Expires: start.Add(life)}
	if life <= refreshBefore {
		// Within a token's life gettoken returns the same token with what
		// remains of it, so asking again before it ends is pointless and
		// risks gettoken's own frequency limit. Use it until shortly
		// before its end.
		a.keep(t.Value, t.Expires.Add(-life/10))
	}
	c.log.Info("access token refreshed", "app", a.role, "expires_in_s", int(life/time.Second))
	return t, nil
}

// dropToken forgets a token the platform rejected, unless the cache already
// holds another one (a concurrent caller refreshed it first).
func (c *client) dropToken(ctx context.Context, a *app, rejected string) error {
	t, ok, err := c.tokens.Get(ctx, a.tokenKey)
	if err != nil || !ok || t.Value != rejected {
		return nil
	}
	if err := c.tokens.Delete(ctx, a.tokenKey); err != nil {
		return fmt.Errorf("wecom: drop rejected access token of the %s app: %w", a.role, redactErr(err))
	}
	return nil
}
