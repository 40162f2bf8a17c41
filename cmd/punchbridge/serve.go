package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/server"
)

const serveUsage = `usage: punchbridge serve --config FILE [--listen ADDR] [--debug-listen ADDR]

Runs the webhook receivers, the health endpoints and the job scheduler
until interrupted.

Example:
  DINGTALK_APP_SECRET=... HR_TOKEN=... punchbridge serve --config punchbridge.yaml
`

func runServe(ctx context.Context, env *cmdEnv, args []string) int {
	cfg, ln, debugLn, code := serverCommand(env, "serve", serveUsage, args)
	if cfg == nil {
		return code
	}
	log := slog.New(slog.NewJSONHandler(env.stderr, nil))
	defer startDebug(debugLn, log)()
	if err := serve(ctx, cfg, log, ln); err != nil {
		log.Error("serve stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

// serverCommand parses the flags of a command that serves HTTP (--config,
// --listen, --debug-listen), loads the config and listens on its
// server.listen, or on --listen when that is set, and for profiles on
// server.debug_listen or --debug-listen (debug is nil when neither is set).
// On --help or a failure, which it explains on stderr, it returns a nil
// config and the exit code.
func serverCommand(env *cmdEnv, name, usage string, args []string) (cfg *config.Config, ln, debug net.Listener, code int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, usage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	listen := fs.String("listen", "", "listen address (default: server.listen from the config)")
	debugListen := fs.String("debug-listen", "", "address serving Go profiles at /debug/pprof/, unauthenticated: keep it on loopback (default: server.debug_listen from the config, or none)")
	if code, done := parseFlags(fs, args); done {
		return nil, nil, nil, code
	}
	if *cfgPath == "" {
		fmt.Fprintf(env.stderr, "%s: --config is required\n", name)
		fs.Usage()
		return nil, nil, nil, exitUsage
	}
	cfg, err := config.Load(*cfgPath, env.getenv)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return nil, nil, nil, exitFailure
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *debugListen != "" {
		if _, _, err := net.SplitHostPort(*debugListen); err != nil {
			fmt.Fprintf(env.stderr, "%s: --debug-listen %q: want host:port, such as 127.0.0.1:6060\n", name, *debugListen)
			return nil, nil, nil, exitUsage
		}
		cfg.Server.DebugListen = *debugListen
	}
	ln, err = net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: listen on %s: %v\n", name, cfg.Server.Listen, err)
		return nil, nil, nil, exitFailure
	}
	if cfg.Server.DebugListen != "" {
		debug, err = net.Listen("tcp", cfg.Server.DebugListen)
		if err != nil {
			ln.Close()
			fmt.Fprintf(env.stderr, "%s: listen for profiles on %s: %v; pick a free port or leave server.debug_listen out\n", name, cfg.Server.DebugListen, err)
			return nil, nil, nil, exitFailure
		}
	}
	return cfg, ln, debug, exitOK
}

// serve runs until ctx ends, answering HTTP on ln (which it closes).
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ln net.Listener) error {
	defer ln.Close()
	a, err := openApp(ctx, cfg, connectors.Deps{Logger: log, Now: time.Now})
	if err != nil {
		return err
	}
	defer a.Close()

	sched := jobs.NewScheduler(log, time.Now, a.engine.Location())
	guard := a.guard()
	var catchUp []func(context.Context)
	syncs := map[string]*jobs.Sync{}
	for _, j := range cfg.Jobs {
		s, err := a.syncJob(j)
		if err != nil {
			return err
		}
		// Map users before the first run, so that webhook events are not
		// quarantined until then; a failure here is retried by every run.
		if _, err := s.RefreshIdentities(ctx); err != nil {
			log.Warn("identity refresh failed at start-up", "job", j.Name, "err", err)
		}
		syncs[j.Name] = s
		if err := sched.Add(j.Name, j.Spec(), runRecorded(guard, j.Name, syncRun(s))); err != nil {
			return err
		}
		if j.CatchUp == nil || *j.CatchUp {
			catchUp = append(catchUp, func(ctx context.Context) { catchUpJob(ctx, guard, j.Name, j.Spec(), s, log) })
		}
	}
	if err := sched.Add(purgeRawJob, a.purgeRawSpec(), runRecorded(guard, purgeRawJob, a.purgeRaw)); err != nil {
		return err
	}

	var wg sync.WaitGroup
	workCtx, stopWork := context.WithCancel(ctx)
	defer func() { stopWork(); wg.Wait() }()
	for _, c := range a.set.Connectors {
		if w, ok := c.(connectors.Worker); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.Work(workCtx, a.ingester.Emit); err != nil {
					log.Error("connector background work stopped", "connector", w.Name(), "err", err)
				}
			}()
		}
	}
	srv := &http.Server{
		Handler:           server.New(a.serverOptions(syncs, guard, log)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	sched.Start(ctx)
	for _, c := range catchUp {
		wg.Add(1)
		go func() { defer wg.Done(); c(workCtx) }()
	}
	log.Info("serving", "addr", ln.Addr().String(), "jobs", len(cfg.Jobs), "connectors", len(a.set.Connectors), "sinks", len(a.set.Sinks))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return errors.Join(fmt.Errorf("http server: %w", err), sched.Stop(context.WithoutCancel(ctx)))
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	herr := srv.Shutdown(shutdown)
	serr := sched.Stop(shutdown)
	if herr != nil && !errors.Is(herr, http.ErrServerClosed) {
		return errors.Join(herr, serr)
	}
	return serr
}

// catchUpJob runs, once, the tick of a job that was due while every replica
// was down (catch_up: true, the default). The tick lock and the run log make
// it run once even when several replicas start together.
func catchUpJob(ctx context.Context, g jobs.Guard, name, spec string, s *jobs.Sync, log *slog.Logger) {
	tick, missed, err := g.MissedTick(ctx, name, spec, g.Now(), 8*24*time.Hour)
	if err != nil {
		log.Error("catch-up check failed", "job", name, "err", err)
		return
	}
	if !missed {
		return
	}
	log.Info("catching up a missed run", "job", name, "tick", tick)
	err = g.Run(ctx, name, jobs.TriggerCatchUp, tick, func(ctx context.Context, now time.Time) (any, error) {
		return s.Run(ctx, now)
	})
	if err != nil && !errors.Is(err, jobs.ErrSkipped) {
		log.Error("catch-up run failed", "job", name, "err", err)
	}
}

// parseFlags parses args; done is true when the command should exit with
// code (after --help, or on a flag error).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	case err != nil:
		return exitUsage, true
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments: %v\n", fs.Name(), fs.Args())
		return exitUsage, true
	}
	return 0, false
}
