package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/identity"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/groupcommit"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics"
)

// Engine computes day records; reconcile.Engine implements it.
type Engine interface {
	ingest.Calendar
	Employee(employeeID string, events []mapping.Event, from, to string, watermark time.Time) ([]mapping.DayRecord, error)
	EventSpan(from, to string) (start, end time.Time)
	Location() *time.Location
}

// Sync is the pull → reconcile → push job.
type Sync struct {
	Name        string
	Sources     []connectors.Source
	Directories []connectors.Directory
	// IdentityField is the directory field that holds the employee id:
	// job_number, mobile, email, user_id or attr:<name>.
	IdentityField string
	Sinks         []connectors.Sink
	Ledger        ledger.Ledger
	Ingester      *ingest.Ingester
	Identities    *mapping.Identities
	// Resolver maps directory users to employee ids (a table, an HR
	// lookup); nil reads IdentityField from the directory.
	Resolver identity.Resolver
	Engine   Engine
	// Lookback is re-pulled before each checkpoint, because devices upload
	// offline punches up to 72 hours late and make-ups are approved later.
	Lookback time.Duration
	// Push tunes delivery; SinkPush overrides it per sink name.
	Push     PushOptions
	SinkPush map[string]PushOptions
	// Metrics counts pulls and pushes; nil records nothing.
	Metrics *metrics.Metrics
	// Claims, when replicas share the outbox, keeps two of them from
	// sending one delivery at once; nil in a single process.
	Claims DeliveryClaims
	Log    *slog.Logger
	// PhaseClock times the phases of a run (Report.PhaseMS): the wall
	// clock, not the as-of time a run is given; nil is time.Now.
	PhaseClock func() time.Time
}

// Report is what one run did. Its JSON names are the demo's summary fields.
type Report struct {
	Job            string         `json:"job"`
	EventsPulled   int            `json:"events_pulled"`
	EventsStored   int            `json:"events_stored"`
	Revisions      int            `json:"revisions"`
	Duplicates     int            `json:"duplicates"`
	Rejected       int            `json:"rejected"`
	Quarantined    int            `json:"quarantined"`
	Remapped       int            `json:"remapped"`
	DaysReconciled int            `json:"days_reconciled"`
	DaysChanged    int            `json:"days_changed"`
	RecordsPushed  int            `json:"records_pushed"`
	EventsPushed   int            `json:"events_pushed"`
	PushFailures   int            `json:"push_failures"`
	DeadLettered   int            `json:"dead_lettered"`
	APICalls       int            `json:"api_calls"`
	APICallsByAPI  map[string]int `json:"api_calls_by_api,omitempty"`
	// Quota is, per connector and API, how much of the platform's rate
	// limit the run's pull used; sources that know their limits report it.
	Quota map[string]map[string]connectors.QuotaUse `json:"quota,omitempty"`
	// Watermark is the oldest checkpoint of the job's sources.
	Watermark time.Time `json:"watermark"`
	// PhaseMS is how long each phase of the run took, in milliseconds:
	// identities (the directory walk), pull, reconcile and push; it tells
	// where a night's time went.
	PhaseMS map[string]int64 `json:"phase_ms,omitempty"`
}

// phaseTimer records the phases of a run into a report, each from the end
// of the one before.
type phaseTimer struct {
	clock func() time.Time
	last  time.Time
	rep   *Report
}

// startPhases starts timing rep's phases now.
func (s *Sync) startPhases(rep *Report) *phaseTimer {
	clock := s.PhaseClock
	if clock == nil {
		clock = time.Now
	}
	rep.PhaseMS = map[string]int64{}
	return &phaseTimer{clock: clock, last: clock(), rep: rep}
}

// done records the phase that ends now.
func (t *phaseTimer) done(phase string) {
	now := t.clock()
	t.rep.PhaseMS[phase] += now.Sub(t.last).Milliseconds()
	t.last = now
}

