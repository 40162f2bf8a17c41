package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

func redisClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	// Fail fast while the server is down instead of retrying for seconds.
	opts.DialTimeout, opts.MaxRetries = 200*time.Millisecond, -1
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// testPrefix returns a key prefix unique to the test, whose keys are
// deleted through rdb when the test ends.
func testPrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	return testenv.RedisPrefix(t, rdb, "ingest")
}

func punches(n int) []mapping.Event {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	out := make([]mapping.Event, n)
	for i := range out {
		out[i] = punch(fmt.Sprintf("u%d", i%5+1), t0.Add(time.Duration(i)*time.Minute))
	}
	return out
}

func openLedger(t *testing.T) ledger.Ledger {
	t.Helper()
	l, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestReplicasStoreOnce: two replicas share a ledger and Redis and receive
// the same events at once (a webhook at one, a pull at the other); each
// event is stored once and the other copy is counted as a duplicate.
func TestReplicasStoreOnce(t *testing.T) {
	url := testenv.RedisURL(t)
	l := openLedger(t)
	prefix := testPrefix(t, redisClient(t, url))
	ids := mapping.NewIdentities()
	events := punches(50)
	var wg sync.WaitGroup
	counts := make([]Counts, 2)
	for r := range 2 {
		in := New(l, ids, dayCalendar{}, nil).WithClaimer(coord.NewDedupe(redisClient(t, url), prefix, 0))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := in.Ingest(context.Background(), events)
			if err != nil {
				t.Error(err)
			}
			counts[r] = c
		}()
	}
	wg.Wait()
	if stored := counts[0].Stored + counts[1].Stored; stored != 50 {
		t.Fatalf("stored %d (%+v), want each of 50 events once", stored, counts)
	}
	if dups := counts[0].Duplicates + counts[1].Duplicates; dups != 50 {
		t.Fatalf("duplicates %d, want 50", dups)
	}
	// A third copy later is a committed duplicate, caught in Redis.
	c, err := New(l, ids, dayCalendar{}, nil).WithClaimer(coord.NewDedupe(redisClient(t, url), prefix, 0)).Ingest(context.Background(), events)
	if err != nil || c.Duplicates != 50 || c.Stored != 0 {
		t.Fatalf("third copy: %+v, %v", c, err)
	}
}

// failingLedger fails its first Append.
type failingLedger struct {
	ledger.Ledger
	mu    sync.Mutex
	fails int
}

func (f *failingLedger) Append(ctx context.Context, evs []mapping.Event) (ledger.AppendResult, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return ledger.AppendResult{}, errors.New("disk full")
	}
	f.mu.Unlock()
	return f.Ledger.Append(ctx, evs)
}

// TestFailedWriteReleasesClaims: a ledger write that fails gives its claims
// back, so the retry stores the events instead of calling them duplicates.
func TestFailedWriteReleasesClaims(t *testing.T) {
	url := testenv.RedisURL(t)
	l := &failingLedger{Ledger: openLedger(t), fails: 1}
	rdb := redisClient(t, url)
	in := New(l, mapping.NewIdentities(), dayCalendar{}, nil).WithClaimer(coord.NewDedupe(rdb, testPrefix(t, rdb), 0))
	events := punches(10)
	if _, err := in.Ingest(context.Background(), events); err == nil {
		t.Fatal("the failed write was not reported")
	}
	c, err := in.Ingest(context.Background(), events)
	if err != nil || c.Stored != 10 {
		t.Fatalf("retry: %+v, %v; want all 10 stored", c, err)
	}
}

// TestRedisDown: with Redis stopped nothing is stored and the error says
// Redis is unavailable (webhooks answer 503, pulls fail their run); when
// Redis returns, the same events are stored, once.
func TestRedisDown(t *testing.T) {
	srv := testenv.StartRedis(t)
	l := openLedger(t)
	in := New(l, mapping.NewIdentities(), dayCalendar{}, nil).WithClaimer(coord.NewDedupe(redisClient(t, srv.URL()), "pbtest:ingest:", 0)) // a private server
	events := punches(20)
	if _, err := in.Ingest(context.Background(), events[:10]); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, err := in.Ingest(context.Background(), events)
	if !errors.Is(err, coord.ErrUnavailable) {
		t.Fatalf("Ingest with Redis down = %v, want coord.ErrUnavailable", err)
	}
	// The test's users are unmapped, so every stored event is quarantined.
	if got, err := l.Quarantined(context.Background(), 0); err != nil || len(got) != 10 {
		t.Fatalf("%d events in the ledger after Redis went down (%v), want the first 10 only", len(got), err)
	}
	srv.Start()
	c, err := in.Ingest(context.Background(), events)
	if err != nil {
		t.Fatalf("after Redis returned: %v", err)
	}
	if c.Stored != 10 || c.Duplicates != 10 {
		t.Fatalf("after Redis returned: %+v; want the 10 new stored and the 10 old duplicates", c)
	}
}

