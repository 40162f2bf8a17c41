package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/identity"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/groupcommit"
	"github.com/punchbridge/punchbridge/ledger/postgres"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/metrics"
	"github.com/punchbridge/punchbridge/reconcile"
)

// app is one configured Punchbridge: its ledger, rules engine, identity
// table, connectors and sinks, wired together.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	now      func() time.Time
	ledger   ledger.Ledger
	engine   *reconcile.Engine
	ids      *mapping.Identities
	ingester *ingest.Ingester
	set      *connectors.Set
	coord    *coordination // nil without Redis
	resolver identity.Resolver
	metrics  *metrics.Metrics
	// writer group-commits the ingest path's writes; it wraps ledger and
	// closes it.
	writer *groupcommit.Ledger
	// claims batches the Redis dedupe claims of concurrent ingests into
	// one round trip; nil without Redis.
	claims *groupcommit.Claims
	// forgetRedis deletes every Redis key under the config's prefix on
	// Close, for a run whose ledger goes away with it (a demo on a
	// temporary ledger): its claims would otherwise outlive it by days.
	forgetRedis bool
}

// openApp builds everything cfg describes. The caller closes the app.
func openApp(ctx context.Context, cfg *config.Config, deps connectors.Deps) (*app, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	engine, err := reconcile.Compile(cfg.Rules)
	if err != nil {
		return nil, ruleErrors(cfg, err)
	}
	var co *coordination
	if cfg.Redis != nil {
		if co, err = openCoordination(cfg.Redis, deps.Now); err != nil {
			return nil, err
		}
		deps.Tokens = co.tokens
	}
	resolver, err := identity.New(identityConfig(cfg.Identity), filepath.Dir(cfg.File), deps)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	l, err := openLedger(ctx, cfg.Ledger)
	if err != nil {
		return nil, err
	}
	// Callbacks whose work comes later are acknowledged once the work is
	// stored in the ledger.
	if tq, ok := l.(connectors.TaskStore); ok {
		deps.Tasks = tq
	}
	set, err := newRegistry().Build(cfg, deps)
	if err != nil {
		l.Close()
		return nil, err
	}
	a := &app{
		cfg:      cfg,
		log:      deps.Logger,
		now:      deps.Now,
		ledger:   l,
		engine:   engine,
		ids:      mapping.NewIdentities(),
		set:      set,
		coord:    co,
		resolver: resolver,
	}
	a.metrics = a.newMetrics(deps.Logger)
	a.writer = groupcommit.New(l, a.commitOptions("ledger"))
	a.ingester = ingest.New(a.writer, a.ids, engine, deps.Logger)
	if co != nil {
		a.claims = groupcommit.NewClaims(co.dedupe, a.commitOptions("claims"))
		a.ingester.WithClaimer(a.claims)
	}
	var eventSinks []string
	for _, k := range set.Sinks {
		if es, ok := k.(connectors.EventSink); ok && es.CarriesEvents() {
			eventSinks = append(eventSinks, k.Name())
		}
	}
	a.ingester.WithEventSinks(eventSinks...)
	a.ingester.WithMetrics(a.metrics)
	return a, nil
}

// commitOptions are the ledger config's batching for one of the ingest
// path's group-commit writers, its commits recorded in the metrics.
func (a *app) commitOptions(writer string) groupcommit.Options {
	m := a.metrics
	return groupcommit.Options{
		BatchSize: a.cfg.Ledger.BatchSize,
		BatchWait: a.cfg.Ledger.BatchWait,
		Observe:   func(c groupcommit.Commit) { m.Commit(writer, c.Items, c.Waited, c.Took) },
	}
}