// Run executes the job once as of now. A source that fails does not stop
// the others, but its checkpoint stays put (so the next run re-pulls its
// window) and Run returns its error after pushing what could be pushed.
func (s *Sync) Run(ctx context.Context, now time.Time) (Report, error) {
	rep := Report{Job: s.Name, APICallsByAPI: map[string]int{}}
	log := s.logger().With("job", s.Name)
	var errs []error
	phases := s.startPhases(&rep)

	n, err := s.RefreshIdentities(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	rep.Remapped = n
	phases.done("identities")

	for _, src := range s.Sources {
		if err := s.pull(ctx, src, now, &rep); err != nil {
			log.Error("pull failed", "connector", src.Name(), "err", err)
			errs = append(errs, err)
		}
	}
	phases.done("pull")

	wms, err := s.watermarks(ctx)
	if err != nil {
		errs = append(errs, err)
	} else {
		rep.Watermark = wms.min
		if err := s.reconcile(ctx, now, wms, &rep); err != nil {
			errs = append(errs, err)
		}
	}
	phases.done("reconcile")
	if err := s.push(ctx, now, &rep); err != nil {
		errs = append(errs, err)
	}
	phases.done("push")
	log.Info("job finished", "events_pulled", rep.EventsPulled, "events_stored", rep.EventsStored,
		"days_changed", rep.DaysChanged, "records_pushed", rep.RecordsPushed, "push_failures", rep.PushFailures,
		"identities_ms", rep.PhaseMS["identities"], "pull_ms", rep.PhaseMS["pull"],
		"reconcile_ms", rep.PhaseMS["reconcile"], "push_ms", rep.PhaseMS["push"])
	return rep, errors.Join(errs...)
}

func (s *Sync) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// pull fetches one source's window [checkpoint − lookback, now) and moves
// its checkpoint to now when the whole window was stored.
func (s *Sync) pull(ctx context.Context, src connectors.Source, now time.Time, rep *Report) error {
	from := now.Add(-s.Lookback)
	if cp, ok, err := s.Ledger.Checkpoint(ctx, src.Name()); err != nil {
		return fmt.Errorf("sync: read checkpoint of %s: %w", src.Name(), err)
	} else if ok && cp.Add(-s.Lookback).Before(from) {
		from = cp.Add(-s.Lookback)
	}
	var (
		mu     sync.Mutex // the source may store several batches at once
		counts ingest.Counts
	)
	stats, err := src.Pull(ctx, connectors.Window{From: from, To: now}, func(ctx context.Context, events []mapping.Event) error {
		// A source stores a batch or a few at a time, never a crowd: the
		// writer should not wait for company. Batches that arrive while
		// it commits join its next commit anyway.
		c, err := s.Ingester.Ingest(groupcommit.NoWait(ctx), events)
		mu.Lock()
		counts.Add(c)
		mu.Unlock()
		return err
	})
	rep.EventsPulled += stats.Events
	for api, n := range stats.APICalls {
		rep.APICalls += n
		rep.APICallsByAPI[api] += n
	}
	if len(stats.Quota) > 0 {
		if rep.Quota == nil {
			rep.Quota = map[string]map[string]connectors.QuotaUse{}
		}
		rep.Quota[src.Name()] = stats.Quota
		for api, q := range stats.Quota {
			s.Metrics.QuotaUse(src.Name(), api, q.Utilisation)
		}
	}
	rep.EventsStored += counts.Stored
	rep.Revisions += counts.Revisions
	rep.Duplicates += counts.Duplicates
	rep.Rejected += counts.Rejected
	rep.Quarantined += counts.Quarantined
	if err != nil {
		err = fmt.Errorf("sync: pull %s from %s to %s: %w", src.Name(), from.Format(time.RFC3339), now.Format(time.RFC3339), err)
	} else if cerr := s.Ledger.SetCheckpoint(ctx, src.Name(), now); cerr != nil {
		err = fmt.Errorf("sync: save checkpoint of %s: %w", src.Name(), cerr)
	}
	s.Metrics.Pull(src.Name(), now, stats.Events, err)
	return err
}

// watermarks holds how far each source is known to be complete.
type watermarks struct {
	min      time.Time            // the oldest checkpoint of all sources
	byTenant map[string]time.Time // "platform/tenant" → its sources' oldest checkpoint
}

// watermarks reads every source's checkpoint. A source that has never
// completed a pull has none, and then no day it feeds can be final.
func (s *Sync) watermarks(ctx context.Context) (watermarks, error) {
	w := watermarks{byTenant: map[string]time.Time{}}
	for i, src := range s.Sources {
		cp, ok, err := s.Ledger.Checkpoint(ctx, src.Name())
		if err != nil {
			return watermarks{}, fmt.Errorf("sync: read checkpoint of %s: %w", src.Name(), err)
		}
		if !ok {
			cp = time.Time{}
		}
		if i == 0 || cp.Before(w.min) {
			w.min = cp
		}
		key := src.Platform() + "/" + src.Tenant()
		if old, seen := w.byTenant[key]; !seen || cp.Before(old) {
			w.byTenant[key] = cp
		}
	}
	return w, nil
}

// For is the watermark of one employee: the oldest checkpoint among the
// sources of the tenants that feed the employee (DESIGN.md, "Attendance
// rules"), or the oldest of all sources when no directory maps the employee.
func (w watermarks) For(tenants []string) time.Time {
	var wm time.Time
	found := false
	for _, t := range tenants {
		cp, ok := w.byTenant[t]
		if !ok {
			continue
		}
		if !found || cp.Before(wm) {
			wm = cp
		}
		found = true
	}
	if !found {
		return w.min
	}
	return wm
}

// RefreshIdentities reloads the identity table from every directory
// through the resolver and takes out of quarantine the events of exactly
// the users whose mapping changed, returning how many events left it. Run
// does it first; serve also does it at start-up, so that webhook events
// arriving before the first run are mapped. On a process's first refresh
// every mapped user is a change, so the quarantine is scanned once instead
// of asking for each user.
func (s *Sync) RefreshIdentities(ctx context.Context) (int, error) {
	r := s.Resolver
	if r == nil {
		f, err := identity.ParseField(s.IdentityField)
		if err != nil {
			return 0, err
		}
		r = identity.DirectoryField{Field: f}
	}
	first := s.Identities.Len() == 0
	changes, err := identity.Refresh(ctx, s.Directories, r, s.Identities)
	var n int
	var rerr error
	if first {
		n, rerr = s.Ingester.RemapQuarantined(ctx)
	} else {
		n, rerr = identity.Remap(ctx, s.Ingester, changes)
	}
	return n, errors.Join(err, rerr)
}
