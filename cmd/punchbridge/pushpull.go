package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/groupcommit"
	"github.com/punchbridge/punchbridge/mapping"
)

const pushUsage = `usage: punchbridge push --config FILE [--sink NAME] [--dry-run]

Delivers the day records waiting in the outbox to every sink (or one),
without pulling or reconciling; failed deliveries back off and, after
their last attempt, go to the dead-letter queue. --dry-run lists what would
be delivered and sends nothing.

Example:
  punchbridge push --config punchbridge.yaml --sink payroll
`

func runPush(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, pushUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	sink := fs.String("sink", "", "only this sink")
	dry := fs.Bool("dry-run", false, "list what would be delivered; send nothing")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *cfgPath == "" {
		fmt.Fprintln(env.stderr, "push: --config is required")
		return exitUsage
	}
	a, err := loadApp(ctx, env, *cfgPath)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return exitFailure
	}
	defer a.Close()
	job, err := a.pushJob(*sink)
	if err != nil {
		fmt.Fprintln(env.stderr, "push:", err)
		return exitUsage
	}
	if *dry {
		total := 0
		for _, s := range job.Sinks {
			due, err := a.ledger.Due(ctx, s.Name(), a.now(), 0)
			if err != nil {
				fmt.Fprintln(env.stderr, "push:", err)
				return exitFailure
			}
			for _, e := range due {
				fmt.Fprintf(env.stdout, "%s\t%s\n", s.Name(), connectors.IdempotencyKey(s.Name(), e.Record))
			}
			total += len(due)
		}
		fmt.Fprintf(env.stderr, "%d deliveries due; nothing sent (--dry-run)\n", total)
		return exitOK
	}
	rep, err := job.PushDue(ctx, a.now())
	fmt.Fprintf(env.stdout, "delivered %d, failed %d, dead-lettered %d\n", rep.RecordsPushed, rep.PushFailures, rep.DeadLettered)
	if err != nil {
		fmt.Fprintln(env.stderr, "push:", err)
		return exitFailure
	}
	if rep.PushFailures > 0 {
		return exitFailure
	}
	return exitOK
}

const pullUsage = `usage: punchbridge pull --config FILE --connector NAME --from DATE --to DATE

One-shot backfill: pulls the connector's events for [--from, --to] (dates
are inclusive, in the rules' time zone; or RFC 3339 instants) into the
ledger and marks the days they touch for recomputation; the next job run
reconciles and pushes them. The connector's checkpoint is not moved.

Example:
  punchbridge pull --config punchbridge.yaml --connector dingtalk-hq --from 2026-10-01 --to 2026-10-31
`

func runPull(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, pullUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	name := fs.String("connector", "", "connector to pull (required)")
	fromArg := fs.String("from", "", "first day (required)")
	toArg := fs.String("to", "", "last day (required)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *cfgPath == "" || *name == "" || *fromArg == "" || *toArg == "" {
		fmt.Fprintln(env.stderr, "pull: --config, --connector, --from and --to are required")
		return exitUsage
	}
	a, err := loadApp(ctx, env, *cfgPath)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return exitFailure
	}
	defer a.Close()
	loc := a.engine.Location()
	from, err := parseDay(*fromArg, loc, false)
	if err == nil {
		var to time.Time
		to, err = parseDay(*toArg, loc, true)
		if err == nil && !to.After(from) {
			err = fmt.Errorf("--to %s is not after --from %s", *toArg, *fromArg)
		}
		if err == nil {
			err = pull(ctx, env, a, *name, connectors.Window{From: from, To: to})
		}
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "pull:", err)
		return exitFailure
	}
	return exitOK
}

func pull(ctx context.Context, env *cmdEnv, a *app, name string, w connectors.Window) error {
	bar := newProgress(env.stderr, "pull "+name, env.now)
	defer bar.Done()
	out, err := a.pullWindow(connectors.WithProgress(ctx, bar.Update), name, w)
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if eerr := enc.Encode(out); eerr != nil && err == nil {
		err = eerr
	}
	return err
}

// pullSummary is what a one-shot pull did.
type pullSummary struct {
	Connector string         `json:"connector"`
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Pulled    int            `json:"events_pulled"`
	Counts    ingest.Counts  `json:"ingest"`
	APICalls  map[string]int `json:"api_calls"`
	// Quota is how much of each rate-limited API's quota the pull used.
	Quota map[string]connectors.QuotaUse `json:"quota,omitempty"`
}

// pullWindow pulls a connector's events for w into the ledger, after
// mapping identities, without moving its checkpoint (a backfill).
func (a *app) pullWindow(ctx context.Context, name string, w connectors.Window) (pullSummary, error) {
	out := pullSummary{Connector: name, From: w.From, To: w.To}
	c, ok := a.set.Connector(name)
	if !ok {
		return out, fmt.Errorf("no connector named %q in %s", name, a.cfg.File)
	}
	src, ok := c.(connectors.Source)
	if !ok {
		return out, fmt.Errorf("connector %s cannot be pulled", name)
	}
	for _, j := range a.cfg.Jobs {
		s, err := a.syncJob(j)
		if err != nil {
			return out, err
		}
		if _, err := s.RefreshIdentities(ctx); err != nil {
			return out, err
		}
		break
	}
	var mu sync.Mutex // the source may store several batches at once
	stats, err := src.Pull(ctx, w, func(ctx context.Context, events []mapping.Event) error {
		c, err := a.ingester.Ingest(groupcommit.NoWait(ctx), events) // see jobs.Sync's pull
		mu.Lock()
		out.Counts.Add(c)
		mu.Unlock()
		return err
	})
	out.Pulled, out.APICalls, out.Quota = stats.Events, stats.APICalls, stats.Quota
	for api, q := range stats.Quota {
		a.metrics.QuotaUse(name, api, q.Utilisation)
	}
	a.metrics.Pull(name, a.now(), stats.Events, err)
	return out, err
}

// parseDay reads a YYYY-MM-DD date in loc (its start, or with end the start
// of the next day) or an RFC 3339 instant.
func parseDay(s string, loc *time.Location, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(ledger.DateLayout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2026-11-20) or an RFC 3339 time", s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
