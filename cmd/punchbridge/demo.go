package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/server"
)

const demoUsage = `usage: punchbridge demo [--json] [--data DIR] [--redis URL] [--employees N] [--days N]
                      [--serve] [--listen ADDR]

Runs the whole pipeline — pull, normalize, store, reconcile, push — against
a built-in fake DingTalk and a fake HR system on loopback, on the embedded
ledger. The fake company has on-time, late, early-leaving and missing
punches, some punches delivered twice and one user with no employee
mapping. The demo runs as of the Saturday 02:00 (Asia/Shanghai) after its
last work day, Friday 2026-11-20, so its numbers are the same every time.

With --serve it then keeps serving the status page and the admin API on
--listen (default 127.0.0.1:8080) until interrupted, and prints the URL and
an admin token to log in with: the page shows the demo company, and a click
on a day explains it.

With --data DIR the ledger persists: run it twice and the second run pulls
the same punches, stores none of them again and pushes nothing new. With
--redis URL the run also de-duplicates, leases deliveries and caches the
platform token in that Redis, as replicas sharing it would, under a prefix
of its own; without --data its keys are deleted with the ledger at the end.

Examples:
  punchbridge demo
  punchbridge demo --json --employees 1000 --days 20
  punchbridge demo --data ./demo-data && punchbridge demo --data ./demo-data
`

// demoMemoryLimit is the soft memory limit of a demo run of employees ×
// workDays unless the GOMEMLIMIT environment variable sets one: 640 MiB up
// to 10,000 × 31 and in proportion beyond. The fakes in the process hold
// the generated company, which grows with employees × days (the fake
// DingTalk keeps about 140 bytes a punch), and a limit below the live heap
// keeps the collector running: at 30,000 × 31, when a punch took 340
// bytes, the collector took 40% of the run's CPU.
func demoMemoryLimit(employees, workDays int) int64 {
	const base, baseUserDays = 640 << 20, 10000 * 31
	return max(base, int64(float64(base)*float64(employees)*float64(workDays)/baseUserDays))
}

// demoLastWorkDay is the Friday the demo company's punches end on.
const demoLastWorkDay = "2026-11-20"

// demoSummary is the machine-readable result of a demo run.
type demoSummary struct {
	Employees      int            `json:"employees"`
	WorkDays       int            `json:"work_days"`
	From           string         `json:"from"`
	To             string         `json:"to"`
	AsOf           time.Time      `json:"as_of"`
	Ledger         string         `json:"ledger"`
	EventsPulled   int            `json:"events_pulled"`
	EventsStored   int            `json:"events_stored"`
	Revisions      int            `json:"revisions"`
	Duplicates     int            `json:"duplicates"`
	Rejected       int            `json:"rejected"`
	Quarantined    int            `json:"quarantined"`
	UnmappedUsers  int            `json:"unmapped_users"`
	DaysReconciled int            `json:"days_reconciled"`
	DaysChanged    int            `json:"days_changed"`
	RecordsPushed  int            `json:"records_pushed"`
	PushFailures   int            `json:"push_failures"`
	HRApplied      int            `json:"hr_applied"`
	APICalls       int            `json:"api_calls"`
	APICallsByAPI  map[string]int `json:"api_calls_by_api"`
	Statuses       map[string]int `json:"statuses"`
	Late           int            `json:"late"`
	EarlyExit      int            `json:"early_exit"`
	MissingPunches int            `json:"missing_punches"`
	Check          string         `json:"check"`
	// PhaseMS is the job's own timing of its phases (jobs.Report).
	PhaseMS     map[string]int64 `json:"phase_ms"`
	ElapsedMS   int64            `json:"elapsed_ms"`
	checkFailed bool
	tempLedger  bool
}

