package coord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// DefaultLeaseTTL is how long a delivery claim lasts unless refreshed:
	// long enough for a sink call with its retries, short enough that a
	// crashed replica's delivery is picked up again within minutes.
	DefaultLeaseTTL = 5 * time.Minute

	// DefaultDoneTTL is how long a delivered key says "done" when Done is
	// given no keep. The delivery log holds the answer for good; the key
	// only saves the other replicas a ledger read meanwhile.
	DefaultDoneTTL = 24 * time.Hour

	// doneValue marks a delivery the sink acknowledged. Owner tokens are
	// random text and never equal it.
	doneValue = "done"
)

// DeliveryKey identifies one delivery: one version of one employee-day
// record to one sink.
type DeliveryKey struct {
	Sink       string
	EmployeeID string
	Date       string // YYYY-MM-DD, as in mapping.DayRecord
	Shift      string
	Version    int
}

// Deliveries keeps two replicas from sending the same delivery at once.
//
// The ledger's outbox and delivery log are the truth about what was
// delivered; the Redis claim is a lease that only serialises senders. A
// sender works through each pending outbox entry like this:
//
//  1. Claim the key. False means another replica is sending it or has sent
//     it: leave the entry pending and move on; the next round sees the
//     delivery log.
//  2. With the lease held, read the delivery log again. A replica that
//     crashed after logging but before Done leaves only an expired lease,
//     so the log, not the key, says whether to send.
//  3. Send with the idempotency key of (sink, employee, date, version).
//     Refresh the lease if the send can outlast it.
//  4. After the sink acknowledges, write the delivery log, then call Done
//     so the key says "done" for a while and other replicas skip at step 1.
//     If the send failed, Release the lease so the retry (on any replica,
//     after its backoff) can claim it.
//
// A crash between the sink's acknowledgement and the log write leaves a
// lease that expires after its TTL; a replica then sends again with the
// same idempotency key, which the sink recognises — the push is idempotent
// even though the send is repeated.
//
// ClaimAll, DoneAll and ReleaseAll take a step for a batch of deliveries
// in one round trip, as the push does for each batch it hands a sink.
type Deliveries struct {
	rdb   redis.UniversalClient
	keys  Keys
	lease time.Duration
}

// NewDeliveries returns Deliveries on rdb with keys under prefix ("" means
// DefaultPrefix) and leases of lease (≤ 0 means DefaultLeaseTTL).
func NewDeliveries(rdb redis.UniversalClient, prefix string, lease time.Duration) *Deliveries {
	if lease <= 0 {
		lease = DefaultLeaseTTL
	}
	return &Deliveries{rdb: rdb, keys: NewKeys(prefix), lease: lease}
}

// Claim takes the lease on key. ok is false when another replica holds the
// lease or the key is marked done; the Lease is then the zero value.
func (d *Deliveries) Claim(ctx context.Context, key DeliveryKey) (l Lease, ok bool, err error) {
	if err := key.validate(); err != nil {
		return Lease{}, false, err
	}
	name := d.keys.Deliver(key)
	token := newOwnerToken()
	ok, err = d.rdb.SetNX(ctx, name, token, d.lease).Result()
	if err != nil {
		return Lease{}, false, wrapErr("claim delivery "+name, err)
	}
	if !ok {
		return Lease{}, false, nil
	}
	return Lease{owned{rdb: d.rdb, key: name, token: token}}, true, nil
}

// ClaimAll is Claim for several keys in one pipelined round trip, as the
// push claims a sink's batch of records: ok[i] reports whether leases[i]
// holds keys[i]; where it is false the lease is the zero value. A night
// that pushes a month claimed each day in a round trip of its own.
func (d *Deliveries) ClaimAll(ctx context.Context, keys []DeliveryKey) (leases []Lease, ok []bool, err error) {
	names := make([]string, len(keys))
	for i, key := range keys {
		if err := key.validate(); err != nil {
			return nil, nil, err
		}
		names[i] = d.keys.Deliver(key)
	}
	tokens := make([]string, len(keys))
	cmds := make([]*redis.BoolCmd, len(keys))
	if _, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			tokens[i] = newOwnerToken()
			cmds[i] = p.SetNX(ctx, name, tokens[i], d.lease)
		}
		return nil
	}); err != nil {
		return nil, nil, wrapErr(fmt.Sprintf("claim %d deliveries", len(keys)), err)
	}
	leases, ok = make([]Lease, len(keys)), make([]bool, len(keys))
	for i, c := range cmds {
		if ok[i] = c.Val(); ok[i] {
			leases[i] = Lease{owned{rdb: d.rdb, key: names[i], token: tokens[i]}}
		}
	}
	return leases, ok, nil
}

