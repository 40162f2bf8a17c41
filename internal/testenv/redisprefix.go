package testenv

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisPrefix returns a key prefix unique to the test, "pbtest:<name>:"
// and a random part, so that parallel tests and packages never share
// keys on the shared Redis, and unlinks every key under it through rdb
// when the test ends. Tests that leave keys behind slow down every later
// one that scans the keyspace.
func RedisPrefix(t testing.TB, rdb redis.UniversalClient, name string) string {
	t.Helper()
	prefix := "pbtest:" + name + ":" + rand.Text()[:12] + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var batch []string
		flush := func() {
			if len(batch) > 0 {
				if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
					t.Errorf("clean up %d keys under %s: %v", len(batch), prefix, err)
				}
				batch = batch[:0]
			}
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 1000 {
				flush()
			}
		}
		flush()
		if err := iter.Err(); err != nil {
			t.Errorf("scan keys under %s: %v", prefix, err)
		}
	})
	return prefix
}
