package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/punchbridge/punchbridge/jobs"
)

const jobsUsage = `usage: punchbridge jobs list|history|run --config FILE [NAME] [flags]

  list              the configured jobs and the built-in purge-raw job
                    (deletes raw platform payloads past privacy.raw_retention):
                    schedule, next tick, last run
  history [NAME]    recorded runs, newest first (--limit N, default 20)
  run NAME          run a job now, as a manual run, and print its report

Examples:
  punchbridge jobs list --config punchbridge.yaml
  punchbridge jobs history --config punchbridge.yaml nightly --limit 5
  punchbridge jobs run --config punchbridge.yaml nightly
`

func runJobs(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.stderr, jobsUsage)
		return map[bool]int{true: exitOK, false: exitUsage}[len(args) > 0]
	}
	action := args[0]
	fs := flag.NewFlagSet("jobs "+action, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, jobsUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	limit := fs.Int("limit", 20, "history: how many runs")
	if err := fs.Parse(args[1:]); err != nil {
		return map[bool]int{true: exitOK, false: exitUsage}[errors.Is(err, flag.ErrHelp)]
	}
	if *cfgPath == "" {
		fmt.Fprintln(env.stderr, "jobs: --config is required")
		return exitUsage
	}
	name := fs.Arg(0)
	if action == "run" && name == "" {
		fmt.Fprintln(env.stderr, "jobs run: name the job to run")
		return exitUsage
	}
	if action != "list" && action != "history" && action != "run" {
		fmt.Fprintf(env.stderr, "jobs: unknown action %q; use list, history or run\n", action)
		return exitUsage
	}
	a, err := loadApp(ctx, env, *cfgPath)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return exitFailure
	}
	defer a.Close()
	switch action {
	case "list":
		err = jobsList(ctx, env, a)
	case "history":
		err = jobsHistory(ctx, env, a, name, *limit)
	case "run":
		err = jobsRun(ctx, env, a, name)
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "jobs "+action+":", err)
		return exitFailure
	}
	return exitOK
}

func jobsList(ctx context.Context, env *cmdEnv, a *app) error {
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tNEXT\tLAST RUN\tOUTCOME")
	now := a.now()
	type listed struct{ name, spec string }
	var all []listed
	for _, j := range a.cfg.Jobs {
		all = append(all, listed{j.Name, j.Spec()})
	}
	all = append(all, listed{purgeRawJob, a.purgeRawSpec()})
	for _, j := range all {
		next := "-"
		if sched, err := cron.ParseStandard(j.spec); err == nil {
			next = sched.Next(now).Format(time.RFC3339)
		}
		last, outcome := "never", "-"
		if g := a.guard(); g.Runs != nil {
			runs, err := g.Runs.Runs(ctx, j.name, 1)
			if err != nil {
				return err
			}
			if len(runs) > 0 {
				last, outcome = runs[0].Started.Format(time.RFC3339), string(runs[0].Outcome)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.name, j.spec, next, last, outcome)
	}
	return tw.Flush()
}

func jobsHistory(ctx context.Context, env *cmdEnv, a *app, name string, limit int) error {
	g := a.guard()
	if g.Runs == nil {
		return fmt.Errorf("the %s ledger keeps no run history", a.cfg.Ledger.Driver)
	}
	runs, err := g.Runs.Runs(ctx, name, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tTICK\tTRIGGER\tSTARTED\tDURATION\tOUTCOME\tERROR")
	for _, r := range runs {
		dur := "-"
		if !r.Finished.IsZero() {
			dur = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Job, r.Tick.Format(time.RFC3339), r.Trigger,
			r.Started.Format(time.RFC3339), dur, r.Outcome, r.Error)
	}
	return tw.Flush()
}

func jobsRun(ctx context.Context, env *cmdEnv, a *app, name string) error {
	job := a.purgeRaw
	if name != purgeRawJob {
		s, _, err := a.job(name)
		if err != nil {
			return err
		}
		job = syncRun(s)
	}
	var rep any
	err := a.guard().Run(ctx, name, jobs.TriggerManual, a.now(), func(ctx context.Context, now time.Time) (any, error) {
		r, err := job(ctx, now)
		rep = r
		return r, err
	})
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if eerr := enc.Encode(rep); eerr != nil {
		return errors.Join(err, eerr)
	}
	return err
}

// runRecorded is what serve's scheduler calls for a job on each tick.
func runRecorded(g jobs.Guard, name string, job jobs.Job) jobs.RunFunc {
	return func(ctx context.Context, now time.Time) error {
		err := g.Run(ctx, name, jobs.TriggerSchedule, now.Truncate(time.Minute), job)
		if errors.Is(err, jobs.ErrSkipped) {
			return nil
		}
		return err
	}
}

// syncRun adapts a sync job to jobs.Job.
func syncRun(s *jobs.Sync) jobs.Job {
	return func(ctx context.Context, now time.Time) (any, error) { return s.Run(ctx, now) }
}
