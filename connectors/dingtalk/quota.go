package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"golang.org/x/time/rate"

	"github.com/punchbridge/punchbridge/connectors"
)

// Retry budgets of one call (platform API reference A5).
const (
	// maxBusyRetries: -1 (系统繁忙) is retried at most 3 times, as the
	// platform asks; transport failures and 5xx share the number.
	maxBusyRetries = 3
	// maxQPSRetries bounds the waits after QPS answers. The platform says
	// to wait for the next 1-second window and retry; ten windows in a row
	// mean the limiter and the platform disagree, which a retry loop
	// cannot fix.
	maxQPSRetries = 10
	// maxBlockWaits bounds the 5-minute waits after the IP block answer.
	maxBlockWaits = 2
	// defaultBlockWait is the block the platform announces (5 minutes)
	// when its answer does not say.
	defaultBlockWait = 5 * time.Minute
	// qpmWait is the wait after a per-minute limit answer.
	qpmWait = time.Minute
	// paceMargin paces the client-side limiter 5% below the configured
	// rate, so that a pull uses 95% of the quota. The platform counts
	// calls as they arrive, and the time between a call leaving the
	// limiter and reaching the platform varies: 21 calls paced exactly
	// 50 ms apart can land in one 1-second window when the first is late
	// by a few milliseconds. At 5% below, 21 calls span 1.05 s, so the
	// first must be late by 50 ms against the 21st before the platform
	// refuses one. A call that leaves late (its goroutine was not
	// scheduled in time) also holds back the call QPS places after it, so
	// that the margin is kept between the calls as sent (see wait).
	paceMargin = 1.05
	// slowDown is the factor an API's pace is cut by after a QPS answer:
	// the platform (or another client of the same app) disagrees with the
	// configured rate. recoverAfter successful calls in a row raise the
	// pace by recoverStep, back up to the configured pace; the pace never
	// drops below minPace of it.
	slowDown     = 0.9
	recoverStep  = 1.05
	recoverAfter = 20
	minPace      = 0.1
)

// limiters holds one pacer per API: the platform limits calls per app per
// API per second (20 for a standard organization).
type limiters struct {
	qps    float64 // the configured limit
	base   rate.Limit
	window int           // calls the platform allows per span
	span   time.Duration // 1 second, plus the margin
	mu     sync.Mutex
	m      map[string]*apiPace
}

// apiPace is one API's token bucket, the times its last calls left, its
// run of successes since the pace last changed and a moving average of its
// answer times.
type apiPace struct {
	lim    *rate.Limiter
	sent   []time.Time // ring of the last window calls' departures
	next   int         // the oldest entry of sent
	streak int
	answer time.Duration
}

func newLimiters(qps float64) *limiters {
	n := max(int(qps), 1)
	return &limiters{qps: qps, base: rate.Limit(qps / paceMargin), window: n,
		span: time.Duration(float64(n) / qps * paceMargin * float64(time.Second)), m: map[string]*apiPace{}}
}

func (l *limiters) get(api string) *apiPace {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.m[api]
	if !ok {
		p = &apiPace{lim: rate.NewLimiter(l.base, 1), sent: make([]time.Time, l.window)}
		l.m[api] = p
	}
	return p
}

// wait blocks until api may be called again, or ctx ends. Calls are paced
// evenly (a burst of 1), and no span of 1 second plus the margin holds
// more than the platform's limit of calls as they actually leave. The call
// counts in the quota use of the pull ctx belongs to.
func (l *limiters) wait(ctx context.Context, api string) error {
	p := l.get(api)
	if err := p.lim.Wait(ctx); err != nil {
		return err
	}
	for {
		l.mu.Lock()
		now := time.Now()
		free := p.sent[p.next].Add(l.span)
		if !now.Before(free) {
			p.sent[p.next] = now
			p.next = (p.next + 1) % len(p.sent)
			l.mu.Unlock()
			break
		}
		l.mu.Unlock()
		if err := sleepCtx(ctx, free.Sub(now)); err != nil {
			return err
		}
	}
	if q, ok := ctx.Value(quotaKey{}).(*quotaTracker); ok {
		q.sent(api, time.Now())
	}
	return nil
}

// pace is api's current rate in calls per second.
func (l *limiters) pace(api string) float64 { return float64(l.get(api).lim.Limit()) }

// answered records how long one exchange with api took.
func (l *limiters) answered(api string, d time.Duration) {
	p := l.get(api)
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.answer == 0 {
		p.answer = d
		return
	}
	p.answer = (7*p.answer + d) / 8
}

// latency is the moving average of api's answer times.
func (l *limiters) latency(api string) time.Duration {
	p := l.get(api)
	l.mu.Lock()
	defer l.mu.Unlock()
	return p.answer
}

// throttled slows api down after the platform refused a call for its
// rate, and returns the new pace in calls per second.
func (l *limiters) throttled(api string) float64 {
	p := l.get(api)
	l.mu.Lock()
	defer l.mu.Unlock()
	p.streak = 0
	next := max(p.lim.Limit()*slowDown, l.base*minPace)
	p.lim.SetLimit(next)
	return float64(next)
}

// succeeded lets a slowed-down api recover towards the configured pace.
func (l *limiters) succeeded(api string) {
	p := l.get(api)
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.lim.Limit() >= l.base {
		return
	}
	if p.streak++; p.streak >= recoverAfter {
		p.streak = 0
		p.lim.SetLimit(min(p.lim.Limit()*recoverStep, l.base))
	}
}

type quotaKey struct{}

