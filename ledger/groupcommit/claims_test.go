package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/internal/testenv"
)

// gatedClaimer records the calls it gets and holds them at a gate.
type gatedClaimer struct {
	gate chan struct{}
	once sync.Once
	fail error

	mu    sync.Mutex
	calls []string
}

func (c *gatedClaimer) open() { c.once.Do(func() { close(c.gate) }) }

func (c *gatedClaimer) record(op string, keys []coord.ClaimKey) {
	<-c.gate
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.EventID
	}
	c.calls = append(c.calls, fmt.Sprintf("%s %v", op, ids))
}

// Claim answers Claimed for ids without "dup", Done for the others.
func (c *gatedClaimer) Claim(_ context.Context, keys []coord.ClaimKey) ([]coord.ClaimState, error) {
	c.record("claim", keys)
	if c.fail != nil {
		return nil, c.fail
	}
	out := make([]coord.ClaimState, len(keys))
	for i, k := range keys {
		out[i] = coord.Claimed
		if len(k.EventID) > 3 && k.EventID[:3] == "dup" {
			out[i] = coord.Done
		}
	}
	return out, nil
}

func (c *gatedClaimer) Commit(_ context.Context, keys []coord.ClaimKey) error {
	c.record("commit", keys)
	return c.fail
}

func (c *gatedClaimer) Release(_ context.Context, keys []coord.ClaimKey) error {
	c.record("release", keys)
	return c.fail
}

func keys(ids ...string) []coord.ClaimKey {
	out := make([]coord.ClaimKey, len(ids))
	for i, id := range ids {
		out[i] = coord.ClaimKey{EventID: id, Fingerprint: "fp"}
	}
	return out
}

type claimCall struct {
	states []coord.ClaimState
	err    error
	done   chan struct{}
}

func claimAsync(ctx context.Context, c *Claims, op string, ks []coord.ClaimKey) *claimCall {
	cc := &claimCall{done: make(chan struct{})}
	go func() {
		defer close(cc.done)
		switch op {
		case "claim":
			cc.states, cc.err = c.Claim(ctx, ks)
		case "commit":
			cc.err = c.Commit(ctx, ks)
		case "release":
			cc.err = c.Release(ctx, ks)
		}
	}()
	return cc
}