// Ready reports whether the ledger and, when configured, Redis answer.
func (a *app) Ready(ctx context.Context) error {
	if err := a.ledger.Ping(ctx); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if a.coord != nil {
		if err := a.coord.Ping(ctx); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}

// identityConfig turns the config's identity section into the identity
// package's, the lookup starting from its defaults.
func identityConfig(c config.IdentityConfig) identity.Config {
	out := identity.Config{Field: c.Field, Table: c.Table}
	if l := c.Lookup; l != nil {
		lc := identity.DefaultLookupConfig()
		lc.URL, lc.Path, lc.Token, lc.Headers = l.URL, l.Path, l.Token, l.Headers
		if l.AuthScheme != "" {
			lc.AuthScheme = l.AuthScheme
		}
		for _, d := range []struct {
			dst *time.Duration
			v   time.Duration
		}{{&lc.Timeout, l.Timeout}, {&lc.RetryWait, l.RetryWait}, {&lc.CacheTTL, l.CacheTTL}, {&lc.MissTTL, l.MissTTL}} {
			if d.v != 0 {
				*d.dst = d.v
			}
		}
		if l.MaxRetries != 0 {
			lc.MaxRetries = l.MaxRetries
		}
		out.Lookup = &lc
	}
	return out
}

func openLedger(ctx context.Context, c config.LedgerConfig) (ledger.Ledger, error) {
	switch c.Driver {
	case "", "sqlite":
		l, err := sqlite.Open(ctx, c.Path, sqlite.WithCheckpointInterval(c.CheckpointInterval))
		if err != nil {
			return nil, fmt.Errorf("open ledger %s: %w", c.Path, err)
		}
		return l, nil
	case "postgres":
		l, err := postgres.Open(ctx, c.DSN.Reveal())
		if err != nil {
			return nil, fmt.Errorf("open ledger: %w", err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("ledger.driver %q: use sqlite or postgres", c.Driver)
}

func (a *app) Close() error {
	var err error
	if a.claims != nil {
		err = a.claims.Close()
	}
	err = errors.Join(err, a.writer.Close()) // commits what is queued, then closes the ledger
	if a.coord != nil {
		if a.forgetRedis {
			// After the writers: the claims' last commits are in.
			if _, ferr := coord.DeleteAll(context.Background(), a.coord.rdb, a.coord.keys); ferr != nil {
				err = errors.Join(err, fmt.Errorf("redis: delete the run's keys: %w", ferr))
			}
		}
		err = errors.Join(err, a.coord.Close())
	}
	return err
}

// syncJob builds the pull → reconcile → push job j describes.
func (a *app) syncJob(j config.Job) (*jobs.Sync, error) {
	s := &jobs.Sync{
		Name:          j.Name,
		IdentityField: a.cfg.Identity.Field,
		Resolver:      a.resolver,
		Ledger:        a.ledger,
		Ingester:      a.ingester,
		Identities:    a.ids,
		Engine:        a.engine,
		Lookback:      j.Lookback,
		Log:           a.log,
	}
	var errs []error
	for _, c := range pick(a.set.Connectors, j.Connectors) {
		src, ok := c.(connectors.Source)
		if !ok {
			errs = append(errs, fmt.Errorf("job %s: connector %s cannot be pulled", j.Name, c.Name()))
			continue
		}
		s.Sources = append(s.Sources, src)
		if d, ok := c.(connectors.Directory); ok {
			s.Directories = append(s.Directories, d)
		}
	}
	s.Sinks = pick(a.set.Sinks, j.Sinks)
	s.SinkPush = a.sinkPush()
	s.Metrics = a.metrics
	if a.coord != nil {
		s.Claims = a.coord.deliveries
	}
	return s, errors.Join(errs...)
}

// sinkPush is each sink's delivery settings from the config.
func (a *app) sinkPush() map[string]jobs.PushOptions {
	out := map[string]jobs.PushOptions{}
	for _, c := range a.cfg.Sinks {
		d := c.Delivery
		out[c.Name] = jobs.PushOptions{Workers: d.Workers, MaxAttempts: d.MaxAttempts, Backoff: jobs.ExpBackoff(d.Backoff, d.MaxBackoff),
			Location: c.Privacy.Location}
	}
	return out
}

// pick returns the items named in names, or all of them when names is
// empty; config validation has already checked that every name exists.
func pick[T interface{ Name() string }](items []T, names []string) []T {
	if len(names) == 0 {
		return items
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []T
	for _, it := range items {
		if want[it.Name()] {
			out = append(out, it)
		}
	}
	return out
}

// loadApp loads the config at path and opens everything it describes, for
// the subcommands that operate on a deployment (jobs, dlq, push, pull).
func loadApp(ctx context.Context, env *cmdEnv, path string) (*app, error) {
	cfg, err := config.Load(path, env.getenv)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return openApp(ctx, cfg, connectors.Deps{Logger: log, Now: env.now})
}

// guard is the job guard of this process: runs recorded in the ledger.
func (a *app) guard() jobs.Guard {
	g := jobs.Guard{Now: a.now, Log: a.log, Owner: hostname(), Metrics: a.metrics}
	if rl, ok := a.ledger.(ledger.RunLog); ok {
		g.Runs = rl
	}
	if a.coord != nil {
		g.Locks = jobLocker{a.coord.locker}
	}
	return g
}

// job returns the sync job named name from the config.
func (a *app) job(name string) (*jobs.Sync, config.Job, error) {
	for _, j := range a.cfg.Jobs {
		if j.Name == name {
			s, err := a.syncJob(j)
			return s, j, err
		}
	}
	names := make([]string, 0, len(a.cfg.Jobs))
	for _, j := range a.cfg.Jobs {
		names = append(names, j.Name)
	}
	return nil, config.Job{}, fmt.Errorf("no job named %q in %s (jobs: %v)", name, a.cfg.File, names)
}

// purgeRawJob is the built-in job that deletes raw platform payloads older
// than privacy.raw_retention; it runs daily at 03:30 in the rules' zone.
const (
	purgeRawJob  = "purge-raw"
	purgeRawCron = "30 3 * * *"
)

func (a *app) purgeRawSpec() string {
	return "CRON_TZ=" + a.engine.Location().String() + " " + purgeRawCron
}

// purgeRaw is the purge-raw job.
func (a *app) purgeRaw(ctx context.Context, now time.Time) (any, error) {
	rs, ok := a.ledger.(ledger.RawStore)
	if !ok {
		return nil, nil
	}
	cutoff := now.Add(-a.cfg.Privacy.RawRetention)
	n, err := rs.PurgeRaw(ctx, cutoff)
	return map[string]any{"raw_payloads_purged": n, "received_before": cutoff}, err
}

// pushJob is a job that only delivers: every sink of the config, or the one
// named.
func (a *app) pushJob(sink string) (*jobs.Sync, error) {
	s := &jobs.Sync{Name: "push", Ledger: a.ledger, Ingester: a.ingester, Identities: a.ids, Engine: a.engine, Log: a.log, SinkPush: a.sinkPush(), Metrics: a.metrics}
	if a.coord != nil {
		s.Claims = a.coord.deliveries
	}
	for _, k := range a.set.Sinks {
		if sink == "" || k.Name() == sink {
			s.Sinks = append(s.Sinks, k)
		}
	}
	if len(s.Sinks) == 0 {
		return nil, fmt.Errorf("no sink named %q in %s", sink, a.cfg.File)
	}
	return s, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}
