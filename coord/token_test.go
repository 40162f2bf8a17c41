package coord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
)

const tokenKey = "dingtalk/ding5f3a/app1"

func TestTokenCacheGetSetDelete(t *testing.T) {
	clock := newFakeClock()
	rdb := newClient(t)
	prefix := testPrefix(t)
	c := NewTokenCache(rdb, prefix, TokenCacheOptions{Now: clock.Now})
	ctx := t.Context()
	redisKey := NewKeys(prefix).Token(tokenKey)

	if _, ok, err := c.Get(ctx, tokenKey); err != nil || ok {
		t.Fatalf("Get on an empty cache = %v, %v", ok, err)
	}
	want := connectors.Token{Value: "secret-token-1", Expires: clock.Now().Add(7200 * time.Second)}
	if err := c.Set(ctx, tokenKey, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, tokenKey)
	if err != nil || !ok || got.Value != want.Value || !got.Expires.Equal(want.Expires) {
		t.Fatalf("Get = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	assertTTL(t, rdb, redisKey, 7200*time.Second) // the key expires with the token

	// Another replica's cache on the same prefix sees the same token.
	if got, ok, _ := NewTokenCache(newClient(t), prefix, TokenCacheOptions{}).Get(ctx, tokenKey); !ok || got.Value != want.Value {
		t.Errorf("second replica Get = %+v, %v", got, ok)
	}

	if err := c.Delete(ctx, tokenKey); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, tokenKey); err != nil || ok {
		t.Fatalf("Get after Delete = %v, %v", ok, err)
	}

	// A token that is already expired is not stored, and clears the old one.
	if err := c.Set(ctx, tokenKey, want); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, tokenKey, connectors.Token{Value: "old", Expires: clock.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, tokenKey); err != nil || ok {
		t.Fatalf("Get after storing an expired token = %v, %v", ok, err)
	}
	if err := c.Set(ctx, tokenKey, connectors.Token{Expires: want.Expires}); err == nil {
		t.Error("Set accepted an empty token")
	}
}

func TestTokenCacheErrorsHideValues(t *testing.T) {
	rdb := newClient(t)
	prefix := testPrefix(t)
	c := NewTokenCache(rdb, prefix, TokenCacheOptions{})
	const secret = "Bearer-abcdef-very-secret"
	if err := rdb.Set(t.Context(), NewKeys(prefix).Token(tokenKey), secret, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Get(t.Context(), tokenKey)
	if err == nil {
		t.Fatal("Get decoded a value that is not a stored token")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Bearer") {
		t.Errorf("error leaks the cached value: %v", err)
	}
}

// fetcher counts calls to a token fetch and how many ran at once.
type fetcher struct {
	calls, running, maxRunning atomic.Int64
	failFirst                  bool
	now                        func() time.Time
}

func (f *fetcher) fetch(ctx context.Context) (connectors.Token, error) {
	n := f.calls.Add(1)
	r := f.running.Add(1)
	defer f.running.Add(-1)
	for m := f.maxRunning.Load(); r > m && !f.maxRunning.CompareAndSwap(m, r); m = f.maxRunning.Load() {
	}
	// Long enough that the other callers arrive while the fetch runs.
	select {
	case <-time.After(5 * time.Millisecond):
	case <-ctx.Done():
		return connectors.Token{}, ctx.Err()
	}
	if f.failFirst && n == 1 {
		return connectors.Token{}, errors.New("gettoken: errcode 88")
	}
	return connectors.Token{Value: fmt.Sprintf("token-%d", n), Expires: f.now().Add(2 * time.Hour)}, nil
}

// Three replicas (three clients) with ten callers each refresh at once:
// the platform is asked exactly once and every caller gets its token.
func TestTokenRefreshIsSingleFlightAcrossReplicas(t *testing.T) {
	tests := []struct {
		name       string
		seed       bool // a stale token is cached, stored an hour ago
		failFirst  bool
		wantCalls  int64
		wantErrors int
		wantToken  string
	}{
		{name: "empty cache", wantCalls: 1, wantToken: "token-1"},
		{name: "stale token cached", seed: true, wantCalls: 1, wantToken: "token-1"},
		{name: "first fetch fails, one waiter takes over", failFirst: true, wantCalls: 2, wantErrors: 1, wantToken: "token-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := testPrefix(t)
			if tt.seed {
				past := func() time.Time { return time.Now().Add(-time.Hour) }
				old := connectors.Token{Value: "token-old", Expires: time.Now().Add(5 * time.Minute)}
				if err := NewTokenCache(newClient(t), prefix, TokenCacheOptions{Now: past}).Set(t.Context(), tokenKey, old); err != nil {
					t.Fatal(err)
				}
			}
			f := &fetcher{failFirst: tt.failFirst, now: time.Now}
			const replicas, callers = 3, 10
			start := make(chan struct{})
			results := make(chan error, replicas*callers)
			tokens := make(chan string, replicas*callers)
			var wg sync.WaitGroup
			for range replicas {
				c := NewTokenCache(newClient(t), prefix, TokenCacheOptions{})
				for range callers {
					wg.Go(func() {
						<-start
						tok, err := c.Refresh(t.Context(), tokenKey, f.fetch)
						results <- err
						if err == nil {
							tokens <- tok.Value
						}
					})
				}
			}
			close(start)
			wg.Wait()
			close(results)
			close(tokens)

			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("fetch called %d times, want %d", got, tt.wantCalls)
			}
			if got := f.maxRunning.Load(); got != 1 {
				t.Errorf("%d fetches ran at once, want 1", got)
			}
			errs := 0
			for err := range results {
				if err != nil {
					errs++
				}
			}
			if errs != tt.wantErrors {
				t.Errorf("%d callers failed, want %d", errs, tt.wantErrors)
			}
			for tok := range tokens {
				if tok != tt.wantToken {
					t.Errorf("a caller got %q, want %q", tok, tt.wantToken)
				}
			}
		})
	}
}