// DoneAll is Done for several leases, in one pipelined round trip. It
// returns the round trip's error, or else one error naming the leases that
// another replica has claimed since (ErrNotOwner), or nil.
func (d *Deliveries) DoneAll(ctx context.Context, leases []Lease, keep time.Duration) error {
	if keep <= 0 {
		keep = DefaultDoneTTL
	}
	return runOwned(ctx, d.rdb, "mark delivery done", doneScript, leases, doneValue, keep.Milliseconds())
}

// ReleaseAll is Release for several leases, in one pipelined round trip,
// with DoneAll's errors.
func (d *Deliveries) ReleaseAll(ctx context.Context, leases []Lease) error {
	return runOwned(ctx, d.rdb, "release delivery lease", releaseScript, leases)
}

// Delivered reports whether key is marked done. False is not proof of
// anything — the mark expires — so check the delivery log as well.
func (d *Deliveries) Delivered(ctx context.Context, key DeliveryKey) (bool, error) {
	if err := key.validate(); err != nil {
		return false, err
	}
	name := d.keys.Deliver(key)
	v, err := d.rdb.Get(ctx, name).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr("read delivery "+name, err)
	}
	return v == doneValue, nil
}

// Lease is a claim on one delivery held under an owner token. Its methods
// act only while the token still owns the key; otherwise they return
// ErrNotOwner. A Lease may be copied; the copies are the same claim.
type Lease struct {
	o owned
}

// Key returns the Redis key of the claimed delivery.
func (l Lease) Key() string { return l.o.key }

// Refresh extends the lease to ttl from now, for a send that takes longer
// than the lease.
func (l Lease) Refresh(ctx context.Context, ttl time.Duration) error {
	if l.o.rdb == nil {
		return errZeroLease
	}
	return l.o.refresh(ctx, "refresh delivery lease "+l.o.key, ttl)
}

// Release gives the lease up after a failed send, so that a retry can
// claim the delivery.
func (l Lease) Release(ctx context.Context) error {
	if l.o.rdb == nil {
		return errZeroLease
	}
	return l.o.release(ctx, "release delivery lease "+l.o.key)
}

// Done marks the delivery done for keep (≤ 0 means DefaultDoneTTL), after
// the sink acknowledged it and the delivery log recorded it. It succeeds
// when the lease is still held, has expired, or the key is already done;
// it returns ErrNotOwner when another replica has claimed the delivery
// since, which can send it again only under the same idempotency key.
func (l Lease) Done(ctx context.Context, keep time.Duration) error {
	if l.o.rdb == nil {
		return errZeroLease
	}
	if keep <= 0 {
		keep = DefaultDoneTTL
	}
	op := "mark delivery done " + l.o.key
	n, err := doneScript.Run(ctx, l.o.rdb, []string{l.o.key}, l.o.token, doneValue, keep.Milliseconds()).Int()
	if err != nil {
		return wrapErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("coord: %s: %w", op, ErrNotOwner)
	}
	return nil
}

var errZeroLease = errors.New("coord: zero Lease: use the Lease that Deliveries.Claim returned with ok true")

func (k DeliveryKey) validate() error {
	for _, f := range []struct{ name, val string }{
		{"Sink", k.Sink}, {"EmployeeID", k.EmployeeID}, {"Date", k.Date},
	} {
		if f.val == "" {
			return fmt.Errorf("coord: delivery key %+v: %s is empty; set it from the outbox entry", k, f.name)
		}
	}
	if k.Version < 1 {
		return fmt.Errorf("coord: delivery key %+v: Version %d is below 1; use the day record's version", k, k.Version)
	}
	return nil
}
