package coord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Locker takes distributed locks: a named lock held while a job runs, and
// a tick lock that lets each scheduled cron tick run on one replica only.
type Locker struct {
	rdb  redis.UniversalClient
	keys Keys
	now  func() time.Time
}

// NewLocker returns a Locker on rdb with keys under prefix ("" means
// DefaultPrefix). now is the clock that decides when a lock whose renewals
// keep failing must be presumed lost; nil means time.Now.
func NewLocker(rdb redis.UniversalClient, prefix string, now func() time.Time) *Locker {
	if now == nil {
		now = time.Now
	}
	return &Locker{rdb: rdb, keys: NewKeys(prefix), now: now}
}

// TryLock takes the lock name for ttl under a fresh random owner token,
// without waiting. ok is false, with a nil Lock, when another owner holds
// it. Keep it with KeepAlive while the work runs; Release it when done.
func (l *Locker) TryLock(ctx context.Context, name string, ttl time.Duration) (lk *Lock, ok bool, err error) {
	op := fmt.Sprintf("take lock %q", name)
	if err := checkTTL(op, ttl); err != nil {
		return nil, false, err
	}
	lk, ok, err = l.take(ctx, l.keys.Lock(name), ttl)
	if err != nil {
		return nil, false, wrapErr(op, err)
	}
	return lk, ok, nil
}

// take sets key to a fresh owner token unless it exists; the error is
// Redis's, unwrapped.
func (l *Locker) take(ctx context.Context, key string, ttl time.Duration) (*Lock, bool, error) {
	token := newOwnerToken()
	start := l.now()
	ok, err := l.rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	return &Lock{
		o:          owned{rdb: l.rdb, key: key, token: token},
		now:        l.now,
		ttl:        ttl,
		validUntil: start.Add(ttl),
		lost:       make(chan struct{}),
	}, true, nil
}

// TickLock makes each scheduled tick of a cron job run exactly once
// across replicas: every replica fires the tick and calls TickLock, and
// only the first gets true and runs it. The key is not released after the
// run; it expires after ttl, so a replica that fires the same tick late
// (clock skew, a slow start, catch-up after a restart) still gets false.
// Choose ttl longer than any replica can lag, and at least the job's
// interval; a day is a safe value for nightly jobs.
//
// A tick taken by a replica that then crashes is not run by another
// replica; the run history in the ledger shows it missing, and catch-up at
// start-up runs it. To keep two runs of one job from overlapping, hold a
// TryLock on the job's name with KeepAlive during the run as well.
func (l *Locker) TickLock(ctx context.Context, job string, tick time.Time, ttl time.Duration) (bool, error) {
	op := fmt.Sprintf("take tick %s of job %q", tick.UTC().Format(time.RFC3339), job)
	if err := checkTTL(op, ttl); err != nil {
		return false, err
	}
	ok, err := l.rdb.SetNX(ctx, l.keys.Tick(job, tick), newOwnerToken(), ttl).Result()
	if err != nil {
		return false, wrapErr(op, err)
	}
	return ok, nil
}

// Lock is a held distributed lock. Refresh and Release act only while its
// owner token still owns the key, so a lock that expired and was taken by
// another replica is never extended or deleted by its former owner. Its
// methods are safe for concurrent use; run one KeepAlive at a time.
type Lock struct {
	o   owned
	now func() time.Time

	mu         sync.Mutex
	ttl        time.Duration
	validUntil time.Time // lower bound of the key's expiry, by our clock

	lost     chan struct{}
	lostOnce sync.Once
}

// Key returns the lock's Redis key.
func (k *Lock) Key() string { return k.o.key }

// Lost is closed once the lock is known lost: a refresh found another
// owner or no key, or renewals failed until the lock's ttl ran out. Work
// guarded by the lock should stop when it closes.
func (k *Lock) Lost() <-chan struct{} { return k.lost }

// Refresh extends the lock to ttl from now if it is still the owner, and
// makes ttl the one KeepAlive renews to. Losing ownership returns
// ErrNotOwner and closes Lost.
func (k *Lock) Refresh(ctx context.Context, ttl time.Duration) error {
	start := k.now()
	err := k.o.refresh(ctx, "refresh lock "+k.o.key, ttl)
	switch {
	case err == nil:
		k.mu.Lock()
		k.ttl, k.validUntil = ttl, start.Add(ttl)
		k.mu.Unlock()
	case errors.Is(err, ErrNotOwner):
		k.markLost()
	}
	return err
}

// Release deletes the lock if it is still the owner; otherwise it returns
// ErrNotOwner and leaves the key alone. Pass a context that is not already
// cancelled (context.WithoutCancel of the job's) so a cancelled job still
// frees its lock.
func (k *Lock) Release(ctx context.Context) error {
	err := k.o.release(ctx, "release lock "+k.o.key)
	if errors.Is(err, ErrNotOwner) {
		k.markLost()
	}
	return err
}

// KeepAlive refreshes the lock to its ttl every interval (≤ 0 means a
// third of the ttl) until stop is called or ctx ends. When the lock is
// lost it closes Lost and stops renewing. A renewal that fails because
// Redis is unreachable is retried at the next interval; once the last
// successful renewal's ttl has run out the lock is presumed lost, because
// another replica may hold it by then. stop waits for the renewing
// goroutine to finish and may be called more than once.
func (k *Lock) KeepAlive(ctx context.Context, every time.Duration) (stop func()) {
	k.mu.Lock()
	if every <= 0 {
		every = k.ttl / 3
	}
	k.mu.Unlock()
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-quit:
				return
			case <-k.lost:
				return
			case <-t.C:
			}
			if !k.renew(ctx, every) {
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// renew makes one KeepAlive renewal and reports whether to keep going.
func (k *Lock) renew(ctx context.Context, every time.Duration) bool {
	k.mu.Lock()
	ttl := k.ttl
	k.mu.Unlock()
	// A renewal that hangs must not stall the loop until the lock expires.
	rctx, cancel := context.WithTimeout(ctx, max(every, ttl/3))
	err := k.Refresh(rctx, ttl)
	cancel()
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNotOwner), ctx.Err() != nil:
		return false
	}
	k.mu.Lock()
	expired := !k.now().Before(k.validUntil)
	k.mu.Unlock()
	if expired {
		k.markLost()
		return false
	}
	return true
}

func (k *Lock) markLost() {
	k.lostOnce.Do(func() { close(k.lost) })
}
