package connectors

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Token is a platform access token and the time it stops being valid.
type Token struct {
	Value   string
	Expires time.Time
}

// TokenCache stores access tokens by key (platform/tenant/app). Connectors
// consult it before asking the platform for a token, so that one token
// serves every caller — in one process with the memory cache, across
// replicas with a shared one. Implementations are safe for concurrent use.
type TokenCache interface {
	// Get returns the cached token; ok is false when there is none.
	Get(ctx context.Context, key string) (t Token, ok bool, err error)
	// Set stores a token until its Expires.
	Set(ctx context.Context, key string, t Token) error
	// Delete forgets a token the platform has rejected.
	Delete(ctx context.Context, key string) error
}

// MemoryTokenCache is a TokenCache for a single process.
type MemoryTokenCache struct {
	mu sync.Mutex
	m  map[string]Token
}

// NewMemoryTokenCache returns an empty in-process token cache.
func NewMemoryTokenCache() *MemoryTokenCache {
	return &MemoryTokenCache{m: map[string]Token{}}
}

// Get implements TokenCache.
func (c *MemoryTokenCache) Get(_ context.Context, key string) (Token, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	return t, ok, nil
}

// Set implements TokenCache.
func (c *MemoryTokenCache) Set(_ context.Context, key string, t Token) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = t
	return nil
}

// Delete implements TokenCache.
func (c *MemoryTokenCache) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

// RefreshingTokenCache is a TokenCache that refreshes single-flight across
// every process sharing it (coord.TokenCache in Redis): one caller fetches
// and stores the token, the others wait for it. fetch must not store the
// token itself.
type RefreshingTokenCache interface {
	TokenCache
	Refresh(ctx context.Context, key string, fetch func(context.Context) (Token, error)) (Token, error)
}

// RefreshToken gets a new token for key with fetch. Through a
// RefreshingTokenCache only one replica asks the platform; with a plain
// cache (or when the shared cache itself fails) this process fetches and
// stores the token. cacheErr reports a cache failure that did not stop the
// refresh, for the caller to log; err is the platform's refusal.
func RefreshToken(ctx context.Context, cache TokenCache, key string, fetch func(context.Context) (Token, error)) (t Token, cacheErr, err error) {
	if rc, ok := cache.(RefreshingTokenCache); ok {
		var fetchErr error
		t, err := rc.Refresh(ctx, key, func(ctx context.Context) (Token, error) {
			t, err := fetch(ctx)
			fetchErr = err
			return t, err
		})
		switch {
		case err == nil:
			return t, nil, nil
		case fetchErr != nil:
			return Token{}, nil, fetchErr
		}
		// The shared cache failed (Redis down): refresh here, as a single
		// process would; replicas may refresh at once until it is back.
		cacheErr = err
	}
	t, err = fetch(ctx)
	if err != nil {
		return Token{}, cacheErr, err
	}
	if err := cache.Set(ctx, key, t); err != nil {
		cacheErr = errors.Join(cacheErr, err)
	}
	return t, cacheErr, nil
}
