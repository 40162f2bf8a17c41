package clocktest

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when told to. It is safe for
// concurrent use, because the code under test often reads it from its
// own goroutines (servers, workers) while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock stopped at t.
func New(t time.Time) *Clock {
	return &Clock{now: t}
}

// Now returns the clock's current time. Its method value has the
// func() time.Time shape that code under test takes as its clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d, or back if d is negative. Concurrent
// Advances add up regardless of their order.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t, for tests that step to given instants rather
// than by durations.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
