package dingtalk

import (
	"math"
	"sync"
	"time"
)

// maxInFlight bounds the listRecord calls one pull keeps in flight, as the
// concurrency setting is bounded.
const maxInFlight = 64

// inFlight sizes a pull's worker pool to its quota. The QPS limiter paces
// the calls; the workers must be enough to keep that pace when each call
// takes time: at a pace of r calls a second and answers taking d, r×d
// calls are in flight (Little's law). Without a configured concurrency a
// pull starts DefaultConcurrency workers and adds one whenever the answer
// time says the pool is too small for the pace, up to maxInFlight or the
// number of calls; a configured concurrency is kept as it is.
type inFlight struct {
	mu      sync.Mutex
	workers int
	limit   int
}

func newInFlight(configured, calls int) *inFlight {
	if configured > 0 {
		n := min(configured, calls)
		return &inFlight{workers: n, limit: n}
	}
	return &inFlight{workers: min(DefaultConcurrency, calls), limit: min(maxInFlight, calls)}
}

// started is how many workers to start with.
func (f *inFlight) started() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.workers
}

// grow reports whether the caller should start one more worker, given the
// API's pace (calls per second) and its answer time.
func (f *inFlight) grow(pace float64, answer time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	// One more than the pace needs, so that a slow answer does not stall it.
	need := int(math.Ceil(pace*answer.Seconds())) + 1
	if need <= f.workers || f.workers >= f.limit {
		return false
	}
	f.workers++
	return true
}
