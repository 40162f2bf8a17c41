package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// RunFunc is one scheduled unit of work, run as of now.
type RunFunc func(ctx context.Context, now time.Time) error

// Scheduler calls jobs on cron schedules. It adds only what a schedule
// needs around a plain RunFunc: the time zone (CRON_TZ= in the spec),
// skipping a tick while the previous run of the same job is still going,
// recovering a panicking run, and waiting for running jobs on Stop.
type Scheduler struct {
	cron   *cron.Cron
	log    *slog.Logger
	now    func() time.Time
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewScheduler returns a stopped scheduler. now is the clock handed to each
// run; loc is the zone of specs without a CRON_TZ= prefix.
func NewScheduler(log *slog.Logger, now func() time.Time, loc *time.Location) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	return &Scheduler{
		cron: cron.New(cron.WithParser(parser), cron.WithLocation(loc)),
		log:  log,
		now:  now,
	}
}

// Add schedules run under name with a cron spec (5 fields or a descriptor,
// optionally prefixed with CRON_TZ=Zone).
func (s *Scheduler) Add(name, spec string, run RunFunc) error {
	if _, err := s.cron.AddFunc(spec, s.tick(name, run)); err != nil {
		return fmt.Errorf("jobs: schedule %s %q: %w", name, spec, err)
	}
	return nil
}

// tick is what cron calls: run the job unless its previous run is still in
// progress.
func (s *Scheduler) tick(name string, run RunFunc) func() {
	var mu sync.Mutex // held while a run of this job is in progress
	return func() {
		if !mu.TryLock() {
			s.log.Warn("job still running, tick skipped", "job", name)
			return
		}
		defer mu.Unlock()
		s.wg.Add(1)
		defer s.wg.Done()
		s.runOnce(name, run)
	}
}

func (s *Scheduler) runOnce(name string, run RunFunc) {
	start := s.now()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("job panicked", "job", name, "panic", fmt.Sprint(r))
		}
	}()
	s.log.Info("job started", "job", name)
	if err := run(s.ctx, start); err != nil {
		s.log.Error("job failed", "job", name, "err", err, "duration", s.now().Sub(start))
		return
	}
	s.log.Info("job succeeded", "job", name, "duration", s.now().Sub(start))
}

// Start begins calling jobs on their schedules. Runs get a context derived
// from ctx that Stop cancels.
func (s *Scheduler) Start(ctx context.Context) {
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.cron.Start()
}

// Stop stops scheduling, cancels running jobs' context and waits for them
// to return or for ctx to end.
func (s *Scheduler) Stop(ctx context.Context) error {
	stopped := s.cron.Stop()
	s.cancel()
	done := make(chan struct{})
	go func() {
		<-stopped.Done()
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: stop: %w", ctx.Err())
	}
}
