package dingtalk

import (
	"context"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// TestPullIsNeverRefusedForItsRate pulls 40 listRecord calls from a fake
// that enforces 100 QPS and answers each call after 30 ms, with the
// concurrency left to the pull: it must keep under the limit and report
// its quota use.
// How much of the quota it uses is measured by BenchmarkPullAt20QPS, not
// asserted here: timing depends on the machine.
func TestPullIsNeverRefusedForItsRate(t *testing.T) {
	company := dt.GenerateCompany(3, 400, monday, 35)
	e := newEnv(t, company, []dt.Option{dt.WithQPS(100), dt.WithLatency(30 * time.Millisecond)}, func(c *Config) {
		c.QPS, c.Concurrency = 100, 0
	})
	users := make([]string, len(company.Users))
	for i, u := range company.Users {
		users[i] = u.UserID
	}
	e.conn.cfg.Users = users
	w := connectors.Window{From: monday, To: monday.AddDate(0, 0, 35)}
	st, err := e.conn.Pull(context.Background(), w, func(context.Context, []mapping.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if calls := st.APICalls[apiListRecord]; calls != 40 {
		t.Fatalf("listRecord calls = %d, want 8 groups of 50 users × 5 weeks", calls)
	}
	if refused := e.conn.Stats().Codes[apiListRecord]["90018"]; refused != 0 {
		t.Errorf("%d calls refused for the rate", refused)
	}
	q := st.Quota[apiListRecord]
	if q.Calls != 40 || q.Limit != 100 || q.Window != time.Second || q.Elapsed <= 0 || q.Utilisation <= 0 || q.Utilisation > 1 {
		t.Errorf("quota use %+v, want 40 calls against 100 a second, at most all of it", q)
	}
}

// TestQPSAnswerSlowsTheAPIDown checks the adaptation: a refusal cuts the
// API's pace, successes bring it back, and other APIs keep theirs.
func TestQPSAnswerSlowsTheAPIDown(t *testing.T) {
	l := newLimiters(20)
	base := l.pace("a")
	if want := 20 / paceMargin; base < want-0.001 || base > want+0.001 {
		t.Fatalf("pace %.3f, want %.3f", base, want)
	}
	slowed := l.throttled("a")
	if slowed >= base || l.pace("a") != slowed || l.pace("b") != base {
		t.Errorf("after a refusal: a at %.2f (from %.2f), b at %.2f", l.pace("a"), base, l.pace("b"))
	}
	for range 10 {
		l.throttled("a")
	}
	if got := l.pace("a"); got < base*minPace-0.001 {
		t.Errorf("pace fell to %.3f, below the floor %.3f", got, base*minPace)
	}
	for range 100 * recoverAfter {
		l.succeeded("a")
	}
	if got := l.pace("a"); got != base {
		t.Errorf("after many successes the pace is %.3f, want back to %.3f", got, base)
	}
}

func TestInFlightGrowsWithAnswerTime(t *testing.T) {
	f := newInFlight(0, 100)
	if f.started() != DefaultConcurrency {
		t.Fatalf("started %d workers, want %d", f.started(), DefaultConcurrency)
	}
	// 19 calls a second answered in 10 ms: 4 workers are plenty.
	if f.grow(19, 10*time.Millisecond) {
		t.Error("grew for fast answers")
	}
	// Answered in 500 ms: 19 × 0.5 = 9.5, so 11 workers with the spare.
	grown := 0
	for f.grow(19, 500*time.Millisecond) {
		grown++
	}
	if f.started() != 11 || grown != 7 {
		t.Errorf("%d workers after growing %d, want 11", f.started(), grown)
	}
	if g := newInFlight(0, 2); g.started() != 2 || g.grow(100, time.Second) {
		t.Error("a pull of 2 calls must not run more than 2 workers")
	}
	if g := newInFlight(3, 100); g.started() != 3 || g.grow(100, time.Second) {
		t.Error("a configured concurrency must be kept")
	}
	h := newInFlight(0, 1000)
	for h.grow(1000, 10*time.Second) {
	}
	if h.started() != maxInFlight {
		t.Errorf("%d workers, want at most %d", h.started(), maxInFlight)
	}
}
