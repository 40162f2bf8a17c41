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
	// paceMargin paces the client-side limiter 10% below the configured
	// rate. The platform counts calls as they arrive, and the time between
	// a call leaving the limiter and reaching the platform varies (a busy
	// host delays goroutines by tens of milliseconds): 21 calls paced
	// exactly 50 ms apart can land in one 1-second window, and each refusal
	// costs a 1-second wait, far more than the margin.
	paceMargin = 1.10
)

// limiters holds one token-bucket limiter per API: the platform limits
// calls per app per API per second (20 for a standard organization).
type limiters struct {
	every time.Duration
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newLimiters(qps float64) *limiters {
	return &limiters{every: time.Duration(float64(time.Second) * paceMargin / qps), m: map[string]*rate.Limiter{}}
}

// wait blocks until api may be called again, or ctx ends. Calls are paced
// evenly (a burst of 1), so a window never holds more than the rate.
func (l *limiters) wait(ctx context.Context, api string) error {
	l.mu.Lock()
	lim, ok := l.m[api]
	if !ok {
		lim = rate.NewLimiter(rate.Every(l.every), 1)
		l.m[api] = lim
	}
	l.mu.Unlock()
	return lim.Wait(ctx)
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
//   - a QPS answer (90018, 90002, Forbidden.AccessDenied.Qps*) waits
//     retry_wait, the platform's 1-second window, and retries;
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
		if err := c.limits.wait(ctx, r.api); err != nil {
			return fmt.Errorf("dingtalk: call %s: %w", r.api, err)
		}
		tok := ""
		if !r.noToken {
			var err error
			if tok, err = c.token(ctx); err != nil {
				return err
			}
		}
		status, raw, err := c.send(ctx, r, tok)
		if err != nil {
			return fmt.Errorf("dingtalk: call %s: %w", r.api, err)
		}
		apiErr := answerError(r, status, raw)
		if apiErr == nil {
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