func runDemo(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, demoUsage); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "print one JSON object instead of the readable summary")
	dataDir := fs.String("data", "", "keep the ledger in this directory (default: a temporary directory, removed afterwards)")
	employees := fs.Int("employees", 200, "employees in the generated company")
	days := fs.Int("days", 5, "work days (Monday to Friday) of punches, ending on "+demoLastWorkDay)
	redisURL := fs.String("redis", "", "coordinate through this Redis (redis://host:port/db), as replicas do")
	serveAfter := fs.Bool("serve", false, "after the run, serve the status page and admin API until interrupted")
	listen := fs.String("listen", "127.0.0.1:8080", "with --serve, the address to serve on")
	verbose := fs.Bool("v", false, "log the pipeline's progress to stderr")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *employees < 1 || *days < 1 {
		fmt.Fprintf(env.stderr, "demo: --employees (%d) and --days (%d) must be at least 1\n", *employees, *days)
		return exitUsage
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	report := func(sum *demoSummary) error {
		if *asJSON {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(sum)
		}
		printDemo(env.stdout, sum)
		return nil
	}
	if env.getenv("GOMEMLIMIT") == "" {
		// The fakes and the pipeline share this process; without a limit
		// the collector lets the heap grow to twice the live data, which
		// at 10,000 employees × 31 days passes 1 GB of resident memory.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(demoMemoryLimit(*employees, *days)))
	}
	o := demoOptions{dataDir: *dataDir, redisURL: *redisURL, employees: *employees, workDays: *days}
	if *serveAfter {
		o.listen = *listen
		o.serving = func(sum *demoSummary, url, token string) error {
			if err := report(sum); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "\n  status page  %s\n  log in with  %s\n  (Ctrl-C to stop)\n", url, token)
			return nil
		}
	}
	sum, err := demo(ctx, o, log)
	if err != nil {
		fmt.Fprintln(env.stderr, "demo:", err)
		return exitFailure
	}
	if !*serveAfter {
		if err := report(sum); err != nil {
			fmt.Fprintln(env.stderr, "demo:", err)
			return exitFailure
		}
	}
	if sum.checkFailed {
		return exitFailure
	}
	return exitOK
}

// demoCalendar returns the first work day of the demo, the number of
// calendar days it spans, and the instant the demo runs at.
func demoCalendar(workDays int) (from time.Time, calendarDays int, asOf time.Time) {
	last, _ := time.ParseInLocation(time.DateOnly, demoLastWorkDay, dingtalktest.Shanghai)
	from = last
	for n := 1; n < workDays; {
		from = from.AddDate(0, 0, -1)
		if wd := from.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	calendarDays = int(last.Sub(from).Hours()/24) + 1
	asOf = last.AddDate(0, 0, 1).Add(2 * time.Hour)
	return from, calendarDays, asOf
}

// demoOptions are the demo's flags.
type demoOptions struct {
	dataDir, redisURL   string
	employees, workDays int
	// listen, when set, serves the status page after the run, calling
	// serving with the page's URL and an admin token, until ctx ends.
	listen  string
	serving func(sum *demoSummary, url, token string) error
}

func demo(ctx context.Context, o demoOptions, log *slog.Logger) (*demoSummary, error) {
	start := time.Now()
	dataDir, employees, workDays := o.dataDir, o.employees, o.workDays
	from, calendarDays, asOf := demoCalendar(workDays)
	temp := false
	clock := func() time.Time { return asOf }

	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "punchbridge-demo-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
		temp = true
	} else if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}

	// The fakes hold the company once and the HR side only the keys of
	// what it applied: at 10,000 employees × 31 days a full copy of either
	// would take hundreds of megabytes that the pipeline itself does not.
	dt := dingtalktest.NewServer(dingtalktest.WithGeneratedCompany(1, employees, from, calendarDays, dingtalktest.WithUnmappedUsers(1)),
		dingtalktest.WithClock(clock))
	defer dt.Close()
	dt.Duplicate(max(1, dt.RecordCount()/50))
	company := demoCompany{users: dt.Users(), workDays: dt.WorkDays()}
	hr := hrtest.NewServer(hrtest.WithToken("demo-hr-token"), hrtest.WithDayKeysOnly())
	defer hr.Close()

	cfgPath := filepath.Join(dataDir, "punchbridge.yaml")
	cfgText := demoConfig(dt.URL(), dt.AppKey(), dt.CorpID(), hr.URL(), calendarDays)
	if o.redisURL != "" {
		// A prefix per run keeps one demo's claims from making the next
		// demo's fresh ledger look like a duplicate.
		cfgText += fmt.Sprintf("redis:\n  url: ${DEMO_REDIS_URL}\n  prefix: \"pbdemo:%d:\"\n", time.Now().UnixNano())
	}
	adminToken := "demo-" + rand.Text()
	if o.listen != "" {
		cfgText += "admin:\n  tokens:\n    - name: demo-admin\n      token: ${DEMO_ADMIN_TOKEN}\n      role: admin\n"
	}
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return nil, err
	}
	secrets := map[string]string{"DEMO_DINGTALK_APP_SECRET": dt.AppSecret(), "DEMO_HR_TOKEN": "demo-hr-token", "DEMO_REDIS_URL": o.redisURL, "DEMO_ADMIN_TOKEN": adminToken}
	cfg, err := config.Load(cfgPath, func(k string) string { return secrets[k] })
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	a, err := openApp(ctx, cfg, connectors.Deps{Logger: log, Now: clock})
	if err != nil {
		return nil, err
	}
	// A temporary ledger goes with its directory; the run's Redis keys go
	// with it, not days later with their TTLs.
	a.forgetRedis = temp
	defer func() {
		if err := a.Close(); err != nil {
			log.Warn("closing the demo's ledger and Redis failed", "err", err)
		}
	}()
	job, err := a.syncJob(cfg.Jobs[0])
	if err != nil {
		return nil, err
	}
	_, rerun, err := a.ledger.Checkpoint(ctx, cfg.Connectors[0].Name)
	if err != nil {
		return nil, err
	}
	// Through the guard, so that the run is in the run log the status page
	// counts from.
	guard := a.guard()
	var rep jobs.Report
	err = guard.Run(ctx, job.Name, jobs.TriggerManual, asOf, func(ctx context.Context, now time.Time) (any, error) {
		r, err := job.Run(ctx, now)
		rep = r
		return r, err
	})
	if err != nil {
		return nil, err
	}

	sum := &demoSummary{
		Employees: employees, WorkDays: len(company.workDays), From: from.Format(time.DateOnly), To: demoLastWorkDay,
		AsOf: asOf, Ledger: cfg.Ledger.Path, tempLedger: temp,
		EventsPulled: rep.EventsPulled, EventsStored: rep.EventsStored, Revisions: rep.Revisions, Duplicates: rep.Duplicates,
		Rejected: rep.Rejected, Quarantined: rep.Quarantined, DaysReconciled: rep.DaysReconciled, DaysChanged: rep.DaysChanged,
		RecordsPushed: rep.RecordsPushed, PushFailures: rep.PushFailures, HRApplied: hr.AppliedCount(), PhaseMS: rep.PhaseMS,
		APICallsByAPI: map[string]int{}, Statuses: map[string]int{},
	}
	for _, api := range []string{"gettoken", "attendance/listRecord", "topapi/v2/department/listsubid", "topapi/v2/user/list"} {
		if n := dt.Calls(api); n > 0 {
			sum.APICallsByAPI[api] = n
			sum.APICalls += n
		}
	}
	for _, u := range company.users {
		if u.JobNumber == "" {
			sum.UnmappedUsers++
		}
	}
	if err := checkDemo(ctx, a, company, hr, rerun, sum); err != nil {
		return nil, err
	}
	sum.ElapsedMS = time.Since(start).Milliseconds()
	if o.listen != "" {
		return sum, serveDemo(ctx, a, job, guard, o, sum, adminToken, log)
	}
	return sum, nil
}