func TestTokenRefreshWaitsForTheLockHolder(t *testing.T) {
	ctx := t.Context()
	t.Run("gives up after Wait", func(t *testing.T) {
		rdb := newClient(t)
		prefix := testPrefix(t)
		// Another replica is refreshing and will not finish in time.
		if err := rdb.Set(ctx, NewKeys(prefix).TokenLock(tokenKey), "other", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		f := &fetcher{now: time.Now}
		c := NewTokenCache(rdb, prefix, TokenCacheOptions{Wait: 30 * time.Millisecond})
		if _, err := c.Refresh(ctx, tokenKey, f.fetch); !errors.Is(err, ErrRefreshTimeout) {
			t.Errorf("Refresh = %v, want ErrRefreshTimeout", err)
		}
		if f.calls.Load() != 0 {
			t.Error("fetched although another replica held the refresh lock")
		}
	})
	t.Run("takes over from a dead refresher", func(t *testing.T) {
		rdb := newClient(t)
		prefix := testPrefix(t)
		// The refreshing replica died; its lock expires shortly.
		if err := rdb.Set(ctx, NewKeys(prefix).TokenLock(tokenKey), "dead", 20*time.Millisecond).Err(); err != nil {
			t.Fatal(err)
		}
		f := &fetcher{now: time.Now}
		c := NewTokenCache(rdb, prefix, TokenCacheOptions{})
		tok, err := c.Refresh(ctx, tokenKey, f.fetch)
		if err != nil || tok.Value != "token-1" || f.calls.Load() != 1 {
			t.Errorf("Refresh = %+v, %v after %d fetches; want token-1 after 1", tok, err, f.calls.Load())
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		rdb := newClient(t)
		prefix := testPrefix(t)
		if err := rdb.Set(ctx, NewKeys(prefix).TokenLock(tokenKey), "other", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(10*time.Millisecond, cancel)
		c := NewTokenCache(rdb, prefix, TokenCacheOptions{})
		if _, err := c.Refresh(cctx, tokenKey, (&fetcher{now: time.Now}).fetch); !errors.Is(err, context.Canceled) || errors.Is(err, ErrRefreshTimeout) {
			t.Errorf("Refresh = %v, want context.Canceled", err)
		}
	})
}

func TestTokenRefreshRejectsBadFetches(t *testing.T) {
	c := NewTokenCache(newClient(t), testPrefix(t), TokenCacheOptions{})
	for name, tok := range map[string]connectors.Token{
		"empty":   {Expires: time.Now().Add(time.Hour)},
		"expired": {Value: "x", Expires: time.Now().Add(-time.Second)},
	} {
		fetch := func(context.Context) (connectors.Token, error) { return tok, nil }
		if _, err := c.Refresh(t.Context(), tokenKey, fetch); err == nil {
			t.Errorf("Refresh accepted an %s token", name)
		}
	}
	// A failed refresh frees the lock at once for the next caller.
	f := &fetcher{now: time.Now}
	if tok, err := c.Refresh(t.Context(), tokenKey, f.fetch); err != nil || tok.Value != "token-1" {
		t.Errorf("Refresh after failures = %+v, %v", tok, err)
	}
}
