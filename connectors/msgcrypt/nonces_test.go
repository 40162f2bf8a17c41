package msgcrypt

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/internal/clocktest"
)

func mustSeen(t *testing.T, m *MemoryNonces, key string, ttl time.Duration) bool {
	t.Helper()
	seen, err := m.Seen(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("Seen(%q): %v", key, err)
	}
	return seen
}

func TestMemoryNoncesExpiry(t *testing.T) {
	clk := clocktest.New(time.Unix(1700000000, 0))
	m := NewMemoryNonces(clk.Now)
	if mustSeen(t, m, "a", time.Minute) {
		t.Fatal("new key reported seen")
	}
	clk.Advance(59 * time.Second)
	if !mustSeen(t, m, "a", time.Minute) {
		t.Fatal("key forgotten before its ttl")
	}
	// A repeat does not extend the first expiry.
	clk.Advance(time.Second)
	if mustSeen(t, m, "a", time.Minute) {
		t.Fatal("key remembered past its ttl")
	}
	// Expired keys are dropped as time passes, not kept forever.
	for i := range 10 {
		mustSeen(t, m, fmt.Sprint("k", i), time.Second)
	}
	clk.Advance(2 * time.Minute)
	mustSeen(t, m, "b", time.Minute)
	if n := m.Len(); n != 1 {
		t.Errorf("Len = %d after expiry, want 1", n)
	}
}

func TestMemoryNoncesLimit(t *testing.T) {
	clk := clocktest.New(time.Unix(1700000000, 0))
	m := NewMemoryNoncesLimit(clk.Now, 3)
	for _, k := range []string{"a", "b", "c", "d"} {
		if mustSeen(t, m, k, time.Hour) {
			t.Fatalf("%s reported seen", k)
		}
	}
	if n := m.Len(); n != 3 {
		t.Errorf("Len = %d, want the limit 3", n)
	}
	// The oldest key went first; the newer ones are still remembered.
	for _, k := range []string{"d", "c", "b"} {
		if !mustSeen(t, m, k, time.Hour) {
			t.Errorf("%s was dropped", k)
		}
	}
	if mustSeen(t, m, "a", time.Hour) {
		t.Error("a should have been dropped as the oldest")
	}
	// The queue stays within twice the limit however many keys pass.
	for i := range 1000 {
		mustSeen(t, m, fmt.Sprint("k", i), time.Hour)
		if q := len(m.shards[0].queue); q > 2*3+1 {
			t.Fatalf("queue holds %d entries for a limit of 3", q)
		}
	}
	if heldLimit(NewMemoryNoncesLimit(nil, 0)) != DefaultNonceLimit || heldLimit(NewMemoryNonces(nil)) != DefaultNonceLimit {
		t.Error("default limit not applied")
	}
}

// heldLimit is how many keys m holds at most: its shards' shares.
func heldLimit(m *MemoryNonces) int {
	n := 0
	for i := range m.shards {
		n += m.shards[i].limit
	}
	return n
}

func TestMemoryNoncesForget(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Unix(1700000000, 0))
	m := NewMemoryNoncesLimit(clk.Now, 2)
	mustSeen(t, m, "a", time.Minute)
	if err := m.Forget(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if mustSeen(t, m, "a", time.Minute) {
		t.Fatal("forgotten key reported seen")
	}
	// The stale queue entry of the first "a" must not drop the second
	// when it is popped by the limit.
	mustSeen(t, m, "b", time.Minute)
	if !mustSeen(t, m, "a", time.Minute) {
		t.Error("re-recorded key dropped with its forgotten predecessor")
	}
	if err := m.Forget(ctx, "never"); err != nil {
		t.Errorf("Forget of an unknown key: %v", err)
	}
}

func TestMemoryNoncesBadInput(t *testing.T) {
	m := NewMemoryNonces(nil)
	if _, err := m.Seen(context.Background(), "a", 0); err == nil {
		t.Error("zero ttl accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Seen(ctx, "a", time.Minute); err == nil {
		t.Error("canceled context accepted")
	}
	if err := m.Forget(ctx, "a"); err == nil {
		t.Error("Forget with a canceled context accepted")
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d after rejected calls", m.Len())
	}
}

// TestMemoryNoncesShards checks a store large enough to be split into
// shards: the shards' shares add up to the limit, concurrent callers see
// each key unseen exactly once, and many more keys than the limit leave
// it full, not over.
func TestMemoryNoncesShards(t *testing.T) {
	for _, tc := range []struct {
		limit, shards int
	}{
		{3, 1},
		{2047, 1},
		{10_000, 9},
		{DefaultNonceLimit, nonceShards},
	} {
		m := NewMemoryNoncesLimit(nil, tc.limit)
		sum := heldLimit(m)
		if len(m.shards) != tc.shards || sum != tc.limit {
			t.Errorf("limit %d: %d shards holding %d keys in all, want %d shards holding %d", tc.limit, len(m.shards), sum, tc.shards, tc.limit)
		}
	}

	clk := clocktest.New(time.Unix(1700000000, 0))
	const limit, keys, callers = 10_000, 5_000, 8
	m := NewMemoryNoncesLimit(clk.Now, limit)
	var unseen atomic.Int64
	var wg sync.WaitGroup
	for range callers { // every caller records the same keys
		wg.Go(func() {
			for i := range keys {
				if !mustSeen(t, m, fmt.Sprint("nonce-", i), time.Hour) {
					unseen.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if unseen.Load() != keys || m.Len() != keys {
		t.Fatalf("%d keys reported unseen by %d callers, Len %d; want each once: %d", unseen.Load(), callers, m.Len(), keys)
	}
	for i := range 20 * limit {
		mustSeen(t, m, fmt.Sprint("more-", i), time.Hour)
	}
	if n := m.Len(); n != limit {
		t.Errorf("Len = %d after %d more keys, want the limit %d", n, 20*limit, limit)
	}
}
