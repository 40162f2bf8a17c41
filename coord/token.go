package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/connectors"
)

// RefreshingTokenCache is a TokenCache that can also refresh a token once
// for every replica sharing it. A connector that finds its cache
// implements it calls Refresh instead of fetching a token itself, so the
// platform sees one token request however many replicas need a new token.
type RefreshingTokenCache interface {
	connectors.TokenCache
	// Refresh returns a newly fetched token for key. Of all concurrent
	// callers on all replicas exactly one runs fetch and stores its token;
	// the others wait for that token and return it. fetch must honour its
	// ctx, which ends before the refresh lock can expire. A token stored
	// within the last FreshFor counts as already refreshed, so Delete a
	// token the platform rejected before calling Refresh.
	Refresh(ctx context.Context, key string, fetch func(context.Context) (connectors.Token, error)) (connectors.Token, error)
}

var _ RefreshingTokenCache = (*TokenCache)(nil)

// Defaults for TokenCacheOptions.
const (
	DefaultTokenLockTTL  = 30 * time.Second
	DefaultTokenFreshFor = time.Minute
	tokenPollFirst       = 10 * time.Millisecond
	tokenPollMax         = 250 * time.Millisecond
)

// TokenCacheOptions tune a TokenCache; zero fields take the defaults.
type TokenCacheOptions struct {
	// Now is the clock for token expiry and freshness; nil means time.Now.
	Now func() time.Time
	// LockTTL bounds one replica's refresh: fetch gets nine tenths of it,
	// and if the replica dies the lock frees itself after it. Default 30s.
	LockTTL time.Duration
	// Wait bounds how long a caller waits for another replica's refresh
	// before giving up with ErrRefreshTimeout. Default LockTTL + 15s, so a
	// waiter outlives a dead refresher's lock and takes over.
	Wait time.Duration
	// FreshFor is how recently a token must have been stored to count as
	// the result of a concurrent refresh, which Refresh returns instead of
	// fetching again. It must be well below a token's lifetime, and the
	// replicas' clocks must agree to well within it. Default 1m.
	FreshFor time.Duration
}

// TokenCache keeps platform access tokens in Redis, shared by every
// replica, one key per platform, tenant and app, each expiring with its
// token. Token values are never logged nor put into errors.
type TokenCache struct {
	rdb  redis.UniversalClient
	keys Keys
	opts TokenCacheOptions
}

// NewTokenCache returns a TokenCache on rdb with keys under prefix ("" means
// DefaultPrefix).
func NewTokenCache(rdb redis.UniversalClient, prefix string, opts TokenCacheOptions) *TokenCache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultTokenLockTTL
	}
	if opts.Wait <= 0 {
		opts.Wait = opts.LockTTL + 15*time.Second
	}
	if opts.FreshFor <= 0 {
		opts.FreshFor = DefaultTokenFreshFor
	}
	return &TokenCache{rdb: rdb, keys: NewKeys(prefix), opts: opts}
}

// storedToken is the Redis value: the token, its expiry and when it was
// stored, in Unix milliseconds.
type storedToken struct {
	Value   string `json:"v"`
	Expires int64  `json:"exp"`
	Stored  int64  `json:"at"`
}

// Get implements connectors.TokenCache.
func (c *TokenCache) Get(ctx context.Context, key string) (connectors.Token, bool, error) {
	st, ok, err := c.load(ctx, key)
	if !ok || err != nil {
		return connectors.Token{}, false, err
	}
	return connectors.Token{Value: st.Value, Expires: time.UnixMilli(st.Expires)}, true, nil
}

// Set implements connectors.TokenCache: the key expires with the token. A
// token already expired is not stored and removes any cached one.
func (c *TokenCache) Set(ctx context.Context, key string, t connectors.Token) error {
	if t.Value == "" {
		return fmt.Errorf("coord: store token %q: the token value is empty; store the platform's access_token", key)
	}
	now := c.opts.Now()
	ttl := t.Expires.Sub(now)
	if ttl < time.Millisecond {
		return c.Delete(ctx, key)
	}
	raw, err := json.Marshal(storedToken{Value: t.Value, Expires: t.Expires.UnixMilli(), Stored: now.UnixMilli()})
	if err != nil {
		return fmt.Errorf("coord: store token %q: encode: %w", key, err)
	}
	return wrapErr(fmt.Sprintf("store token %q", key), c.rdb.Set(ctx, c.keys.Token(key), raw, ttl).Err())
}

// Delete implements connectors.TokenCache.
func (c *TokenCache) Delete(ctx context.Context, key string) error {
	return wrapErr(fmt.Sprintf("delete token %q", key), c.rdb.Del(ctx, c.keys.Token(key)).Err())
}

