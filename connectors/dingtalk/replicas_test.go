package dingtalk

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/internal/testenv"
)

// TestTokenRefreshAcrossReplicas: three replicas, each with its own Redis
// client and connector, find the shared token expired and call for one at
// once, 10 goroutines each: the platform issues exactly one new token.
func TestTokenRefreshAcrossReplicas(t *testing.T) {
	url := testenv.RedisURL(t)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cleanup := redis.NewClient(opts)
	t.Cleanup(func() { cleanup.Close() })
	prefix := testenv.RedisPrefix(t, cleanup, "token")
	clock := clocktest.New(monday.AddDate(0, 0, 40))
	srv := dt.NewServer(dt.WithCompany(smallCompany()), dt.WithClock(clock.Now), dt.WithLatency(20*time.Millisecond))
	defer srv.Close()

	replicas := make([]*Connector, 3)
	for i := range replicas {
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		cache := coord.NewTokenCache(rdb, prefix, coord.TokenCacheOptions{Now: clock.Now})
		c, err := NewConnector("dingtalk-hq", Config{AppKey: srv.AppKey(), AppSecret: config.Secret(srv.AppSecret()), CorpID: smallCompany().CorpID,
			BaseURL: srv.URL(), RetryWait: time.Millisecond, QPS: 1000}, connectors.Deps{Logger: slog.New(slog.DiscardHandler), Now: clock.Now, Tokens: cache})
		if err != nil {
			t.Fatal(err)
		}
		replicas[i] = c
	}
	ctx := context.Background()
	if _, err := replicas[0].client.token(ctx); err != nil {
		t.Fatal(err)
	}
	// The shared token is about to expire: every replica needs a new one.
	clock.Set(clock.Now().Add(dt.DefaultTokenTTL - time.Minute))
	var wg sync.WaitGroup
	tokens := make(chan string, 30)
	for _, c := range replicas {
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := c.client.token(ctx)
				if err != nil {
					t.Error(err)
				}
				tokens <- tok
			}()
		}
	}
	wg.Wait()
	close(tokens)
	distinct := map[string]bool{}
	for tok := range tokens {
		distinct[tok] = true
	}
	if got := srv.Calls(dt.APIGetToken); got != 2 {
		t.Fatalf("gettoken calls = %d, want 2: the first token and one refresh shared by all three replicas", got)
	}
	if len(distinct) != 1 {
		t.Fatalf("the replicas use %d different tokens, want 1", len(distinct))
	}
}
