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

// runOwned runs script on every lease's key with its owner token and
// args, in one pipeline, and reports the keys it answered 0 for (another
// owner holds them) as ErrNotOwner. The scripts go by hash; a server that
// does not hold one (after a restart) answers NOSCRIPT, and the script is
// loaded and the pipeline sent again.
func runOwned(ctx context.Context, rdb redis.UniversalClient, op string, script *redis.Script, leases []Lease, args ...any) error {
	for _, l := range leases {
		if l.o.rdb == nil {
			return errZeroLease
		}
	}
	if len(leases) == 0 {
		return nil
	}
	run := func() ([]*redis.Cmd, error) {
		cmds := make([]*redis.Cmd, len(leases))
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, l := range leases {
				cmds[i] = script.EvalSha(ctx, p, []string{l.o.key}, append([]any{l.o.token}, args...)...)
			}
			return nil
		})
		return cmds, err
	}
	cmds, err := run()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err = script.Load(ctx, rdb).Err(); err == nil {
			cmds, err = run()
		}
	}
	if err != nil {
		return wrapErr(fmt.Sprintf("%s of %d keys", op, len(leases)), err)
	}
	var lost []string
	for i, c := range cmds {
		if n, _ := c.Int(); n == 0 {
			lost = append(lost, leases[i].o.key)
		}
	}
	if len(lost) > 0 {
		return fmt.Errorf("coord: %s of %d keys: %d held by another owner, the first %s: %w", op, len(leases), len(lost), lost[0], ErrNotOwner)
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
