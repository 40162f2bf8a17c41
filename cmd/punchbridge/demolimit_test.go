package main

import "testing"

func TestDemoMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		employees, days int
		want            int64
	}{
		{200, 5, 640 * mib},      // the default demo
		{10000, 31, 640 * mib},   // the demo
		{10000, 20, 640 * mib},   // smaller never goes below the base
		{20000, 31, 1280 * mib},  // twice the punches, twice the room
		{30000, 31, 1920 * mib},  // where 640 MiB was below the live heap
		{10000, 62, 1280 * mib},  // days count as employees do
		{100000, 31, 6400 * mib}, // a large company's month
		{1, 1, 640 * mib},        // the least
	} {
		if got := demoMemoryLimit(tc.employees, tc.days); got != tc.want {
			t.Errorf("demoMemoryLimit(%d, %d) = %d MiB, want %d MiB", tc.employees, tc.days, got/mib, tc.want/mib)
		}
	}
}
