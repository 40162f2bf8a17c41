package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/jobs"
)

// coordination is what replicas share in Redis: event dedupe, delivery
// leases, job locks and the access-token cache. A deployment without a
// redis: block has none and runs as one process.
type coordination struct {
	rdb        *redis.Client
	keys       coord.Keys // under the config's prefix
	dedupe     *coord.Dedupe
	deliveries *coord.Deliveries
	locker     *coord.Locker
	tokens     *coord.TokenCache
}

// openCoordination connects to the Redis of c; it does not fail when Redis
// is down (that is reported per operation and by /readyz), only when the URL
// is unusable.
func openCoordination(c *config.RedisConfig, now func() time.Time) (*coordination, error) {
	opts, err := redis.ParseURL(c.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w (write redis://[:password@]host:port/db)", errors.Unwrap(err))
	}
	// Operations answer quickly when Redis is gone, so that a webhook gets
	// its 503 well inside the platform's deadline (DingTalk waits 1.5 s):
	// one retry, and short dial and I/O timeouts on loopback-or-LAN Redis.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 300*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	opts.MaxRetries, opts.DialerRetries = 1, 1
	rdb := redis.NewClient(opts)
	return &coordination{
		rdb:        rdb,
		keys:       coord.NewKeys(c.Prefix),
		dedupe:     coord.NewDedupe(rdb, c.Prefix, 0),
		deliveries: coord.NewDeliveries(rdb, c.Prefix, 0),
		locker:     coord.NewLocker(rdb, c.Prefix, now),
		tokens:     coord.NewTokenCache(rdb, c.Prefix, coord.TokenCacheOptions{Now: now}),
	}, nil
}

func (c *coordination) Ping(ctx context.Context) error { return coord.Ping(ctx, c.rdb) }

func (c *coordination) Close() error { return c.rdb.Close() }

// jobLocker adapts coord.Locker to jobs.Locker.
type jobLocker struct{ l *coord.Locker }

func (j jobLocker) TryLock(ctx context.Context, name string, ttl time.Duration) (jobs.Lock, bool, error) {
	lock, ok, err := j.l.TryLock(ctx, name, ttl)
	if err != nil || !ok {
		return nil, ok, err
	}
	return lock, true, nil
}
