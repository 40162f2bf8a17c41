package coord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultDedupeTTL is how long an event's claim lives: 8 days, longer than
// the 72 hours devices cache offline punches and longer than the pull
// look-back window, so a re-delivery inside either is still recognised.
const DefaultDedupeTTL = 8 * 24 * time.Hour

// Claim values: a writer holds a key as pending while its ledger write is
// under way, and marks it done once the write committed.
const (
	valuePending = "pending"
	valueDone    = "done"
)

// DefaultLease is how long a pending claim lives when its writer neither
// commits nor releases it (the process died mid-write): long enough for any
// ledger write, short enough that the platform's retry finds it gone.
const DefaultLease = 2 * time.Minute

// ClaimKey identifies one event for deduplication: its id and the
// fingerprint of its normalized content (mapping.Fingerprint).
type ClaimKey struct {
	EventID     string
	Fingerprint string
}

// ClaimState is what a claim found.
type ClaimState int

// Claim outcomes.
const (
	// Claimed: the key is now this writer's, pending: write the event, then
	// Commit or Release.
	Claimed ClaimState = iota + 1
	// Done: an earlier writer committed this event; it is a duplicate.
	Done
	// InFlight: another writer holds the key but has not committed. Its
	// write may still fail, or it may have died; write the event anyway and
	// let the ledger's unique key decide.
	InFlight
)

// Dedupe claims events across replicas before they are written to the
// ledger, so that the same event arriving by webhook at one replica and by
// pull at another is written once.
//
// The protocol is claim → durable write → commit, or release on failure:
//
//  1. Claim the batch: each key is set pending with a short lease.
//  2. Write the Claimed and InFlight events to the ledger; skip the Done
//     ones, which are duplicates of a committed write.
//  3. On success Commit the claimed keys: they say done for the TTL. On
//     failure Release them, so that a retry can claim them again.
//
// Only a committed key makes a later copy a duplicate. Treating a key as a
// duplicate because it was merely seen would lose the event whenever its
// writer died between claim and commit (STYLE.md: a dedupe that drops on
// "seen" breaks at-least-once); here such a key stays pending only until
// its lease ends, and meanwhile other writers go through to the ledger,
// whose unique key (id + fingerprint) is the final guard.
//
// When Redis cannot be reached every method returns an error wrapping
// ErrUnavailable and nothing should be written: webhooks answer 503 and
// pulls fail the run.
type Dedupe struct {
	rdb   redis.UniversalClient
	keys  Keys
	ttl   time.Duration
	lease time.Duration
	// noSetGet is set once the server refused SET NX GET.
	noSetGet atomic.Bool
}

// NewDedupe returns a Dedupe on rdb whose keys live under prefix ("" means
// DefaultPrefix); committed keys live for ttl (≤ 0 means DefaultDedupeTTL),
// pending ones for DefaultLease.
func NewDedupe(rdb redis.UniversalClient, prefix string, ttl time.Duration) *Dedupe {
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	return &Dedupe{rdb: rdb, keys: NewKeys(prefix), ttl: ttl, lease: DefaultLease}
}

// TTL returns how long a committed claim lives.
func (d *Dedupe) TTL() time.Duration { return d.ttl }

// Claim claims every key in one pipelined round trip and reports, per
// key, whether it is now this writer's (Claimed), a committed duplicate
// (Done) or another writer's unfinished claim (InFlight). A key repeated
// within the batch is Claimed by its first occurrence and InFlight after.
//
// Each key is one SET NX PX ... GET, which sets the claim and returns what
// the key held before in one command (Redis 7.0 and later); a server that
// refuses it (older Redis answers a syntax error) is sent a SET NX PX and
// a GET per key instead, from then on.
func (d *Dedupe) Claim(ctx context.Context, keys []ClaimKey) ([]ClaimState, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	names, err := d.names(keys)
	if err != nil {
		return nil, err
	}
	if !d.noSetGet.Load() {
		states, err := d.claimSetGet(ctx, names)
		if !refusedSetGet(err) {
			if err != nil {
				return nil, wrapErr(fmt.Sprintf("claim %d dedupe keys", len(keys)), err)
			}
			return states, nil
		}
		d.noSetGet.Store(true)
	}
	states, err := d.claimSetNXGet(ctx, names)
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("claim %d dedupe keys", len(keys)), err)
	}
	return states, nil
}

