package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
)

const (
	// refreshBefore is how long before its expiry a token is replaced, as
	// the platform's calling guide recommends.
	refreshBefore = 10 * time.Minute
	// defaultTokenLife is used when gettoken gives no expires_in.
	defaultTokenLife = 7200 * time.Second
)

type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	ExpiresIn   lenient.Int `json:"expires_in"`
}

// token returns a valid access token: the cached one until 10 minutes
// before it expires, else a fresh one. Concurrent callers share a single
// refresh and each waits for it (or for its own ctx).
func (c *client) token(ctx context.Context) (string, error) {
	if tok, ok := c.cachedToken(ctx); ok {
		return tok, nil
	}
	ch := c.flight.DoChan(c.tokenKey, func() (any, error) {
		// The refresh serves every waiter, so one waiter giving up must
		// not cancel it; it has its own timeout instead.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout*(maxBusyRetries+1)+time.Minute)
		defer cancel()
		if tok, ok := c.cachedToken(fctx); ok {
			return tok, nil // refreshed by another caller (or replica) meanwhile
		}
		t, cacheErr, err := connectors.RefreshToken(fctx, c.tokens, c.tokenKey, c.fetchToken)
		if cacheErr != nil {
			c.log.Warn("token cache failed", "error", redactErr(cacheErr))
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
func (c *client) cachedToken(ctx context.Context) (string, bool) {
	t, ok, err := c.tokens.Get(ctx, c.tokenKey)
	if err != nil {
		c.log.Warn("token cache read failed", "error", redactErr(err))
		return "", false
	}
	if !ok || t.Value == "" || !c.now().Before(t.Expires.Add(-refreshBefore)) {
		return "", false
	}
	return t.Value, true
}

// fetchToken calls gettoken; the token's expiry is counted from before the
// request so that it never runs late. The caller stores it.
func (c *client) fetchToken(ctx context.Context) (connectors.Token, error) {
	start := c.now()
	var tr tokenResponse
	q := url.Values{"appkey": {c.appKey}, "appsecret": {c.appSecret}}
	if err := c.invoke(ctx, request{api: apiGetToken, method: http.MethodGet, query: q, noToken: true}, &tr); err != nil {
		return connectors.Token{}, fmt.Errorf("dingtalk: get access token: %w", err)
	}
	if tr.AccessToken == "" {
		return connectors.Token{}, errors.New("dingtalk: gettoken answered without an access_token")
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = defaultTokenLife
	}
	c.log.Info("access token refreshed", "expires_in_s", int(life/time.Second))
	return connectors.Token{Value: tr.AccessToken, Expires: start.Add(life)}, nil
}

// dropToken forgets a token the platform rejected, unless the cache already
// holds another one (a concurrent caller refreshed it first).
func (c *client) dropToken(ctx context.Context, rejected string) error {
	t, ok, err := c.tokens.Get(ctx, c.tokenKey)
	if err != nil || !ok || t.Value != rejected {
		return nil
	}
	if err := c.tokens.Delete(ctx, c.tokenKey); err != nil {
		return fmt.Errorf("dingtalk: drop rejected access token: %w", redactErr(err))
	}
	return nil
}
