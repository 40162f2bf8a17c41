package wecom

import (
	"context"
	"maps"
	"sync"
)

// Stats counts the requests a connector sent, retries included: by API name
// and, per API, by outcome — the errcode ("0" is success, "-1" busy,
// "45009" over a limit, ...), "http_<status>" for a non-200 answer,
// "transport" for a network failure and "bad_json" for an unreadable
// answer. Callbacks counts the callbacks the connector received by
// outcome: "url_verification", the event name (sys_approval_change,
// change_contact, ...) for an accepted one, "replay" for a repeated POST,
// "rejected_<check>" for one that failed a check (signature, receiver,
// stale, replay, ciphertext, padding, length, body, ...), and the fate of
// queued approvals: "details_stored", "details_failed" and
// "failed_queue_full".
type Stats struct {
	Calls     map[string]int
	Codes     map[string]map[string]int
	Callbacks map[string]int
}

type counterKey struct{}

// callCounter counts the calls of one pull.
type callCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func withCounter(ctx context.Context, cc *callCounter) context.Context {
	return context.WithValue(ctx, counterKey{}, cc)
}

func (cc *callCounter) snapshot() map[string]int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return maps.Clone(cc.m)
}

func (c *client) count(ctx context.Context, api, outcome string) {
	c.mu.Lock()
	c.stats.Calls[api]++
	if c.stats.Codes[api] == nil {
		c.stats.Codes[api] = map[string]int{}
	}
	c.stats.Codes[api][outcome]++
	c.mu.Unlock()
	if cc, ok := ctx.Value(counterKey{}).(*callCounter); ok {
		cc.mu.Lock()
		if cc.m == nil {
			cc.m = map[string]int{}
		}
		cc.m[api]++
		cc.mu.Unlock()
	}
}

// countCallback counts one callback by outcome.
func (c *client) countCallback(outcome string) {
	c.mu.Lock()
	c.stats.Callbacks[outcome]++
	c.mu.Unlock()
}

// snapshot returns a copy of the counters.
func (c *client) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Stats{Calls: maps.Clone(c.stats.Calls), Codes: map[string]map[string]int{}, Callbacks: maps.Clone(c.stats.Callbacks)}
	for api, m := range c.stats.Codes {
		out.Codes[api] = maps.Clone(m)
	}
	return out
}
