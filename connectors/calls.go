package connectors

import (
	"context"
	"maps"
	"sync"
)

// CallCounts counts a connector's requests to its platform, retries
// included: by API and, per API, by outcome, in the connector's own words
// (an errcode, "http_<status>", "transport", ...). A request made under a
// context from WithPullCalls also counts in that pull's PullCalls. It is
// safe for concurrent use, and the zero value is ready.
type CallCounts struct {
	mu    sync.Mutex
	calls map[string]int
	codes map[string]map[string]int
}

// Count counts one request to api that ended with outcome.
func (c *CallCounts) Count(ctx context.Context, api, outcome string) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls, c.codes = map[string]int{}, map[string]map[string]int{}
	}
	c.calls[api]++
	if c.codes[api] == nil {
		c.codes[api] = map[string]int{}
	}
	c.codes[api][outcome]++
	c.mu.Unlock()
	if p, ok := ctx.Value(pullCallsKey{}).(*PullCalls); ok {
		p.add(api)
	}
}

// Snapshot returns copies of the counts by API and by API and outcome;
// neither map is nil.
func (c *CallCounts) Snapshot() (calls map[string]int, codes map[string]map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls, codes = map[string]int{}, map[string]map[string]int{}
	maps.Copy(calls, c.calls)
	for api, m := range c.codes {
		codes[api] = maps.Clone(m)
	}
	return calls, codes
}

// PullCalls counts the requests of one pull by API, for its PullStats.
type PullCalls struct {
	mu sync.Mutex
	m  map[string]int
}

type pullCallsKey struct{}

// WithPullCalls returns a context under which a connector's requests also
// count in p.
func WithPullCalls(ctx context.Context, p *PullCalls) context.Context {
	return context.WithValue(ctx, pullCallsKey{}, p)
}

func (p *PullCalls) add(api string) {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]int{}
	}
	p.m[api]++
	p.mu.Unlock()
}

// Snapshot returns a copy of the counts by API, nil when there were none.
func (p *PullCalls) Snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.m)
}
