package wecom

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/punchbridge/punchbridge/connectors"
)

// recoverAfter is how many successes in a row let a concurrency lowered by
// 45033 grow back by one.
const recoverAfter = 50

// limits paces one connector's calls per API: a token bucket of the
// configured calls per minute, the block a 45009 imposes, and a gate on
// the calls in flight that 45033 narrows. The clock and the sleep are
// injected, so tests move time instead of waiting for it.
//
// The bucket refills at (limit−1)/minute with a burst of 1. The platform
// counts calls per API per minute (B5), and with that rate no window of
// one minute — sliding or by the clock — ever holds more than limit−1
// calls, so pacing alone never provokes a 45009. The cost is one call a
// minute below the limit.
type limits struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	log   *slog.Logger
	max   int // concurrency per API

	mu   sync.Mutex
	apis map[string]*apiLimit
}

type apiLimit struct {
	bucket       *rate.Limiter // nil: not limited
	perMinute    int           // the platform's limit; 0: not limited
	blockedUntil time.Time
	gate         *gate
}

func newLimits(cfg Config, now func() time.Time, sleep func(context.Context, time.Duration) error, log *slog.Logger) *limits {
	l := &limits{now: now, sleep: sleep, log: log, max: cfg.Concurrency, apis: map[string]*apiLimit{}}
	perMinute := DefaultRateLimits()
	for k, n := range cfg.RateLimits {
		if name, ok := limitKey(k); ok {
			perMinute[name] = n
		}
	}
	for _, api := range limitedAPIs {
		a := &apiLimit{gate: newGate(cfg.Concurrency)}
		if n := perMinute[limitName(api)]; n > 0 {
			a.bucket = rate.NewLimiter(perMinuteRate(n), 1)
			a.perMinute = n
		}
		l.apis[api] = a
	}
	return l
}

// perMinuteRate is the refill rate that keeps any one-minute window at
// most n−1 calls with a burst of 1 (n = 1 gets one call per minute).
func perMinuteRate(n int) rate.Limit {
	calls := float64(n - 1)
	if n <= 1 {
		calls = 1
	}
	return rate.Limit(calls / time.Minute.Seconds())
}

// get returns the state of api; APIs without a limit (gettoken) get a
// gate only.
func (l *limits) get(api string) *apiLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.apis[api]
	if !ok {
		a = &apiLimit{gate: newGate(l.max)}
		l.apis[api] = a
	}
	return a
}

// wait returns when api may be called: after any block has passed and the
// bucket has a token for this call.
func (l *limits) wait(ctx context.Context, api string) error {
	a := l.get(api)
	for {
		l.mu.Lock()
		until := a.blockedUntil
		l.mu.Unlock()
		now := l.now()
		if !now.Before(until) {
			break
		}
		if err := l.sleep(ctx, until.Sub(now)); err != nil {
			return err
		}
	}
	if a.bucket == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		quotaOf(ctx).sent(api, l.now())
		return nil
	}
	now := l.now()
	r := a.bucket.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := l.sleep(ctx, d); err != nil {
			r.CancelAt(l.now())
			return err
		}
	}
	quotaOf(ctx).sent(api, l.now())
	return nil
}

// perMinute is api's limit of calls a minute, 0 when it has none.
func (l *limits) perMinute(api string) int { return l.get(api).perMinute }

type quotaKey struct{}

// quotaTracker records when one pull called each API, for its QuotaUse. A
// nil tracker records nothing.
type quotaTracker struct {
	mu          sync.Mutex
	calls       map[string]int
	first, last map[string]time.Time
}

func newQuotaTracker() *quotaTracker {
	return &quotaTracker{calls: map[string]int{}, first: map[string]time.Time{}, last: map[string]time.Time{}}
}

func withQuota(ctx context.Context, q *quotaTracker) context.Context {
	return context.WithValue(ctx, quotaKey{}, q)
}

func quotaOf(ctx context.Context) *quotaTracker {
	q, _ := ctx.Value(quotaKey{}).(*quotaTracker)
	return q
}

func (q *quotaTracker) sent(api string, at time.Time) {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.calls[api] == 0 {
		q.first[api] = at
	}
	q.calls[api]++
	q.last[api] = at
}

// use reports the calls of each rate-limited API against its limit.
func (q *quotaTracker) use(l *limits) map[string]connectors.QuotaUse {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]connectors.QuotaUse{}
	for api, n := range q.calls {
		limit := l.perMinute(api)
		if limit <= 0 {
			continue
		}
		elapsed := q.last[api].Sub(q.first[api]) + time.Minute/time.Duration(limit)
		out[api] = connectors.QuotaUse{Calls: n, Limit: float64(limit), Window: time.Minute, Elapsed: elapsed,
			Utilisation: connectors.Utilisation(n, float64(limit), time.Minute, elapsed)}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// block stops api until d from now, after the platform answered 45009,
// and logs it once per block: concurrent callers that hit the same block
// extend nothing and say nothing.
func (l *limits) block(api string, d time.Duration) {
	a := l.get(api)
	now := l.now()
	l.mu.Lock()
	fresh := !now.Before(a.blockedUntil)
	if fresh {
		a.blockedUntil = now.Add(d)
	}
	l.mu.Unlock()
	if fresh {
		l.log.Warn("api rate limit hit, waiting out the block", "api", api, "errcode", codeRateLimit, "wait_s", int(d/time.Second))
	}
}

// crowded lowers api's concurrency after a 45033.
func (l *limits) crowded(api string) {
	if n, lowered := l.get(api).gate.lower(); lowered {
		l.log.Warn("api concurrency limit hit, lowering concurrency", "api", api, "errcode", codeConcurrency, "concurrency", n)
	}
}

// succeeded lets a lowered concurrency recover.
func (l *limits) succeeded(api string) { l.get(api).gate.success() }

// acquire takes a slot of api's gate; call release when the call is done.
func (l *limits) acquire(ctx context.Context, api string) (release func(), err error) {
	g := l.get(api).gate
	if err := g.acquire(ctx); err != nil {
		return nil, err
	}
	return g.release, nil
}

// concurrency reports api's current concurrency limit.
func (l *limits) concurrency(api string) int { return l.get(api).gate.size() }

// gate is a semaphore whose size can shrink and grow: additive increase
// (one after recoverAfter successes in a row), multiplicative decrease
// (halved on 45033, never below 1).
type gate struct {
	mu     sync.Mutex
	limit  int
	max    int
	inUse  int
	streak int
	wake   chan struct{} // closed and replaced whenever a slot may be free
}

func newGate(n int) *gate {
	if n < 1 {
		n = 1
	}
	return &gate{limit: n, max: n, wake: make(chan struct{})}
}

func (g *gate) acquire(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.inUse < g.limit {
			g.inUse++
			g.mu.Unlock()
			return nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

func (g *gate) release() {
	g.mu.Lock()
	g.inUse--
	g.broadcast()
	g.mu.Unlock()
}

// lower halves the limit and reports the new one and whether it changed.
func (g *gate) lower() (int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streak = 0
	if g.limit == 1 {
		return 1, false
	}
	g.limit /= 2
	return g.limit, true
}

func (g *gate) success() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit == g.max {
		return
	}
	if g.streak++; g.streak >= recoverAfter {
		g.streak = 0
		g.limit++
		g.broadcast()
	}
}

func (g *gate) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// broadcast wakes every waiter; the caller holds mu.
func (g *gate) broadcast() {
	close(g.wake)
	g.wake = make(chan struct{})
}
