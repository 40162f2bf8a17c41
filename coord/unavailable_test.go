package coord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/connectors"
)

// Every operation against a Redis that cannot be reached fails with
// ErrUnavailable, which webhooks turn into 503 and pulls into a failed run.
// It needs no Redis: nothing listens on port 1.
func TestUnreachableRedisIsUnavailable(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond,
		MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	})
	t.Cleanup(func() { rdb.Close() })
	ctx := t.Context()
	key := DeliveryKey{Sink: "hr", EmployeeID: "E1", Date: "2024-05-06", Version: 1}
	fetched := false
	fetch := func(context.Context) (connectors.Token, error) {
		fetched = true
		return connectors.Token{Value: "t", Expires: time.Now().Add(time.Hour)}, nil
	}
	tokens := NewTokenCache(rdb, "", TokenCacheOptions{})
	locks := NewLocker(rdb, "", nil)
	ops := map[string]func() error{
		"Ping":             func() error { return Ping(ctx, rdb) },
		"Dedupe.Claim":     func() error { _, err := NewDedupe(rdb, "", 0).Claim(ctx, claimKeys("e1", "e2")); return err },
		"Dedupe.Release":   func() error { return NewDedupe(rdb, "", 0).Release(ctx, claimKeys("e1")) },
		"Dedupe.Commit":    func() error { return NewDedupe(rdb, "", 0).Commit(ctx, claimKeys("e1")) },
		"Deliveries.Claim": func() error { _, _, err := NewDeliveries(rdb, "", 0).Claim(ctx, key); return err },
		"Delivered":        func() error { _, err := NewDeliveries(rdb, "", 0).Delivered(ctx, key); return err },
		"TryLock":          func() error { _, _, err := locks.TryLock(ctx, "job", time.Minute); return err },
		"TickLock":         func() error { _, err := locks.TickLock(ctx, "job", time.Now(), time.Minute); return err },
		"Token.Get":        func() error { _, _, err := tokens.Get(ctx, tokenKey); return err },
		"Token.Set": func() error {
			return tokens.Set(ctx, tokenKey, connectors.Token{Value: "t", Expires: time.Now().Add(time.Hour)})
		},
		"Token.Delete":  func() error { return tokens.Delete(ctx, tokenKey) },
		"Token.Refresh": func() error { _, err := tokens.Refresh(ctx, tokenKey, fetch); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			if err := op(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("error = %v, want ErrUnavailable", err)
			}
		})
	}
	if fetched {
		t.Error("Refresh fetched a token without the refresh lock")
	}
}

func TestUnavailableClassification(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{io.EOF, true},
		{context.DeadlineExceeded, true},
		{redis.ErrClosed, true},
		{redis.ErrPoolTimeout, true},
		{redisError("LOADING Redis is loading the dataset in memory"), true},
		{redisError("READONLY You can't write against a read only replica."), true},
		{redisError("CLUSTERDOWN The cluster is down"), true},
		{redisError("MASTERDOWN Link with MASTER is down"), true},
		{context.Canceled, false},
		{redisError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{redisError("NOPERM this user has no permissions"), false},
		{errors.New("coord: something else"), false},
	}
	for _, tt := range tests {
		if got := unavailable(tt.err); got != tt.want {
			t.Errorf("unavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
		if wrapped := wrapErr("op", tt.err); errors.Is(wrapped, ErrUnavailable) != tt.want || !errors.Is(wrapped, tt.err) {
			t.Errorf("wrapErr(%v) = %v; ErrUnavailable %v, want %v, and the cause kept", tt.err, wrapped, errors.Is(wrapped, ErrUnavailable), tt.want)
		}
	}
	if wrapErr("op", nil) != nil {
		t.Error("wrapErr(nil) is not nil")
	}
}

// redisError is an error reply as the server sends it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}
