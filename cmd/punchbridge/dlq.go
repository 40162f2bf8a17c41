package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

const dlqUsage = `usage: punchbridge dlq list|show|replay --config FILE [--sink S] [--since T] [--id ID]

The dead-letter queue holds deliveries that failed max_attempts times or
that the HR system refused outright, each with its last error.

  list     the dead deliveries, oldest first
  show     one delivery in full, with its day record (--id)
  replay   put the selected deliveries back into the outbox and deliver them
           now; what fails again returns to the queue

--since takes RFC 3339 (2026-11-21T02:00:00+08:00) or a date (2026-11-21),
and selects deliveries that failed at or after it.

Examples:
  punchbridge dlq list --config punchbridge.yaml --sink payroll
  punchbridge dlq show --config punchbridge.yaml --id 42
  punchbridge dlq replay --config punchbridge.yaml --sink payroll --since 2026-11-21
`

func runDLQ(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.stderr, dlqUsage)
		return map[bool]int{true: exitOK, false: exitUsage}[len(args) > 0]
	}
	action := args[0]
	fs := flag.NewFlagSet("dlq "+action, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, dlqUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	sink := fs.String("sink", "", "only this sink")
	sinceArg := fs.String("since", "", "only deliveries that failed at or after this time")
	id := fs.Int64("id", 0, "only this delivery")
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if action != "list" && action != "show" && action != "replay" {
		fmt.Fprintf(env.stderr, "dlq: unknown action %q; use list, show or replay\n", action)
		return exitUsage
	}
	if *cfgPath == "" || (action == "show" && *id == 0) {
		fmt.Fprintln(env.stderr, "dlq: --config is required, and show needs --id")
		return exitUsage
	}
	since, err := parseSince(*sinceArg)
	if err != nil {
		fmt.Fprintln(env.stderr, "dlq:", err)
		return exitUsage
	}
	a, err := loadApp(ctx, env, *cfgPath)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return exitFailure
	}
	defer a.Close()
	dl, ok := a.ledger.(ledger.DeadLetters)
	if !ok {
		fmt.Fprintln(env.stderr, "dlq: this ledger has no dead-letter queue")
		return exitFailure
	}
	entries, err := deadLetters(ctx, dl, *sink, since, *id)
	if err != nil {
		fmt.Fprintln(env.stderr, "dlq:", err)
		return exitFailure
	}
	switch action {
	case "list":
		err = dlqList(env, entries)
	case "show":
		if len(entries) == 0 {
			err = fmt.Errorf("no dead delivery with id %d", *id)
			break
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(entries[0])
	case "replay":
		err = dlqReplay(ctx, env, a, dl, entries, *sink)
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "dlq "+action+":", err)
		return exitFailure
	}
	return exitOK
}

// deadLetters lists the dead deliveries matching the filters.
func deadLetters(ctx context.Context, dl ledger.DeadLetters, sink string, since time.Time, id int64) ([]ledger.OutboxEntry, error) {
	all, err := dl.Outbox(ctx, sink, ledger.DeliveryDead, 0)
	if err != nil {
		return nil, err
	}
	var out []ledger.OutboxEntry
	for _, e := range all {
		if (id != 0 && e.ID != id) || (!since.IsZero() && e.UpdatedAt.Before(since)) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func dlqList(env *cmdEnv, entries []ledger.OutboxEntry) error {
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSINK\tEMPLOYEE\tDATE\tSHIFT\tVERSION\tATTEMPTS\tFAILED AT\tLAST ERROR")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", e.ID, e.Sink, e.Record.EmployeeID, e.Record.Date, e.Record.Shift,
			e.Record.Version, e.Attempts, e.UpdatedAt.Format(time.RFC3339), e.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "%d dead deliveries\n", len(entries))
	return nil
}

// dlqReplay requeues the entries and delivers them at once.
func dlqReplay(ctx context.Context, env *cmdEnv, a *app, dl ledger.DeadLetters, entries []ledger.OutboxEntry, sink string) error {
	now := a.now()
	requeued := 0
	for _, e := range entries {
		ok, err := dl.Requeue(ctx, e.ID, now)
		if err != nil {
			return err
		}
		if ok {
			requeued++
		}
	}
	job, err := a.pushJob(sink)
	if err != nil {
		return err
	}
	rep, err := job.PushDue(ctx, now)
	fmt.Fprintf(env.stdout, "requeued %d, delivered %d, failed again %d (%d back in the dead-letter queue)\n",
		requeued, rep.RecordsPushed, rep.PushFailures, rep.DeadLettered)
	if err != nil {
		return err
	}
	if rep.PushFailures > 0 {
		return errors.New("some deliveries failed again; see 'punchbridge dlq list'")
	}
	return nil
}

// parseSince reads --since: RFC 3339 or a date (midnight UTC).
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if _, err := strconv.Atoi(s); err == nil {
		return time.Time{}, fmt.Errorf("--since %q: write a time such as 2026-11-21T02:00:00+08:00 or a date such as 2026-11-21", s)
	}
	return time.Time{}, fmt.Errorf("--since %q is not RFC 3339 (2026-11-21T02:00:00+08:00) or a date (2026-11-21)", s)
}
