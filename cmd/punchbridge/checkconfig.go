package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/reconcile"
)

const checkConfigUsage = `usage: punchbridge check-config --config FILE

Validates a config file: its keys and types, ${NAME} secrets, schedules and
time zones, the attendance rules, and each connector's and sink's settings.
Every problem is printed on stderr as file:line: message, and the exit code
is 1 if there is any; otherwise a one-line summary goes to stdout.

Example:
  DINGTALK_APP_SECRET=... HR_TOKEN=... punchbridge check-config --config punchbridge.yaml
`

func runCheckConfig(_ context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, checkConfigUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (required)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *cfgPath == "" {
		fmt.Fprintln(env.stderr, "check-config: --config is required")
		fs.Usage()
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath, env.getenv)
	if err != nil {
		// The rules and the components are checked only once the file
		// itself is sound, so that one mistake is not reported twice.
		printProblems(env.stderr, err)
		return exitFailure
	}
	var errs []error
	if _, err := reconcile.Compile(cfg.Rules); err != nil {
		errs = append(errs, ruleErrors(cfg, err))
	}
	if _, err := newRegistry().Build(cfg, connectors.Deps{}); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		printProblems(env.stderr, errs...)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "ok: %d connectors, %d sinks, %d jobs\n", len(cfg.Connectors), len(cfg.Sinks), len(cfg.Jobs))
	return exitOK
}

// ruleErrors places each *reconcile.RuleError at its line in the file that
// holds the rules; other errors pass through.
func ruleErrors(cfg *config.Config, err error) error {
	var out []error
	for _, e := range leaves(err) {
		var re *reconcile.RuleError
		if !errors.As(e, &re) {
			out = append(out, e)
			continue
		}
		msg := re.Error()
		if cfg.RulesFileName == cfg.File {
			msg = "rules." + msg // inline rules: the path starts at rules:
		}
		out = append(out, &config.Error{File: cfg.RulesFileName, Line: config.LineOf(cfg.RulesNode, re.Path), Msg: msg})
	}
	return errors.Join(out...)
}

// printProblems prints one problem per line: those with a file:line first,
// sorted by file and line, then the others.
func printProblems(w io.Writer, errs ...error) {
	var located []*config.Error
	var other []error
	for _, err := range errs {
		for _, e := range leaves(err) {
			if ce, ok := e.(*config.Error); ok {
				located = append(located, ce)
			} else {
				other = append(other, e)
			}
		}
	}
	sort.SliceStable(located, func(i, j int) bool {
		if located[i].File != located[j].File {
			return located[i].File < located[j].File
		}
		return located[i].Line < located[j].Line
	})
	for _, e := range located {
		fmt.Fprintln(w, e)
	}
	for _, e := range other {
		fmt.Fprintln(w, e)
	}
}

// leaves splits err into its individual problems: it follows the %w chain
// to the first errors.Join or config.Errors and returns each part (split
// again), or err itself when there is none. A *config.Error found on the
// way is returned as is, dropping the wrapping context its message
// already carries.
func leaves(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if multi, ok := e.(interface{ Unwrap() []error }); ok {
			var out []error
			for _, part := range multi.Unwrap() {
				out = append(out, leaves(part)...)
			}
			return out
		}
		if ce, ok := e.(*config.Error); ok {
			return []error{ce}
		}
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