// serveDemo serves the demo's status page and admin API until ctx ends.
func serveDemo(ctx context.Context, a *app, job *jobs.Sync, guard jobs.Guard, o demoOptions, sum *demoSummary, token string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	srv := &http.Server{Handler: server.New(a.serverOptions(map[string]*jobs.Sync{job.Name: job}, guard, log)), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if err := o.serving(sum, "http://"+ln.Addr().String()+"/", token); err != nil {
		srv.Close()
		return err
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// demoCompany is what the demo's check needs of the fake company.
type demoCompany struct {
	users    []dingtalktest.User
	workDays []string
}

// checkDemo compares what the fake HR system applied with what it should
// have. On a fresh ledger that is every (mapped employee, work day) exactly
// once and nothing of the unmapped user; on a rerun over a kept ledger,
// nothing at all, because every version was delivered before.
func checkDemo(ctx context.Context, a *app, company demoCompany, hr *hrtest.Server, rerun bool, sum *demoSummary) error {
	// An employee at a time, so that a large demo never holds every
	// record, and on every core: decoding 430,000 records takes seconds.
	// An employee's days lie together in the ledger; a date's are spread
	// over all of it (0.65x the time read this way).
	emps, err := a.ledger.Employees(ctx)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, emp := range emps {
		if emp == "" {
			continue // Days reads every employee's for ""
		}
		g.Go(func() error {
			days, err := a.ledger.Days(gctx, emp, sum.From, sum.To)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range days {
				sum.Statuses[string(d.Status)]++
				if d.Late {
					sum.Late++
				}
				if d.EarlyExit {
					sum.EarlyExit++
				}
				sum.MissingPunches += len(d.Missing)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	perDay := map[mapping.EmployeeDay]int{}
	for _, r := range hr.Applied() {
		perDay[mapping.EmployeeDay{EmployeeID: r.EmployeeID, Date: r.Date}]++
	}
	var problems []string
	if sum.HRApplied != sum.RecordsPushed {
		problems = append(problems, fmt.Sprintf("the HR system applied %d records but %d were pushed", sum.HRApplied, sum.RecordsPushed))
	}
	mapped := 0
	for _, u := range company.users {
		if u.JobNumber == "" {
			continue
		}
		mapped++
		for _, d := range company.workDays {
			want := 1
			if rerun {
				want = 0
			}
			if n := perDay[mapping.EmployeeDay{EmployeeID: u.JobNumber, Date: d}]; n != want {
				problems = append(problems, fmt.Sprintf("%s %s applied %d times, want %d", u.JobNumber, d, n, want))
			}
		}
	}
	// Beyond the work days the HR system may get rest days (a range that
	// spans a weekend), but never a day of someone unmapped, nor a day twice.
	known := map[string]bool{}
	for _, u := range company.users {
		if u.JobNumber != "" {
			known[u.JobNumber] = true
		}
	}
	for k, n := range perDay {
		if !known[k.EmployeeID] {
			problems = append(problems, fmt.Sprintf("the HR system got a day of %s, who is not a mapped employee", k.EmployeeID))
		} else if n > 1 {
			problems = append(problems, fmt.Sprintf("%s %s applied %d times", k.EmployeeID, k.Date, n))
		}
	}
	switch {
	case len(problems) > 0:
		sort.Strings(problems)
		sum.Check = "FAILED: " + strings.Join(problems[:min(5, len(problems))], "; ")
		sum.checkFailed = true
	case rerun:
		sum.Check = "ok: every day record was delivered by an earlier run, so nothing was pushed again"
	default:
		sum.Check = fmt.Sprintf("ok: the HR system applied each of %d mapped employees × %d work days exactly once, and nothing of the unmapped user", mapped, len(company.workDays))
	}
	return nil
}

// demoConfig is the config file the demo writes and loads, exactly as a
// user's would be, with the fakes' addresses filled in.
func demoConfig(dingURL, appKey, corpID, hrURL string, calendarDays int) string {
	lookback := time.Duration(calendarDays)*24*time.Hour + 2*time.Hour
	return fmt.Sprintf(`# Written by punchbridge demo: the fake DingTalk and HR systems run on loopback.
ledger:
  driver: sqlite
  path: punchbridge.db
identity:
  field: job_number
rules:
  timezone: Asia/Shanghai
  shifts:
    standard:
      start: "09:00"
      end: "18:00"
      checkin_opens_before: 120m
      checkout_closes_after: 240m
      late_grace: 10m
      early_exit_grace: 10m
      half_day_below: 4h
      absent_below: 2h
      directions: strict        # DingTalk reports each punch's direction
      working_hours: first_last
      overtime: {after: 30m, requires_approval: true}
  assign:
    default: standard
    rest_days: [sat, sun]
connectors:
  - name: dingtalk-demo
    type: dingtalk
    app_key: %s
    app_secret: ${DEMO_DINGTALK_APP_SECRET}
    corp_id: %s
    base_url: %s
    qps: 500                  # the fake has no quota; a real app keeps the default 20
sinks:
  - name: hr-demo
    type: hrhttp
    url: %s
    token: ${DEMO_HR_TOKEN}
    batch: {size: 100}        # the fake HR system takes arrays of day records
    delivery: {workers: 4}
jobs:
  - name: nightly
    schedule: "0 2 * * *"
    timezone: Asia/Shanghai
    lookback: %s
`, appKey, corpID, dingURL, hrURL, lookback)
}

func printDemo(w io.Writer, s *demoSummary) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("Punchbridge demo: %d employees × %d work days (%s … %s), run as of %s", s.Employees, s.WorkDays, s.From, s.To, s.AsOf.Format("2006-01-02 15:04 MST"))
	p("")
	p("  pull       %d punches pulled from the fake DingTalk in %d API calls (%s)", s.EventsPulled, s.APICalls, counts(s.APICallsByAPI))
	p("  store      %d stored, %d duplicates dropped, %d rejected, %d quarantined (%d user without an employee mapping)",
		s.EventsStored, s.Duplicates, s.Rejected, s.Quarantined, s.UnmappedUsers)
	p("  reconcile  %d day records computed, %d new or changed (%s); %d late, %d early exits, %d missing punches",
		s.DaysReconciled, s.DaysChanged, counts(s.Statuses), s.Late, s.EarlyExit, s.MissingPunches)
	p("  push       %d records pushed to the fake HR system, %d failed attempts; the HR system applied %d", s.RecordsPushed, s.PushFailures, s.HRApplied)
	p("  check      %s", s.Check)
	p("")
	if s.tempLedger {
		p("  ledger     %s (temporary, removed on exit; use --data DIR to keep it)", s.Ledger)
	} else {
		p("  ledger     %s", s.Ledger)
	}
	p("  elapsed    %d ms (pull %d ms, reconcile %d ms, push %d ms; the rest starts the fakes and checks the result)",
		s.ElapsedMS, s.PhaseMS["identities"]+s.PhaseMS["pull"], s.PhaseMS["reconcile"], s.PhaseMS["push"])
}

// counts formats a tally as "a 3, b 1", largest first.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
