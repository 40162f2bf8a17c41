package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
)

// memLocker is a Locker for one test: locks shared by the "replicas" that
// use the same memLocker.
type memLocker struct {
	mu   sync.Mutex
	held map[string]bool
}

type memLock struct {
	l    *memLocker
	name string
}

func (m *memLocker) TryLock(_ context.Context, name string, _ time.Duration) (Lock, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held == nil {
		m.held = map[string]bool{}
	}
	if m.held[name] {
		return nil, false, nil
	}
	m.held[name] = true
	return memLock{m, name}, true, nil
}

func (l memLock) KeepAlive(context.Context, time.Duration) func() { return func() {} }
func (l memLock) Release(context.Context) error {
	l.l.mu.Lock()
	defer l.l.mu.Unlock()
	delete(l.l.held, l.name)
	return nil
}

func runLog(t *testing.T) ledger.RunLog {
	t.Helper()
	l, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestGuardOncePerTick: three replicas fire on every tick; each tick runs
// exactly once, and the run log has one run per tick.
func TestGuardOncePerTick(t *testing.T) {
	ctx := context.Background()
	runs := runLog(t)
	locks := &memLocker{}
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	var executed atomic.Int32
	job := func(context.Context, time.Time) (any, error) {
		executed.Add(1)
		return map[string]int{"records_pushed": 1}, nil
	}
	const ticks = 20
	for i := 0; i < ticks; i++ {
		tick := now.Add(time.Duration(i) * time.Hour)
		var wg sync.WaitGroup
		for r := 0; r < 3; r++ {
			g := Guard{Runs: runs, Locks: locks, Owner: string(rune('a' + r)), Now: func() time.Time { return tick }}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := g.Run(ctx, "nightly", TriggerSchedule, tick, job); err != nil && !errors.Is(err, ErrSkipped) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// A replica whose clock lagged fires after the others finished and
		// released the lock: the run log stops it.
		late := Guard{Runs: runs, Locks: locks, Owner: "late", Now: func() time.Time { return tick }}
		if err := late.Run(ctx, "nightly", TriggerSchedule, tick, job); !errors.Is(err, ErrSkipped) {
			t.Fatalf("late replica on tick %d: %v, want ErrSkipped", i, err)
		}
	}
	if n := executed.Load(); n != ticks {
		t.Fatalf("executed %d times for %d ticks", n, ticks)
	}
	recorded, err := runs.Runs(ctx, "nightly", 0)
	if err != nil || len(recorded) != ticks {
		t.Fatalf("run log has %d runs, %v; want %d", len(recorded), err, ticks)
	}
	if recorded[0].Outcome != ledger.RunSucceeded || string(recorded[0].Counts) != `{"records_pushed":1}` {
		t.Fatalf("recorded run %+v", recorded[0])
	}
}

func TestGuardRecordsFailureAndManualRuns(t *testing.T) {
	ctx := context.Background()
	runs := runLog(t)
	tick := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	g := Guard{Runs: runs, Now: func() time.Time { return tick }}
	boom := errors.New("HR system down")
	if err := g.Run(ctx, "nightly", TriggerSchedule, tick, func(context.Context, time.Time) (any, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the job's error", err)
	}
	// A manual run of the same tick always runs.
	ran := false
	if err := g.Run(ctx, "nightly", TriggerManual, tick, func(context.Context, time.Time) (any, error) { ran = true; return nil, nil }); err != nil || !ran {
		t.Fatalf("manual run: %v, ran=%v", err, ran)
	}
	rs, _ := runs.Runs(ctx, "nightly", 0)
	if len(rs) != 2 || rs[1].Outcome != ledger.RunFailed || rs[1].Error != "HR system down" || rs[0].Trigger != TriggerManual {
		t.Fatalf("runs %+v", rs)
	}
}

func TestMissedTick(t *testing.T) {
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	spec := "CRON_TZ=Asia/Shanghai 0 2 * * *"
	cases := []struct {
		name     string
		lastRun  time.Time // zero: never ran
		now      time.Time
		wantTick time.Time // zero: nothing missed
	}{
		{"never ran: catch up the last tick", time.Time{}, time.Date(2026, 11, 21, 9, 0, 0, 0, cst), time.Date(2026, 11, 21, 2, 0, 0, 0, cst)},
		{"ran last night: nothing missed", time.Date(2026, 11, 21, 2, 0, 0, 0, cst), time.Date(2026, 11, 21, 9, 0, 0, 0, cst), time.Time{}},
		{"down over last night: catch up once", time.Date(2026, 11, 19, 2, 0, 0, 0, cst), time.Date(2026, 11, 21, 9, 0, 0, 0, cst), time.Date(2026, 11, 21, 2, 0, 0, 0, cst)},
		{"exactly at the tick", time.Date(2026, 11, 20, 2, 0, 0, 0, cst), time.Date(2026, 11, 21, 2, 0, 0, 0, cst), time.Date(2026, 11, 21, 2, 0, 0, 0, cst)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs := runLog(t)
			if !tc.lastRun.IsZero() {
				if _, err := runs.StartRun(ctx, ledger.JobRun{Job: "nightly", Tick: tc.lastRun, Trigger: TriggerSchedule, Started: tc.lastRun}); err != nil {
					t.Fatal(err)
				}
			}
			g := Guard{Runs: runs, Now: func() time.Time { return tc.now }}
			tick, ok, err := g.MissedTick(ctx, "nightly", spec, tc.now, 7*24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if ok != !tc.wantTick.IsZero() || (ok && !tick.Equal(tc.wantTick)) {
				t.Fatalf("MissedTick = %v %v, want %v", tick, ok, tc.wantTick)
			}
		})
	}
}
