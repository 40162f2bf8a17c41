package coord

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestLockOwnerSemantics(t *testing.T) {
	prefix := testPrefix(t)
	rdb := newClient(t)
	a := NewLocker(rdb, prefix, nil)
	b := NewLocker(newClient(t), prefix, nil)
	ctx := t.Context()
	key := NewKeys(prefix).Lock("nightly")

	first, ok, err := a.TryLock(ctx, "nightly", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v; want it taken", ok, err)
	}
	if first.Key() != key {
		t.Errorf("lock key = %q, want %q", first.Key(), key)
	}
	if lk, ok, err := b.TryLock(ctx, "nightly", time.Minute); err != nil || ok || lk != nil {
		t.Fatalf("TryLock while held = %v, %v, %v; want nil, false, nil", lk, ok, err)
	}

	// The first owner stalls past its ttl and another replica takes over.
	if err := rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	second, ok, err := b.TryLock(ctx, "nightly", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock after expiry = %v, %v; want it taken", ok, err)
	}
	if err := first.Refresh(ctx, time.Hour); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Refresh by the former owner = %v, want ErrNotOwner", err)
	}
	if err := first.Release(ctx); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Release by the former owner = %v, want ErrNotOwner", err)
	}
	select {
	case <-first.Lost():
	default:
		t.Error("the former owner's Lost is still open")
	}
	assertTTL(t, rdb, key, time.Minute) // untouched by the former owner

	if err := second.Refresh(ctx, time.Hour); err != nil {
		t.Fatalf("Refresh by the owner: %v", err)
	}
	assertTTL(t, rdb, key, time.Hour)
	if err := second.Release(ctx); err != nil {
		t.Fatalf("Release by the owner: %v", err)
	}
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("lock key still exists after Release (%d, %v)", n, err)
	}
	if err := second.Release(ctx); !errors.Is(err, ErrNotOwner) {
		t.Errorf("second Release = %v, want ErrNotOwner", err)
	}
	if _, _, err := a.TryLock(ctx, "nightly", 0); err == nil {
		t.Error("TryLock with a zero ttl succeeded")
	}
}

func TestKeepAliveRenewsAndReportsLoss(t *testing.T) {
	prefix := testPrefix(t)
	rdb := newClient(t)
	ctx := t.Context()
	lk, ok, err := NewLocker(rdb, prefix, nil).TryLock(ctx, "push", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	// Pretend most of the ttl has passed; KeepAlive must restore it.
	if err := rdb.PExpire(ctx, lk.Key(), 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	stop := lk.KeepAlive(ctx, 2*time.Millisecond)
	defer stop()
	eventually(t, "KeepAlive renews the lock to its ttl", func() bool {
		return pttl(t, rdb, lk.Key()) > 50*time.Second
	})

	// Another replica takes the key over: the next renewal notices.
	if err := rdb.Set(ctx, lk.Key(), "another-owner", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lk.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost not closed after the lock was taken over")
	}
	stop()
	stop() // idempotent
	if v := rdb.Get(ctx, lk.Key()).Val(); v != "another-owner" {
		t.Errorf("lock value = %q after loss, want the new owner's", v)
	}
}

// When renewals fail because Redis is gone, the lock is presumed lost once
// its ttl has run out by the injected clock, not before.
func TestKeepAlivePresumesLossAfterTTL(t *testing.T) {
	fault := &faultHook{}
	clock := newFakeClock()
	rdb := newClient(t, fault)
	lk, ok, err := NewLocker(rdb, testPrefix(t), clock.Now).TryLock(t.Context(), "push", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	fault.set(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	stop := lk.KeepAlive(t.Context(), time.Millisecond)
	defer stop()

	// Renewals fail, but the ttl has not run out: the lock is still ours.
	eventually(t, "several failed renewals", func() bool { return fault.failed.Load() > 5 })
	select {
	case <-lk.Lost():
		t.Fatal("lock presumed lost before its ttl ran out")
	default:
	}
	clock.Advance(time.Minute)
	select {
	case <-lk.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost not closed after renewals failed for the whole ttl")
	}
}

// Three replicas fire the same 50 ticks; each tick runs exactly once, and
// a replica firing a tick late does not run it again.
func TestTickLockRunsEachTickOnce(t *testing.T) {
	prefix := testPrefix(t)
	const replicas, ticks = 3, 50
	base := time.Date(2024, 5, 6, 2, 0, 0, 0, time.UTC)
	var runs [ticks]atomic.Int32
	var wg sync.WaitGroup
	for r := range replicas {
		l := NewLocker(newClient(t), prefix, nil)
		wg.Go(func() {
			for i := range ticks {
				ok, err := l.TickLock(t.Context(), "nightly", base.Add(time.Duration(i)*time.Minute), time.Hour)
				if err != nil {
					t.Errorf("replica %d tick %d: %v", r, i, err)
					return
				}
				if ok {
					runs[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range runs {
		if n := runs[i].Load(); n != 1 {
			t.Errorf("tick %d ran %d times, want 1", i, n)
		}
	}

	rdb := newClient(t)
	late := NewLocker(rdb, prefix, nil)
	if ok, err := late.TickLock(t.Context(), "nightly", base, time.Hour); err != nil || ok {
		t.Errorf("late TickLock = %v, %v; want refused", ok, err)
	}
	if ok, err := late.TickLock(t.Context(), "hourly", base, time.Hour); err != nil || !ok {
		t.Errorf("another job's tick = %v, %v; want taken", ok, err)
	}
	assertTTL(t, rdb, NewKeys(prefix).Tick("nightly", base), time.Hour)
}
