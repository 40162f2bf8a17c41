package wecom

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// TestPacedPullNeverHitsTheLimit pulls more than a minute's worth of
// getcheckindata calls from a fake that allows 600 a minute.
//
// It runs in a testing/synctest bubble: the fake is served in process
// (wecomtest.New and Transport, no sockets), so every goroutine of the
// test is in the bubble and the bubble's fake clock is the only clock —
// the fake's per-minute window, the client's token bucket and its sleeps
// all read it. Time advances only when every goroutine waits, so a call is
// made at exactly the instant the bucket allowed it, and the minutes of
// pacing pass in milliseconds of real time. The same limiter code runs as
// in production; nothing is scaled.
func TestPacedPullNeverHitsTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perMinute int // the client's limit
		want45009 bool
	}{
		{"paced at the platform's limit", 600, false},
		// The control: unpaced, the fake refuses calls, and the block
		// waits still lose nothing.
		{"unpaced", 1_000_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pacedPull(t, tc.perMinute, tc.want45009)
			})
		})
	}
}

func pacedPull(t *testing.T, perMinute int, want45009 bool) {
	now := monday.AddDate(0, 0, 40)
	time.Sleep(time.Until(now)) // the bubble's clock starts in 2000
	company := wt.GenerateCompany(31, 2100, monday, 1)
	srv := wt.New(wt.WithCompany(company), wt.WithRateLimit(wt.APICheckinData, 600))
	conn, err := NewConnector("wecom-paced", Config{
		CorpID:        company.CorpID,
		CheckinSecret: config.Secret(wt.DefaultCheckinSecret), ContactsSecret: config.Secret(wt.DefaultContactsSecret),
		BaseURL:       srv.URL(),
		DevicePunches: pointer(false),
		RateLimits:    map[string]int{"getcheckindata": perMinute},
		RetryWait:     time.Millisecond,
	}, connectors.Deps{Transport: srv.Transport(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// 2,100 users × 900 days: 21 groups × 30 spans = 630 calls, more than
	// a minute's worth; the punches lie in the window's last days.
	w := connectors.Window{From: monday.AddDate(0, 0, -870), To: monday.AddDate(0, 0, 30)}
	var c collector
	start := time.Now()
	st, err := conn.Pull(context.Background(), w, c.emit)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if st.APICalls[apiCheckinData] < 630 {
		t.Fatalf("getcheckindata calls = %d, want at least 630", st.APICalls[apiCheckinData])
	}
	refused := srv.Answers(wt.APICheckinData, wt.CodeRateLimit)
	if want45009 != (refused > 0) {
		t.Errorf("45009 answers = %d, want some: %v", refused, want45009)
	}
	if !want45009 {
		if srv.Calls(wt.APICheckinData) != 630 {
			t.Errorf("fake saw %d calls, want exactly 630", srv.Calls(wt.APICheckinData))
		}
		// 630 calls at 599 a minute take 629/599 minutes.
		if min := 629 * time.Minute / 599; elapsed < min {
			t.Errorf("the pull took %s of the fake clock, want at least %s of pacing", elapsed, min)
		}
	}
	want, _ := expectedPunches(srv.Company(), w, time.Now(), false)
	got := map[string]bool{}
	for _, ev := range c.all() {
		if ev.Kind == mapping.KindPunch {
			got[ev.ID] = true
		}
	}
	if len(got) != len(want) || len(want) < 3000 {
		t.Fatalf("punches = %d, want %d (no record lost)", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("punch %s lost", id)
		}
	}
}

func TestBucketKeepsEveryMinuteUnderTheLimit(t *testing.T) {
	l := newLimits(Config{Concurrency: 1, RateLimits: map[string]int{"getapprovaldetail": 60}}, nil, nil, slog.New(slog.DiscardHandler))
	clk := &clock{Clock: clocktest.New(monday)}
	l.now, l.sleep = clk.Now, clk.sleep
	var calls []time.Time
	for i := 0; i < 200; i++ {
		if err := l.wait(context.Background(), apiApprovalDetail); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, clk.Now())
	}
	for i := range calls {
		n := 0
		for j := i; j < len(calls) && calls[j].Sub(calls[i]) < time.Minute; j++ {
			n++
		}
		if n > 59 {
			t.Fatalf("%d calls in the minute from call %d, want at most 59", n, i)
		}
	}
	if span := calls[len(calls)-1].Sub(calls[0]); span > 200*time.Minute/59+time.Second {
		t.Errorf("200 calls took %s: the bucket is slower than it needs to be", span)
	}
}
