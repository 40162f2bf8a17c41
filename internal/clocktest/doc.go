// Package clocktest provides a fake clock for tests, in the manner of
// net/http/httptest: code under test takes a func() time.Time, the test
// passes a Clock's Now and moves time on by hand, so that expiries,
// windows and durations are checked exactly and without sleeping.
//
//	clk := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
//	cache := NewCache(clk.Now)
//	clk.Advance(time.Hour)
package clocktest
