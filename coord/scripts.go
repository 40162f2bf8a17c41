package coord

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The scripts compare the caller's owner token before touching a key, so
// a replica whose claim expired cannot extend, delete or complete the
// claim of the replica that took it over. Each touches one key, which
// keeps them valid on Redis Cluster.
var (
	// KEYS[1] key, ARGV[1] owner token, ARGV[2] ttl in ms → 1 or 0.
	refreshScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

	// KEYS[1] key, ARGV[1] owner token → 1 or 0.
	releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

	// KEYS[1] key, ARGV[1] owner token, ARGV[2] done value, ARGV[3] keep
	// in ms → 1 when the key now says done, 0 when another owner holds it.
	// An expired (absent) lease still counts as ours: the send succeeded.
	doneScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v == ARGV[2] then
	return 1
end
if v == ARGV[1] or v == false then
	redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
	return 1
end
return 0`)
)

// owned is a key held under a random owner token; Lock and Lease share it.
type owned struct {
	rdb   redis.UniversalClient
	key   string
	token string
}

// refresh sets the key's ttl again if the caller still owns it.
func (o owned) refresh(ctx context.Context, op string, ttl time.Duration) error {
	if err := checkTTL(op, ttl); err != nil {
		return err
	}
	n, err := refreshScript.Run(ctx, o.rdb, []string{o.key}, o.token, ttl.Milliseconds()).Int()
	if err != nil {
		return wrapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("coord: %s: %w", op, ErrNotOwner)
	}
	return nil
}

// release deletes the key if the caller still owns it.
func (o owned) release(ctx context.Context, op string) error {
	n, err := releaseScript.Run(ctx, o.rdb, []string{o.key}, o.token).Int()
	if err != nil {
		return wrapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("coord: %s: %w", op, ErrNotOwner)
	}
	return nil
}

// newOwnerToken returns 128 random bits as text: unguessable and unique
// per claim, so one replica can never act on another's claim.
func newOwnerToken() string {
	return rand.Text()
}

// checkTTL rejects ttls Redis cannot express in milliseconds.
func checkTTL(op string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("coord: %s: ttl %s is below 1ms; give it a positive duration such as 30s", op, ttl)
	}
	return nil
}
