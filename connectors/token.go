package connectors

import (
	"context"
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
