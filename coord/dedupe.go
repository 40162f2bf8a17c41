package coord

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultDedupeTTL is how long an event's claim lives: 8 days, longer than
// the 72 hours devices cache offline punches and longer than the pull
// look-back window, so a re-delivery inside either is still recognised.
const DefaultDedupeTTL = 8 * 24 * time.Hour

// claimValue is what a dedupe key holds; only its presence matters.
const claimValue = "1"

// ClaimKey identifies one event for deduplication: its id and the
// fingerprint of its normalized content (mapping.Fingerprint).
type ClaimKey struct {
	EventID     string
	Fingerprint string
}

// Dedupe claims events across replicas before they are written to the
// ledger, so that the same event arriving by webhook at one replica and by
// pull at another is written once.
//
// The protocol is claim → durable write → keep, or release on failure:
//
//  1. Claim the batch. A key that comes back false is held by an earlier
//     or concurrent writer: skip that event.
//  2. Write the claimed events to the ledger.
//  3. On success keep the claims; they expire after the TTL. On failure
//     Release them, so that the platform's retry (or the next pull) can
//     claim them again instead of being dropped as a duplicate.
//
// Dropping an event because its key was merely seen, without the durable
// write behind it, would lose it whenever the writer crashed between claim
// and commit — it would break at-least-once. The claim is therefore an
// optimisation that saves ledger work, never the only guard: the ledger's
// unique key still rejects a duplicate when a claim expired or a crash left
// a claim behind without its write (the retry then finds the event in the
// ledger, or the claim expires after the TTL and the next pull re-writes it).
//
// When Redis cannot be reached Claim and Release return an error wrapping
// ErrUnavailable and nothing should be written: webhooks answer 503 and
// pulls fail the run.
type Dedupe struct {
	rdb  redis.UniversalClient
	keys Keys
	ttl  time.Duration
}

// NewDedupe returns a Dedupe on rdb whose keys live under prefix ("" means
// DefaultPrefix) for ttl (≤ 0 means DefaultDedupeTTL).
func NewDedupe(rdb redis.UniversalClient, prefix string, ttl time.Duration) *Dedupe {
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	return &Dedupe{rdb: rdb, keys: NewKeys(prefix), ttl: ttl}
}

// TTL returns how long a claim lives.
func (d *Dedupe) TTL() time.Duration { return d.ttl }

// Claim claims every key in one pipelined round trip (SET NX PX each).
// claimed[i] is true when keys[i] was newly claimed by this call — write
// that event — and false when another writer holds or held it — skip it.
// A key repeated within the batch is claimed by its first occurrence only.
func (d *Dedupe) Claim(ctx context.Context, keys []ClaimKey) (claimed []bool, err error) {
	if len(keys) == 0 {
		return nil, nil
	}
	names, err := d.names(keys)
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.BoolCmd, len(names))
	_, err = d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			cmds[i] = p.SetNX(ctx, name, claimValue, d.ttl)
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("claim %d dedupe keys", len(keys)), err)
	}
	claimed = make([]bool, len(cmds))
	for i, c := range cmds {
		claimed[i] = c.Val()
	}
	return claimed, nil
}

// Release deletes claims in one round trip, after the ledger write for
// their events failed, so that a retry can claim them again. Release only
// keys that this caller's Claim returned true for: a key another writer
// holds is theirs to keep or release.
func (d *Dedupe) Release(ctx context.Context, keys []ClaimKey) error {
	if len(keys) == 0 {
		return nil
	}
	names, err := d.names(keys)
	if err != nil {
		return err
	}
	// One DEL per key in a pipeline rather than one multi-key DEL: still
	// one round trip, and valid on Redis Cluster where keys span slots.
	_, err = d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, name := range names {
			p.Del(ctx, name)
		}
		return nil
	})
	if err != nil {
		return wrapErr(fmt.Sprintf("release %d dedupe keys", len(keys)), err)
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
