package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/metrics"
)

// Lock is a held distributed lock.
type Lock interface {
	// KeepAlive renews the lock every interval until stop is called.
	KeepAlive(ctx context.Context, every time.Duration) (stop func())
	// Release gives the lock up if this holder still owns it.
	Release(ctx context.Context) error
}

// Locker takes named locks shared by every replica (coord.Locker in
// production).
type Locker interface {
	TryLock(ctx context.Context, name string, ttl time.Duration) (Lock, bool, error)
}

// Trigger says why a run happened.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch_up"
	TriggerManual   = "manual"
)

// Guard runs a job at most once per scheduled tick across every replica
// and records each run. With no Locker (one process) it only records.
type Guard struct {
	Runs    ledger.RunLog
	Locks   Locker
	Owner   string // this replica's name, recorded with its runs
	Now     func() time.Time
	Log     *slog.Logger
	LockTTL time.Duration    // lock lease, renewed while running (default 2m)
	Metrics *metrics.Metrics // counts runs; nil records nothing
}

// ErrSkipped reports a tick that another replica ran or is running.
var ErrSkipped = errors.New("jobs: tick already taken by another run")

// Job is a run that reports what it did.
type Job func(ctx context.Context, now time.Time) (any, error)

// Run runs job for tick under the guard: it takes the tick's lock (held and
// renewed while the job runs, released by compare-and-delete afterwards),
// skips the tick if the run log already has a run for it, and records the
// run's start, end, outcome, error and report. The job itself runs as of
// the current time, which for a catch-up run is later than its tick.
func (g Guard) Run(ctx context.Context, name, trigger string, tick time.Time, job Job) error {
	ttl := g.LockTTL
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	if g.Locks != nil {
		lock, ok, err := g.Locks.TryLock(ctx, fmt.Sprintf("job:%s:%d", name, tick.Unix()), ttl)
		if err != nil {
			return fmt.Errorf("jobs: lock %s tick %s: %w", name, tick.Format(time.RFC3339), err)
		}
		if !ok {
			g.Metrics.JobRun(name, "skipped", 0)
			return ErrSkipped
		}
		stop := lock.KeepAlive(ctx, ttl/3)
		defer func() {
			stop()
			if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
				g.logger().Warn("job lock release failed", "job", name, "err", err)
			}
		}()
	}
	if trigger != TriggerManual && g.Runs != nil {
		done, err := g.ranTick(ctx, name, tick)
		if err != nil {
			return err
		}
		if done {
			g.Metrics.JobRun(name, "skipped", 0)
			return ErrSkipped
		}
	}
	return g.record(ctx, name, trigger, tick, job)
}

func (g Guard) record(ctx context.Context, name, trigger string, tick time.Time, job Job) error {
	if g.Runs == nil {
		_, err := job(ctx, g.Now())
		return err
	}
	started := g.Now()
	id, err := g.Runs.StartRun(ctx, ledger.JobRun{Job: name, Tick: tick, Trigger: trigger, Owner: g.Owner, Started: started})
	if err != nil {
		return err
	}
	report, runErr := job(ctx, g.Now())
	counts, err := json.Marshal(report)
	if err != nil {
		counts = nil
	}
	outcome, errText := ledger.RunSucceeded, ""
	if runErr != nil {
		outcome, errText = ledger.RunFailed, runErr.Error()
	}
	g.Metrics.JobRun(name, string(outcome), g.Now().Sub(started))
	if err := g.Runs.FinishRun(context.WithoutCancel(ctx), id, g.Now(), outcome, errText, counts); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// ranTick reports whether the run log has a scheduled or catch-up run of
// the job for tick (or a later one).
func (g Guard) ranTick(ctx context.Context, name string, tick time.Time) (bool, error) {
	last, ok, err := g.lastScheduled(ctx, name)
	if err != nil || !ok {
		return false, err
	}
	return !last.Before(tick), nil
}

// lastScheduled returns the tick of the job's newest non-manual run.
func (g Guard) lastScheduled(ctx context.Context, name string) (time.Time, bool, error) {
	runs, err := g.Runs.Runs(ctx, name, 50)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("jobs: read runs of %s: %w", name, err)
	}
	for _, r := range runs {
		if r.Trigger != TriggerManual {
			return r.Tick, true, nil
		}
	}
	return time.Time{}, false, nil
}

// MissedTick returns the latest tick of spec at or before now when the run
// log has no run for it: the nightly run that was due while every replica
// was down. ok is false when nothing was missed. Ticks are looked for up to
// within lookback before now.
func (g Guard) MissedTick(ctx context.Context, name, spec string, now time.Time, lookback time.Duration) (time.Time, bool, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("jobs: schedule of %s %q: %w", name, spec, err)
	}
	var last time.Time
	for t := sched.Next(now.Add(-lookback)); !t.After(now); t = sched.Next(t) {
		last = t
	}
	if last.IsZero() || g.Runs == nil {
		return time.Time{}, false, nil
	}
	done, err := g.ranTick(ctx, name, last)
	if err != nil || done {
		return time.Time{}, false, err
	}
	return last, true, nil
}

func (g Guard) logger() *slog.Logger {
	if g.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Log
}
