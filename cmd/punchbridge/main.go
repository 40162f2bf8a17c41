// Command punchbridge bridges chat-platform attendance (DingTalk, WeCom) to
// HR and payroll systems. This file holds only the subcommand table; each
// subcommand lives in its own file and wires packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

// command is one subcommand. run gets the arguments after the subcommand's
// name and returns the process exit code.
type command struct {
	summary string
	run     func(ctx context.Context, env *cmdEnv, args []string) int
}

// cmdEnv is what a subcommand may touch of the process.
type cmdEnv struct {
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	getenv func(string) string
	now    func() time.Time // the clock of commands that operate a deployment
}

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitFailure = 1 // the work failed, or the input was invalid
	exitUsage   = 2 // bad flags or arguments
)

func commands() map[string]command {
	return map[string]command{
		"demo":         {"run the whole pipeline against built-in fake platforms and a fake HR system", runDemo},
		"serve":        {"run webhooks, the admin API and the scheduler", runServe},
		"check-config": {"validate a config file and print every error with file:line", runCheckConfig},
		"reconcile":    {"offline: events JSONL in, day records JSONL out", runReconcile},
		"pull":         {"one-shot backfill of a connector's events for a date range", runPull},
		"push":         {"deliver the day records waiting in the outbox", runPush},
		"jobs":         {"list jobs, show their run history, or run one now", runJobs},
		"dlq":          {"list, show or replay the dead-letter queue of failed deliveries", runDLQ},
		"callback":     {"decrypt a platform callback, or send a test one to an endpoint", runCallback},
		"bench":        {"load-test a running serve with signed, encrypted webhooks and check every event was stored once", runBench},
		"explain":      {"show how an employee's day record was computed, and its versions", runExplain},
		"mapping":      {"try a field mapping on a payload, check a config's mappings, list presets", runMapping},
	}
}

func main() {
	// gin's mode is process-wide; the binary never wants its debug output.
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cmdEnv{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv, now: time.Now}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, env *cmdEnv, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "punchbridge: unknown command %q\n\n", args[0])
		usage(env.stderr, cmds)
		return exitUsage
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: punchbridge <command> [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'punchbridge <command> --help' for a command's flags and an example.")
}