// Refresh implements RefreshingTokenCache. Each round it returns the
// cached token if one was stored within FreshFor (another caller's
// refresh), else tries the short refresh lock; the winner checks once more,
// runs fetch, stores the token and frees the lock, while the others poll
// with a growing, jittered interval. Redis being unreachable fails the
// call with ErrUnavailable without fetching: a caller that prefers a
// token over coordination may then fetch one itself.
func (c *TokenCache) Refresh(ctx context.Context, key string, fetch func(context.Context) (connectors.Token, error)) (connectors.Token, error) {
	wctx, cancel := context.WithTimeout(ctx, c.opts.Wait)
	defer cancel()
	locks := Locker{rdb: c.rdb, now: c.opts.Now}
	poll := tokenPollFirst
	for {
		if t, ok, err := c.fresh(wctx, key); err != nil || ok {
			return t, c.waitErr(ctx, key, err)
		}
		lk, won, err := locks.take(wctx, c.keys.TokenLock(key), c.opts.LockTTL)
		if err != nil {
			return connectors.Token{}, c.waitErr(ctx, key, wrapErr(fmt.Sprintf("take refresh lock of token %q", key), err))
		}
		if won {
			return c.fetchLocked(ctx, key, lk, fetch)
		}
		timer := time.NewTimer(poll/2 + rand.N(poll))
		select {
		case <-wctx.Done():
			timer.Stop()
			return connectors.Token{}, c.waitErr(ctx, key, wctx.Err())
		case <-timer.C:
		}
		poll = min(poll*2, tokenPollMax)
	}
}

// fetchLocked runs fetch while holding the refresh lock and stores the
// result, unless a fresh token appeared between the caller's last look and
// taking the lock.
func (c *TokenCache) fetchLocked(ctx context.Context, key string, lk *Lock, fetch func(context.Context) (connectors.Token, error)) (connectors.Token, error) {
	// Freeing the lock early only spares waiters a poll: if it fails the
	// lock expires by itself, so its error changes nothing for the caller.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = lk.Release(rctx)
	}()
	if t, ok, err := c.fresh(ctx, key); err != nil || ok {
		return t, err
	}
	// fetch must finish while the lock is certainly ours, else a second
	// replica could start fetching alongside.
	fctx, cancel := context.WithTimeout(ctx, c.opts.LockTTL*9/10)
	defer cancel()
	t, err := fetch(fctx)
	if err != nil {
		return connectors.Token{}, fmt.Errorf("coord: refresh token %q: %w", key, err)
	}
	if t.Value == "" || !t.Expires.After(c.opts.Now()) {
		return connectors.Token{}, fmt.Errorf("coord: refresh token %q: fetch returned an empty or expired token (expires %s)", key, t.Expires.Format(time.RFC3339))
	}
	if err := c.Set(ctx, key, t); err != nil {
		return connectors.Token{}, err
	}
	return t, nil
}

// fresh returns the cached token if it is unexpired and was stored less
// than FreshFor ago.
func (c *TokenCache) fresh(ctx context.Context, key string) (connectors.Token, bool, error) {
	st, ok, err := c.load(ctx, key)
	if !ok || err != nil {
		return connectors.Token{}, false, err
	}
	now := c.opts.Now()
	t := connectors.Token{Value: st.Value, Expires: time.UnixMilli(st.Expires)}
	if t.Value == "" || !now.Before(t.Expires) || now.Sub(time.UnixMilli(st.Stored)) >= c.opts.FreshFor {
		return connectors.Token{}, false, nil
	}
	return t, true, nil
}

// waitErr turns the end of the wait into ErrRefreshTimeout and names the
// token on the caller's own cancellation; other errors pass through.
func (c *TokenCache) waitErr(ctx context.Context, key string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("coord: refresh token %q: %w", key, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("coord: refresh token %q: no new token after %s: %w", key, c.opts.Wait, ErrRefreshTimeout)
	}
	return err
}

func (c *TokenCache) load(ctx context.Context, key string) (storedToken, bool, error) {
	raw, err := c.rdb.Get(ctx, c.keys.Token(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return storedToken{}, false, nil
	}
	if err != nil {
		return storedToken{}, false, wrapErr(fmt.Sprintf("read token %q", key), err)
	}
	var st storedToken
	if err := json.Unmarshal(raw, &st); err != nil {
		// Never wrap the decoder's error: it may quote the value.
		return storedToken{}, false, fmt.Errorf("coord: read token %q: the cached value is not a stored token; delete the key", key)
	}
	return st, true, nil
}
