package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/explain"
)

const explainUsage = `usage: punchbridge explain --config FILE --employee E --date D [--json]

Shows how an employee's day record was computed, from the events in the
ledger and the attendance rules of the config: the shift occurrence and its
window, whether the day is final at the watermark (the oldest checkpoint of
the config's connectors), every punch considered or left out with the
reason, each rule's decision with the numbers compared, the leave, overtime
and make-ups applied, and every stored version with the fields that changed.

Text by default; --json prints the same report as JSON, as the admin API
serves it at GET /api/v1/days/{employee}/{date}/explain.

Example:
  punchbridge explain --config punchbridge.yaml --employee E1002 --date 2026-11-20
`

func runExplain(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, explainUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	employee := fs.String("employee", "", "HR employee id, e.g. E1002 (required)")
	date := fs.String("date", "", "the day, YYYY-MM-DD (required)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *cfgPath == "" || *employee == "" || *date == "" {
		fmt.Fprintln(env.stderr, "explain: --config, --employee and --date are required")
		return exitUsage
	}
	a, err := loadApp(ctx, env, *cfgPath)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return exitFailure
	}
	defer a.Close()
	rep, err := explain.Day(ctx, a.ledger, a.engine, explain.Checkpoints(a.ledger, pulledSources(a.set)), *employee, *date)
	switch {
	case errors.Is(err, explain.ErrInvalid):
		fmt.Fprintln(env.stderr, err)
		return exitUsage
	case err != nil:
		fmt.Fprintln(env.stderr, err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.Text(env.stdout)
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "explain: write:", err)
		return exitFailure
	}
	return exitOK
}

// pulledSources names the connectors that are pulled, whose checkpoints
// make the watermark.
func pulledSources(set *connectors.Set) []string {
	var names []string
	for _, c := range set.Connectors {
		if _, ok := c.(connectors.Source); ok {
			names = append(names, c.Name())
		}
	}
	return names
}
