package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/reconcile"
)

const reconcileUsage = `usage: punchbridge reconcile --rules FILE --events FILE [--employees FILE]
                           [--as-of TIME] [--from DATE --to DATE] [--out FILE]

Reads common-schema events (JSON Lines; --events - reads stdin), applies the
attendance rules and writes day records v1 as JSON Lines, version 1, sorted
by employee_id, date and shift. A day is written only once it is final: its
shift window has closed, plus the rules' settle, before --as-of (default:
now). Days without punches become absent (or rest_day, holiday, on_leave)
records for every employee on the roster: --employees FILE (one employee id
per line; # starts a comment) plus every employee seen in the events.
--from and --to (YYYY-MM-DD, inclusive, in the rules' time zone) default to
the dates of the first and last punch.

Bad input is reported as FILE:LINE with the field and exits 1 without
writing --out. Events without an employee_id are skipped and counted.

Examples:
  punchbridge reconcile --rules rules.yaml --events events.jsonl \
      --as-of 2026-12-01T02:00:00+08:00 --out days.jsonl
  cat events.jsonl | punchbridge reconcile --rules rules.yaml --events - \
      --employees roster.txt --from 2026-11-01 --to 2026-11-30
`

// maxEventLine bounds one JSON line of input; events are far smaller.
const maxEventLine = 4 << 20

// maxReported bounds the input problems printed before giving up.
const maxReported = 20

func runReconcile(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, reconcileUsage); fs.PrintDefaults() }
	rulesPath := fs.String("rules", "", "attendance rules file (required)")
	eventsPath := fs.String("events", "", "events JSON Lines file, - for stdin (required)")
	rosterPath := fs.String("employees", "", "roster: one employee id per line")
	asOfFlag := fs.String("as-of", "", "watermark: RFC 3339 time, or YYYY-MM-DD for its midnight in the rules' zone (default now)")
	fromFlag := fs.String("from", "", "first date YYYY-MM-DD (default: first punch)")
	toFlag := fs.String("to", "", "last date YYYY-MM-DD (default: last punch)")
	outPath := fs.String("out", "", "output file (default stdout); written whole or not at all")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	switch {
	case *rulesPath == "" || *eventsPath == "":
		fmt.Fprintln(env.stderr, "reconcile: --rules and --events are required")
		fs.Usage()
		return exitUsage
	case (*fromFlag == "") != (*toFlag == ""):
		fmt.Fprintln(env.stderr, "reconcile: give --from and --to together, or neither")
		return exitUsage
	}

	if *fromFlag != "" {
		if err := checkRange(*fromFlag, *toFlag); err != nil {
			fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
			return exitUsage
		}
	}

	eng, err := loadEngine(*rulesPath)
	if err != nil {
		printProblems(env.stderr, err)
		return exitFailure
	}
	asOf := env.now()
	if *asOfFlag != "" {
		if asOf, err = parseAsOf(*asOfFlag, eng.Location()); err != nil {
			fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
			return exitUsage
		}
	}
	in, name, closeIn, err := openInput(*eventsPath, env.stdin)
	if err != nil {
		fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
		return exitFailure
	}
	byEmp, skipped, err := readEvents(in, name)
	closeIn()
	if err != nil {
		printProblems(env.stderr, err)
		return exitFailure
	}
	roster, err := readRoster(*rosterPath, byEmp)
	if err != nil {
		fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
		return exitFailure
	}
	from, to := *fromFlag, *toFlag
	if from == "" {
		if from, to = eventDates(eng, byEmp); from == "" {
			fmt.Fprintln(env.stderr, "reconcile: the events hold no punches to take the dates from; give --from and --to")
			return exitUsage
		}
	}

	var days []mapping.DayRecord
	for _, emp := range roster {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
			return exitFailure
		}
		recs, err := eng.Employee(emp, byEmp[emp], from, to, asOf)
		if err != nil {
			fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
			return exitUsage
		}
		for i := range recs {
			recs[i].Version = 1
		}
		days = append(days, recs...)
	}
	if err := writeDays(*outPath, env.stdout, days); err != nil {
		fmt.Fprintf(env.stderr, "reconcile: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stderr, "reconcile: %d employees, %s to %s as of %s: %d day records",
		len(roster), from, to, asOf.In(eng.Location()).Format(time.RFC3339), len(days))
	if skipped > 0 {
		fmt.Fprintf(env.stderr, "; %d events without employee_id skipped", skipped)
	}
	fmt.Fprintln(env.stderr)
	return exitOK
}