// claimSetGet claims names with one SET NX GET each: no old value means
// the claim is this writer's.
func (d *Dedupe) claimSetGet(ctx context.Context, names []string) ([]ClaimState, error) {
	cmds := make([]*redis.StatusCmd, len(names))
	_, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			cmds[i] = p.SetArgs(ctx, name, valuePending, redis.SetArgs{Mode: "NX", TTL: d.lease, Get: true})
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	states := make([]ClaimState, len(names))
	for i, c := range cmds {
		old, err := c.Result()
		switch {
		case errors.Is(err, redis.Nil):
			states[i] = Claimed
		case err != nil:
			return nil, err
		case old == valueDone:
			states[i] = Done
		default:
			states[i] = InFlight
		}
	}
	return states, nil
}

// claimSetNXGet claims names with a SET NX and a GET each, for servers
// before Redis 7.0.
func (d *Dedupe) claimSetNXGet(ctx context.Context, names []string) ([]ClaimState, error) {
	sets := make([]*redis.BoolCmd, len(names))
	gets := make([]*redis.StringCmd, len(names))
	_, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			sets[i] = p.SetNX(ctx, name, valuePending, d.lease)
			gets[i] = p.Get(ctx, name)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	states := make([]ClaimState, len(names))
	for i := range names {
		switch {
		case sets[i].Val():
			states[i] = Claimed
		case gets[i].Val() == valueDone:
			states[i] = Done
		default:
			states[i] = InFlight
		}
	}
	return states, nil
}

// refusedSetGet reports whether err is the server's refusal of SET with
// both NX and GET, which Redis accepts since 7.0 and answers with a syntax
// error before.
func refusedSetGet(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.Contains(rerr.Error(), "syntax error")
}

// Commit marks keys done for the TTL, after the ledger committed their
// events, in one round trip.
func (d *Dedupe) Commit(ctx context.Context, keys []ClaimKey) error {
	return d.each(ctx, "commit", keys, func(p redis.Pipeliner, name string) {
		p.Set(ctx, name, valueDone, d.ttl)
	})
}

// Release deletes claims in one round trip, after the ledger write for
// their events failed, so that a retry can claim them again. Release only
// keys that this caller's Claim returned Claimed for: a key another writer
// holds is theirs to commit or release.
func (d *Dedupe) Release(ctx context.Context, keys []ClaimKey) error {
	// One DEL per key in a pipeline rather than one multi-key DEL: still
	// one round trip, and valid on Redis Cluster where keys span slots.
	return d.each(ctx, "release", keys, func(p redis.Pipeliner, name string) {
		p.Del(ctx, name)
	})
}

func (d *Dedupe) each(ctx context.Context, op string, keys []ClaimKey, cmd func(redis.Pipeliner, string)) error {
	if len(keys) == 0 {
		return nil
	}
	names, err := d.names(keys)
	if err != nil {
		return err
	}
	_, err = d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, name := range names {
			cmd(p, name)
		}
		return nil
	})
	if err != nil {
		return wrapErr(fmt.Sprintf("%s %d dedupe keys", op, len(keys)), err)
	}
	return nil
}

// names builds the Redis keys for a batch, rejecting incomplete ClaimKeys.
func (d *Dedupe) names(keys []ClaimKey) ([]string, error) {
	names := make([]string, len(keys))
	for i, k := range keys {
		switch {
		case k.EventID == "":
			return nil, fmt.Errorf("coord: dedupe key %d: EventID is empty; set it to the event's id", i)
		case k.Fingerprint == "":
			return nil, fmt.Errorf("coord: dedupe key %d (event %q): Fingerprint is empty; set it to mapping.Fingerprint of the event", i, k.EventID)
		}
		names[i] = d.keys.Dedupe(k.EventID, k.Fingerprint)
	}
	return names, nil
}