func waitClaimsQueued(t *testing.T, c *Claims, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.b.reqs) < n || (n == 0 && c.b.batches.Load() == 0) {
		if time.Now().After(deadline) {
			t.Fatalf("%d claim requests queued, want %d", len(c.b.reqs), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestClaimsShareOneCallPerOperation queues callers behind a held call and
// checks that the next batch makes one call per operation, in the order
// claim, commit, release, and that each caller gets its own states.
func TestClaimsShareOneCallPerOperation(t *testing.T) {
	inner := &gatedClaimer{gate: make(chan struct{})}
	c := NewClaims(inner, Options{BatchWait: -1})
	t.Cleanup(func() { inner.open(); c.Close() })
	first := claimAsync(t.Context(), c, "claim", keys("e0"))
	waitClaimsQueued(t, c, 0)
	a := claimAsync(t.Context(), c, "claim", keys("e1", "dup2"))
	waitClaimsQueued(t, c, 1)
	rel := claimAsync(t.Context(), c, "release", keys("e9"))
	waitClaimsQueued(t, c, 2)
	b := claimAsync(t.Context(), c, "claim", keys("dup3", "e4", "e5"))
	waitClaimsQueued(t, c, 3)
	com := claimAsync(t.Context(), c, "commit", keys("e7", "e8"))
	waitClaimsQueued(t, c, 4)
	inner.open()
	for _, cc := range []*claimCall{first, a, rel, b, com} {
		<-cc.done
		if cc.err != nil {
			t.Fatal(cc.err)
		}
	}
	if want := []coord.ClaimState{coord.Claimed, coord.Done}; !reflect.DeepEqual(a.states, want) {
		t.Errorf("first caller's states %v, want %v", a.states, want)
	}
	if want := []coord.ClaimState{coord.Done, coord.Claimed, coord.Claimed}; !reflect.DeepEqual(b.states, want) {
		t.Errorf("second caller's states %v, want %v", b.states, want)
	}
	want := []string{"claim [e0]", "claim [e1 dup2 dup3 e4 e5]", "commit [e7 e8]", "release [e9]"}
	if !reflect.DeepEqual(inner.calls, want) {
		t.Errorf("calls %q, want %q", inner.calls, want)
	}
}

// TestClaimsFailureReachesEveryCaller checks that the error of a shared
// call is every caller's.
func TestClaimsFailureReachesEveryCaller(t *testing.T) {
	inner := &gatedClaimer{gate: make(chan struct{}), fail: coord.ErrUnavailable}
	c := NewClaims(inner, Options{BatchWait: -1})
	t.Cleanup(func() { inner.open(); c.Close() })
	first := claimAsync(t.Context(), c, "claim", keys("e0"))
	waitClaimsQueued(t, c, 0)
	var calls []*claimCall
	for i := range 4 {
		calls = append(calls, claimAsync(t.Context(), c, "claim", keys(fmt.Sprintf("e%d", i+1))))
		waitClaimsQueued(t, c, i+1)
	}
	inner.open()
	for _, cc := range append(calls, first) {
		<-cc.done
		if !errors.Is(cc.err, coord.ErrUnavailable) {
			t.Errorf("err %v, want coord.ErrUnavailable", cc.err)
		}
	}
}

// TestClaimsOnRedis races callers claiming overlapping keys through
// coord.Dedupe: each key is Claimed by exactly one caller, and once
// committed every caller sees it Done.
func TestClaimsOnRedis(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() }) // after the prefix's keys are deleted
	prefix := testenv.RedisPrefix(t, rdb, "groupcommit")
	c := NewClaims(coord.NewDedupe(rdb, prefix, time.Hour), Options{})
	defer c.Close()
	const callers = 20
	claimed := make([][]coord.ClaimState, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			// Caller i claims keys i..i+4: neighbours overlap.
			var ids []string
			for k := range 5 {
				ids = append(ids, fmt.Sprintf("e%d", i+k))
			}
			st, err := c.Claim(t.Context(), keys(ids...))
			if err != nil {
				t.Error(err)
				return
			}
			claimed[i] = st
		})
	}
	wg.Wait()
	owners := map[int]int{}
	for i, st := range claimed {
		if len(st) != 5 {
			t.Fatalf("caller %d got %d states, want 5", i, len(st))
		}
		for k, s := range st {
			if s == coord.Claimed {
				owners[i+k]++
			}
		}
	}
	for k := range callers + 4 {
		if owners[k] != 1 {
			t.Errorf("key e%d claimed by %d callers, want 1", k, owners[k])
		}
	}
	all := make([]string, callers+4)
	for k := range all {
		all[k] = fmt.Sprintf("e%d", k)
	}
	if err := c.Commit(t.Context(), keys(all...)); err != nil {
		t.Fatal(err)
	}
	st, err := c.Claim(t.Context(), keys("e3", "e17"))
	if err != nil || !reflect.DeepEqual(st, []coord.ClaimState{coord.Done, coord.Done}) {
		t.Errorf("after commit: %v, %v; want both Done", st, err)
	}
}

// TestClaimsCommitLater: CommitLater returns while the writer is still
// busy, its keys are committed with the next batch, a failure of that
// commit reaches failed, and after Close nothing is handed over.
func TestClaimsCommitLater(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail error
	}{{"committed", nil}, {"failed", coord.ErrUnavailable}} {
		t.Run(tc.name, func(t *testing.T) {
			inner := &gatedClaimer{gate: make(chan struct{}), fail: tc.fail}
			c := NewClaims(inner, Options{BatchWait: -1})
			t.Cleanup(func() { inner.open(); c.Close() })
			busy := claimAsync(t.Context(), c, "claim", keys("e0")) // holds the writer at the gate
			waitClaimsQueued(t, c, 0)
			failures := make(chan error, 1)
			if err := c.CommitLater(t.Context(), keys("e1", "e2"), func(err error) { failures <- err }); err != nil {
				t.Fatalf("CommitLater: %v", err)
			}
			// It returned with the writer held: nothing was committed yet.
			if got := len(c.b.reqs); got != 1 {
				t.Fatalf("%d requests queued, want the commit", got)
			}
			inner.open()
			<-busy.done
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			inner.mu.Lock()
			calls := append([]string(nil), inner.calls...)
			inner.mu.Unlock()
			if want := []string{"claim [e0]", "commit [e1 e2]"}; !reflect.DeepEqual(calls, want) {
				t.Errorf("calls %v, want %v", calls, want)
			}
			select {
			case err := <-failures:
				if tc.fail == nil || !errors.Is(err, tc.fail) {
					t.Errorf("failed heard %v, want %v", err, tc.fail)
				}
			default:
				if tc.fail != nil {
					t.Error("the commit's failure did not reach failed")
				}
			}
			if err := c.CommitLater(t.Context(), keys("e3"), nil); !errors.Is(err, ErrClosed) {
				t.Errorf("CommitLater after Close: %v, want ErrClosed", err)
			}
		})
	}
}