// loadEngine reads and compiles the rules, placing each rule problem at
// its line in the file.
func loadEngine(path string) (*reconcile.Engine, error) {
	rules, node, err := config.LoadRulesNode(path)
	if err != nil {
		return nil, err
	}
	eng, err := reconcile.Compile(rules)
	if err == nil {
		return eng, nil
	}
	var out []error
	for _, e := range leaves(err) {
		var re *reconcile.RuleError
		if errors.As(e, &re) {
			e = &config.Error{File: path, Line: config.LineOf(node, re.Path), Msg: re.Error()}
		}
		out = append(out, e)
	}
	return nil, errors.Join(out...)
}

// checkRange validates --from and --to before any work.
func checkRange(from, to string) error {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return fmt.Errorf("--from %q: want a date YYYY-MM-DD", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return fmt.Errorf("--to %q: want a date YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return fmt.Errorf("--to %s is before --from %s; the range is inclusive, use --to >= --from", to, from)
	}
	return nil
}

// parseAsOf reads an RFC 3339 time, or a date meaning its midnight in loc.
func parseAsOf(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--as-of %q: want an RFC 3339 time such as 2026-12-01T02:00:00+08:00, or a date YYYY-MM-DD", s)
}

func openInput(path string, stdin io.Reader) (io.Reader, string, func(), error) {
	if path == "-" {
		return stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open events: %w", err)
	}
	return f, path, func() { f.Close() }, nil
}

// readEvents decodes one event per line, grouped by employee. Every bad
// line (up to maxReported) is reported as name:line with its fields.
func readEvents(r io.Reader, name string) (map[string][]mapping.Event, int, error) {
	byEmp := map[string][]mapping.Event{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var problems []error
	skipped, bad := 0, 0
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		ev, err := mapping.DecodeEvent(b)
		if err != nil {
			if bad++; bad <= maxReported {
				problems = append(problems, &config.Error{File: name, Line: line, Msg: err.Error()})
			}
			continue
		}
		if ev.EmployeeID == "" {
			skipped++
			continue
		}
		byEmp[ev.EmployeeID] = append(byEmp[ev.EmployeeID], ev)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w (a line longer than %d bytes?)", name, err, maxEventLine)
	}
	if bad > maxReported {
		problems = append(problems, fmt.Errorf("%s: %d more bad lines not shown", name, bad-maxReported))
	}
	return byEmp, skipped, errors.Join(problems...)
}

// readRoster returns the employees to reconcile, sorted: those listed in
// path (if given) and every employee seen in the events, so that no punch
// is dropped for want of a roster line.
func readRoster(path string, byEmp map[string][]mapping.Event) ([]string, error) {
	var ids []string
	for id := range byEmp {
		ids = append(ids, id)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read roster: %w", err)
		}
		for line := range strings.Lines(string(data)) {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			if id := strings.TrimSpace(line); id != "" {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// eventDates returns the dates of the occurrences that hold the first and
// the last punch or make-up, or "" when there is none.
func eventDates(eng *reconcile.Engine, byEmp map[string][]mapping.Event) (string, string) {
	var from, to string
	for emp, evs := range byEmp {
		var first, last time.Time
		for i := range evs {
			if evs[i].Kind == mapping.KindApproval {
				continue
			}
			if t := evs[i].Time; first.IsZero() || t.Before(first) {
				first = t
			}
			if t := evs[i].Time; last.IsZero() || t.After(last) {
				last = t
			}
		}
		if first.IsZero() {
			continue
		}
		if ds := eng.DatesBetween(emp, first, first); len(ds) > 0 && (from == "" || ds[0] < from) {
			from = ds[0]
		}
		if ds := eng.DatesBetween(emp, last, last); len(ds) > 0 && ds[len(ds)-1] > to {
			to = ds[len(ds)-1]
		}
	}
	return from, to
}

// writeDays writes the records as JSON Lines to path, through a temporary
// file in the same directory renamed into place, or to stdout when path is
// empty.
func writeDays(path string, stdout io.Writer, days []mapping.DayRecord) error {
	if path == "" {
		return encodeDays(stdout, days)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	// CreateTemp makes the file private; the records are ordinary output.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := encodeDays(tmp, days); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func encodeDays(w io.Writer, days []mapping.DayRecord) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, d := range days {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return bw.Flush()
}