// quotaTracker records when one pull called each API, for its QuotaUse.
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

func (q *quotaTracker) sent(api string, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.calls[api] == 0 {
		q.first[api] = at
	}
	q.calls[api]++
	q.last[api] = at
}

// use reports each API's calls against the platform's limit of qps calls
// per second.
func (q *quotaTracker) use(qps float64) map[string]connectors.QuotaUse {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.calls) == 0 || qps <= 0 {
		return nil
	}
	out := make(map[string]connectors.QuotaUse, len(q.calls))
	slot := time.Duration(float64(time.Second) / qps)
	for api, n := range q.calls {
		elapsed := q.last[api].Sub(q.first[api]) + slot
		out[api] = connectors.QuotaUse{Calls: n, Limit: qps, Window: time.Second, Elapsed: elapsed,
			Utilisation: connectors.Utilisation(n, qps, time.Second, elapsed)}
	}
	return out
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// invoke makes one logical call: it paces it with the API's limiter, adds
// the access token, and acts on the answer:
//
//   - a rejected token (40014, 42001, 40001, 88 with an auth sub-code, v1.0
//     InvalidAuthentication) is dropped, refreshed once and the call
//     repeated once;
//   - -1 (busy) is retried at most 3 times, waiting retry_wait, then twice
//     and four times as long;
//   - a QPS answer (90018, 90002, Forbidden.AccessDenied.Qps*) slows
//     the API's pace down (see slowDown), waits retry_wait, the
//     platform's 1-second window, and retries;
//   - the IP block answer (status 1111) waits the announced time (5
//     minutes) and retries;
//   - the monthly quota (90020, ApiCountLimitForOrg) and everything else
//     fail at once.
//
// Every wait goes through c.sleep, so tests never wait for the clock.
func (c *client) invoke(ctx context.Context, r request, out any) error {
	var (
		refreshed                  bool
		busy, qps, blocked, rounds int
	)
	for {
		rounds++
		// The token first, the pace second: calls that wait together for
		// a token refresh must not leave together when it arrives.
		tok := ""
		if !r.noToken {
			var err error
			if tok, err = c.token(ctx); err != nil {
				return err
			}
		}
		if err := c.limits.wait(ctx, r.api); err != nil {
			return fmt.Errorf("dingtalk: call %s: %w", r.api, err)
		}
		status, raw, err := c.send(ctx, r, tok)
		if err != nil {
			return fmt.Errorf("dingtalk: call %s: %w", r.api, err)
		}
		apiErr := answerError(r, status, raw)
		if apiErr == nil {
			c.limits.succeeded(r.api)
			if out == nil {
				return nil
			}
			if d, ok := out.(rawDecoder); ok {
				if err := d.decodeRaw(raw); err != nil {
					return fmt.Errorf("dingtalk: decode %s answer: %w", r.api, err)
				}
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("dingtalk: decode %s answer: %w", r.api, err)
			}
			return nil
		}
		var wait time.Duration
		switch apiErr.class() {
		case classToken:
			if refreshed || r.noToken {
				return apiErr
			}
			refreshed = true
			c.log.Info("access token rejected, refreshing", "api", r.api, "errcode", apiErr.codeString())
			if err := c.dropToken(ctx, tok); err != nil {
				return err
			}
			continue
		case classBusy:
			if busy >= maxBusyRetries {
				return apiErr
			}
			wait = c.retryWait << busy
			busy++
		case classQPS:
			if qps >= maxQPSRetries {
				return apiErr
			}
			qps++
			pace := c.limits.throttled(r.api)
			c.log.Warn("platform refused a call for its rate, slowing down", "api", r.api,
				"errcode", apiErr.codeString(), "calls_per_s", fmt.Sprintf("%.1f", pace))
			wait = c.retryWait
			if apiErr.perMinute() {
				wait = qpmWait
			}
		case classIPBlock:
			if blocked >= maxBlockWaits {
				return apiErr
			}
			blocked++
			wait = apiErr.wait
			c.log.Warn("IP blocked by the platform, waiting", "api", r.api, "wait", wait.String())
		default:
			return apiErr
		}
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("dingtalk: call %s: waiting %s after %s: %w", r.api, wait, apiErr.codeString(), err)
		}
	}
}

// rawDecoder is an answer type that decodes itself from the raw body.
type rawDecoder interface{ decodeRaw([]byte) error }

// maxBlockAnswer bounds the size of an IP block answer: it is a short JSON
// or HTML page, and the check must not scan megabytes of punch records.
const maxBlockAnswer = 4 << 10

// ipBlocked reports whether an answer is the per-IP block (platform API
// reference A5): no errcode, a JSON or HTML body with status 1111 and a
// wait in minutes. Its exact shape is not documented beyond an example, so
// any body carrying "status":1111 counts.
func ipBlocked(b []byte) bool {
	if len(b) > maxBlockAnswer || !bytes.Contains(b, []byte("1111")) {
		return false
	}
	if gjson.ValidBytes(b) {
		return gjson.GetBytes(b, "status").Int() == codeIPBlock && !gjson.GetBytes(b, "errcode").Exists()
	}
	return bytes.Contains(b, []byte(`"status":1111`)) || bytes.Contains(b, []byte(`"status": 1111`))
}

// blockWait reads the announced block ("wait": minutes), 5 minutes when
// absent, at most 30.
func blockWait(b []byte) time.Duration {
	m := gjson.GetBytes(b, "wait").Int()
	if m <= 0 {
		return defaultBlockWait
	}
	return time.Duration(min(m, 30)) * time.Minute
}
