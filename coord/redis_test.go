package coord

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/internal/testenv"
)

// testPrefix returns a key prefix unique to this test, whose keys are
// deleted when the test ends.
func testPrefix(t testing.TB) string {
	t.Helper()
	return testenv.RedisPrefix(t, newClient(t), "coord")
}

// newClient opens a client of its own on the test Redis — one client
// stands for one replica — and closes it when the test ends.
func newClient(t testing.TB, hooks ...redis.Hook) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("parse PUNCHBRIDGE_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// pttl returns a key's remaining time to live.
func pttl(t *testing.T, rdb *redis.Client, key string) time.Duration {
	t.Helper()
	d, err := rdb.PTTL(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

// assertTTL checks that key expires within (want-slack, want].
func assertTTL(t *testing.T, rdb *redis.Client, key string, want time.Duration) {
	t.Helper()
	const slack = 10 * time.Second
	if got := pttl(t, rdb, key); got > want || got <= want-slack {
		t.Errorf("PTTL %s = %s, want about %s", key, got, want)
	}
}

// countHook counts round trips: single commands and pipelines.
type countHook struct {
	single, pipelines, pipelinedCmds atomic.Int64
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.single.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		h.pipelinedCmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func (h *countHook) reset() {
	h.single.Store(0)
	h.pipelines.Store(0)
	h.pipelinedCmds.Store(0)
}

// faultHook fails every command with err while set, as a Redis that went
// away mid-run would.
type faultHook struct {
	mu     sync.Mutex
	err    error
	failed atomic.Int64 // commands failed so far
}

func (h *faultHook) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
}

func (h *faultHook) get() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *faultHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *faultHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h.get(); err != nil {
			h.failed.Add(1)
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h *faultHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// newFakeClock returns a clock stopped at 09:00 UTC on 6 May 2024, moving
// only when told to.
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2024, 5, 6, 9, 0, 0, 0, time.UTC))
}

// eventually polls cond every millisecond until it holds or 5s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
