package clocktest

import (
	"sync"
	"testing"
	"time"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestClock(t *testing.T) {
	tests := []struct {
		name string
		move func(*Clock)
		want time.Time
	}{
		{"stopped", func(*Clock) {}, start},
		{"advance", func(c *Clock) { c.Advance(90 * time.Second) }, start.Add(90 * time.Second)},
		{"advance twice", func(c *Clock) { c.Advance(time.Hour); c.Advance(time.Minute) }, start.Add(time.Hour + time.Minute)},
		{"advance back", func(c *Clock) { c.Advance(-time.Hour) }, start.Add(-time.Hour)},
		{"set", func(c *Clock) { c.Set(start.AddDate(0, 1, 0)) }, start.AddDate(0, 1, 0)},
		{"set then advance", func(c *Clock) { c.Set(start.AddDate(1, 0, 0)); c.Advance(time.Second) }, start.AddDate(1, 0, 0).Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(start)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %v, want %v", got, tt.want)
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("second Now() = %v, want %v: reading the clock moved it", got, tt.want)
			}
		})
	}
}

// TestClockConcurrent: Advances from many goroutines all count, and the
// race detector sees no unguarded access.
func TestClockConcurrent(t *testing.T) {
	c := New(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(50*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}
