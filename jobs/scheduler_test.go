package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSchedulerSpecs(t *testing.T) {
	s := NewScheduler(nil, time.Now, time.UTC)
	noop := func(context.Context, time.Time) error { return nil }
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"0 2 * * *", true},
		{"CRON_TZ=Asia/Shanghai 0 2 * * *", true},
		{"@daily", true},
		{"0 25 * * *", false},
		{"every night", false},
		{"CRON_TZ=Mars/Olympus 0 2 * * *", false},
	} {
		err := s.Add("nightly", tc.spec, noop)
		if (err == nil) != tc.ok {
			t.Errorf("Add(%q) = %v, want ok=%v", tc.spec, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.spec) {
			t.Errorf("error %q does not name the spec", err)
		}
	}
}

func TestTickSkipsOverlapAndRecovers(t *testing.T) {
	var logs bytes.Buffer
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	s := NewScheduler(slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now }, time.UTC)
	s.Start(context.Background())

	release := make(chan struct{})
	started := make(chan struct{})
	var runs int
	var mu sync.Mutex
	tick := s.tick("nightly", func(ctx context.Context, at time.Time) error {
		mu.Lock()
		runs++
		mu.Unlock()
		if !at.Equal(now) {
			t.Errorf("run got time %v, want the scheduler clock's %v", at, now)
		}
		close(started)
		<-release
		return nil
	})
	done := make(chan struct{})
	go func() { tick(); close(done) }()
	<-started
	tick() // overlaps the first run: skipped at once
	close(release)
	<-done
	if runs != 1 || !strings.Contains(logs.String(), "tick skipped") {
		t.Fatalf("runs = %d, logs %q; want the overlapping tick skipped", runs, logs.String())
	}

	s.tick("boom", func(context.Context, time.Time) error { panic("bad rules") })()
	if !strings.Contains(logs.String(), "job panicked") {
		t.Fatalf("a panicking job must be recovered and logged: %q", logs.String())
	}
	s.tick("failing", func(context.Context, time.Time) error { return errors.New("ledger down") })()
	if !strings.Contains(logs.String(), "ledger down") {
		t.Fatalf("a failing job must be logged: %q", logs.String())
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStopCancelsAndWaits(t *testing.T) {
	s := NewScheduler(nil, time.Now, time.UTC)
	s.Start(context.Background())
	started := make(chan struct{})
	finished := make(chan struct{})
	tick := s.tick("long", func(ctx context.Context, _ time.Time) error {
		close(started)
		<-ctx.Done() // Stop cancels the run's context
		close(finished)
		return ctx.Err()
	})
	go tick()
	<-started
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Stop returned before the running job finished")
	}
}