// laterClaimer claims everything and records how its commits were asked
// for; its later commits fail.
type laterClaimer struct {
	mu                sync.Mutex
	waited, notWaited int
}

func (c *laterClaimer) Claim(_ context.Context, keys []coord.ClaimKey) ([]coord.ClaimState, error) {
	out := make([]coord.ClaimState, len(keys))
	for i := range out {
		out[i] = coord.Claimed
	}
	return out, nil
}

func (c *laterClaimer) Commit(context.Context, []coord.ClaimKey) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waited++
	return nil
}

func (c *laterClaimer) Release(context.Context, []coord.ClaimKey) error { return nil }

func (c *laterClaimer) CommitLater(_ context.Context, _ []coord.ClaimKey, failed func(error)) error {
	c.mu.Lock()
	c.notWaited++
	c.mu.Unlock()
	failed(coord.ErrUnavailable)
	return nil
}

// TestCommitIsNotWaitedFor: with a claimer that can commit later (as
// groupcommit.Claims can), the ingester does not wait for the commit, and
// a failed commit is logged, not returned: the events are durable.
func TestCommitIsNotWaitedFor(t *testing.T) {
	var logged bytes.Buffer
	claims := &laterClaimer{}
	in := New(openLedger(t), mapping.NewIdentities(), dayCalendar{}, slog.New(slog.NewTextHandler(&logged, nil))).WithClaimer(claims)
	c, err := in.Ingest(context.Background(), punches(3))
	if err != nil || c.Stored != 3 {
		t.Fatalf("Ingest = %+v, %v; want 3 stored", c, err)
	}
	if claims.waited != 0 || claims.notWaited != 1 {
		t.Errorf("commits waited for %d, not waited for %d; want 0 and 1", claims.waited, claims.notWaited)
	}
	if !strings.Contains(logged.String(), "dedupe commit failed") {
		t.Errorf("the failed commit was not logged: %q", logged.String())
	}
}

// scriptedClaimer answers each claim with the states it is given, in
// turn, and records what is released.
type scriptedClaimer struct {
	states   []coord.ClaimState
	released []coord.ClaimKey
}

func (c *scriptedClaimer) Claim(_ context.Context, keys []coord.ClaimKey) ([]coord.ClaimState, error) {
	return append([]coord.ClaimState(nil), c.states[:len(keys)]...), nil
}

func (c *scriptedClaimer) Commit(context.Context, []coord.ClaimKey) error { return nil }

func (c *scriptedClaimer) Release(_ context.Context, keys []coord.ClaimKey) error {
	c.released = append(c.released, keys...)
	return nil
}

// TestFailedWriteReleasesOnlyItsOwnClaims: when the write fails, the
// claims this writer made are released, and neither the duplicates' nor
// the keys another writer holds in flight.
func TestFailedWriteReleasesOnlyItsOwnClaims(t *testing.T) {
	for _, tc := range []struct {
		name   string
		states []coord.ClaimState
		want   []int // events whose claims are released
	}{
		{"all ours", []coord.ClaimState{coord.Claimed, coord.Claimed, coord.Claimed}, []int{0, 1, 2}},
		{"mixed", []coord.ClaimState{coord.Done, coord.Claimed, coord.InFlight, coord.Claimed, coord.Done}, []int{1, 3}},
		{"none ours", []coord.ClaimState{coord.InFlight, coord.Done}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &scriptedClaimer{states: tc.states}
			in := New(&failingLedger{Ledger: openLedger(t), fails: 1}, mapping.NewIdentities(), dayCalendar{}, nil).WithClaimer(cl)
			events := punches(len(tc.states))
			if _, err := in.Ingest(context.Background(), events); err == nil {
				t.Fatal("the failed write was not reported")
			}
			var got []string
			for _, k := range cl.released {
				got = append(got, k.EventID)
			}
			var want []string
			for _, i := range tc.want {
				want = append(want, events[i].ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("released %v, want %v", got, want)
			}
		})
	}
}
