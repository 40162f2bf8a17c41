package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk"
	"github.com/punchbridge/punchbridge/connectors/wecom"
	"github.com/punchbridge/punchbridge/explain"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/metrics"
	"github.com/punchbridge/punchbridge/server"
)

// newMetrics builds the deployment's metrics: every connector, sink and job
// of the config, with the platform connectors' own call counters.
func (a *app) newMetrics(log *slog.Logger) *metrics.Metrics {
	var conns []metrics.Connector
	for _, c := range a.set.Connectors {
		mc := metrics.Connector{Name: c.Name()}
		switch c := c.(type) {
		case *dingtalk.Connector:
			mc.Calls = func() map[string]map[string]int { return c.Stats().Codes }
		case *wecom.Connector:
			mc.Calls = func() map[string]map[string]int { return c.Stats().Codes }
		}
		conns = append(conns, mc)
	}
	var sinks, jobNames []string
	for _, s := range a.set.Sinks {
		sinks = append(sinks, s.Name())
	}
	for _, j := range a.cfg.Jobs {
		jobNames = append(jobNames, j.Name)
	}
	jobNames = append(jobNames, purgeRawJob)
	return metrics.New(metrics.Options{Ledger: a.ledger, Connectors: conns, Sinks: sinks, Jobs: jobNames, Now: a.now, Log: log})
}

// serverOptions builds the admin API, status page and webhook routes of
// serve (and demo --serve) on the app: its ledger, jobs, pushes, pulls,
// identity re-maps and explanations.
func (a *app) serverOptions(syncs map[string]*jobs.Sync, guard jobs.Guard, log *slog.Logger) server.Options {
	o := server.Options{
		Ingest:     a.ingester.Emit,
		Ready:      a.Ready,
		Log:        log,
		Metrics:    a.metrics,
		Ledger:     a.ledger,
		Connectors: a.set.Connectors,
		Location:   a.engine.Location(),
		Now:        a.now,
	}
	for _, c := range a.set.Connectors {
		if r, ok := c.(connectors.Receiver); ok {
			o.Receivers = append(o.Receivers, r)
		}
	}
	for _, t := range a.cfg.Admin.Tokens {
		o.Tokens = append(o.Tokens, server.Token{Name: t.Name, Value: t.Token.Reveal(), Role: server.Role(t.Role)})
	}
	for _, j := range a.cfg.Jobs {
		s := syncs[j.Name]
		o.Jobs = append(o.Jobs, server.Job{Name: j.Name, Schedule: j.Spec(), Run: manualRun(guard, j.Name, syncRun(s))})
	}
	o.Jobs = append(o.Jobs, server.Job{Name: purgeRawJob, Schedule: a.purgeRawSpec(), Run: manualRun(guard, purgeRawJob, a.purgeRaw)})
	o.Push = func(ctx context.Context, sink string) (server.PushResult, error) {
		job, err := a.pushJob(sink)
		if err != nil {
			return server.PushResult{}, err
		}
		rep, err := job.PushDue(ctx, a.now())
		return server.PushResult{Delivered: rep.RecordsPushed + rep.EventsPushed, Failed: rep.PushFailures, DeadLettered: rep.DeadLettered}, err
	}
	o.Pull = func(ctx context.Context, connector string, from, to time.Time) (any, error) {
		return a.pullWindow(ctx, connector, connectors.Window{From: from, To: to})
	}
	o.Remap = func(ctx context.Context, platform, tenant, userID, employeeID string) (int, error) {
		if employeeID != "" {
			a.ids.Set(platform, tenant, userID, employeeID)
		}
		return a.ingester.Remap(ctx, platform, tenant, userID)
	}
	o.Explain = func(ctx context.Context, employeeID, date string) (explain.Report, error) {
		return explain.Day(ctx, a.ledger, a.engine, explain.Checkpoints(a.ledger, pulledSources(a.set)), employeeID, date)
	}
	o.Teams = a.teams
	return o
}

// manualRun runs a job now through the guard, as a manual run; a run of the
// same job already going answers busy.
func manualRun(g jobs.Guard, name string, job jobs.Job) func(ctx context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		var rep any
		err := g.Run(ctx, name, jobs.TriggerManual, g.Now(), func(ctx context.Context, now time.Time) (any, error) {
			r, err := job(ctx, now)
			rep = r
			return r, err
		})
		if errors.Is(err, jobs.ErrSkipped) {
			return nil, fmt.Errorf("%w: %w", server.ErrBusy, err)
		}
		return rep, err
	}
}

// teams maps each employee to a team, the first department the directory
// lists them in, for the status page's calendars. The directories reuse
// their last walk, so a page load costs no platform call.
func (a *app) teams(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range a.set.Connectors {
		d, ok := c.(connectors.Directory)
		if !ok {
			continue
		}
		users, err := d.Users(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			emp, ok := a.ids.Lookup(d.Platform(), d.Tenant(), u.UserID)
			if ok && len(u.Departments) > 0 {
				out[emp] = c.Name() + " " + u.Departments[0]
			}
		}
	}
	return out, nil
}
