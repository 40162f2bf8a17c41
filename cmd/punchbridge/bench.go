package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/loadgen"
)

const benchUsage = `usage: punchbridge bench webhook --url URL [--platform dingtalk|wecom] [--events N]
                         [--rate R] [--concurrency C] [--batch K] --token T --aes-key K
                         [--owner-key ID | --receive-id ID]
                         [--admin-url URL --admin-token T | --config FILE] [--json]
       punchbridge bench fake [--platform dingtalk|wecom] [--employees N] [--days N]
                         [--qps N] [--latency D]
       punchbridge bench baseline --config FILE [--listen ADDR]

bench webhook drives a running 'punchbridge serve' the way the platform does
under load. It generates a company, builds webhook deliveries from it, seals
each as the platform would (signed and AES-encrypted with the connector's
token and aes_key), sends them to --url at --rate events per second with up
to --concurrency requests in flight, and checks every reply as the platform
does (once the last reply is in, so that the checks take no CPU from the
server during the run). It reports requests/s and events/s of acknowledged
deliveries, the latency p50/p90/p99/max (with --rate, from the moment the
schedule said to send) and the failures by kind. Then it checks that every
event was stored exactly once: in the ledger of --config, or through the
admin API at --admin-url with a viewer token. The check reads employees'
events by their employee numbers, so the serving config should map users by
job_number (the default) from a directory that knows them, such as 'bench
fake' serves; unmapped users' events are found among the quarantined ones.

  dingtalk  attendance_check_record HTTP pushes of --batch punches each, the
            company's earliest --events punches in the order they were made
            (a morning's users interleaved, as the platform pushes them).
            --owner-key is the connector's owner_key (its app_key unless set).
  wecom     WeCom has no punch callback for self-built apps, so the deliveries
            are sys_approval_change callbacks, one approval each (--batch must
            be 1); --receive-id is the corp id (default: the generated one).
            The connector stores an approval once it has read its details
            from the platform, so serve needs the platform: point its
            base_url at 'bench fake --platform wecom'; the check waits up to
            --verify-wait for the details to be read.

bench fake serves the fake platform API with the same generated company
(same --employees, --days, --seed and --from) on a loopback port until
interrupted, and prints the connector settings to point serve at it. With
--qps it refuses calls beyond that many a second per API with the
platform's QPS code, and with --latency it answers every call that late:
'punchbridge pull' against it shows how much of the quota a pull uses.

bench baseline serves the webhook routes of --config without a ledger (each
event only claimed in Redis): the ceiling 'bench webhook' can compare serve
against on the same machine ('punchbridge bench baseline --help').

Examples:
  punchbridge bench fake --employees 1000 --days 45
  punchbridge bench webhook --url http://127.0.0.1:8080/hooks/dingtalk/dingtalk-bench \
      --events 100000 --concurrency 256 --token T --aes-key K --owner-key APPKEY \
      --employees 1000 --days 45 --config bench.yaml
`

func runBench(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.stderr, benchUsage)
		return map[bool]int{true: exitOK, false: exitUsage}[len(args) > 0]
	}
	switch args[0] {
	case "webhook":
		return runBenchWebhook(ctx, env, args[1:])
	case "fake":
		return runBenchFake(ctx, env, args[1:])
	case "baseline":
		return runBenchBaseline(ctx, env, args[1:])
	}
	fmt.Fprintf(env.stderr, "bench: unknown action %q; use webhook, fake or baseline\n", args[0])
	return exitUsage
}

// companyFlags are the flags that choose the generated company; bench
// webhook and bench fake must be given the same ones.
type companyFlags struct {
	platform        *string
	employees, days *int
	seed            *int64
	from            *string
}

func addCompanyFlags(fs *flag.FlagSet) companyFlags {
	return companyFlags{
		platform:  fs.String("platform", loadgen.DingTalk, "dingtalk or wecom"),
		employees: fs.Int("employees", 1000, "employees in the generated company"),
		days:      fs.Int("days", 45, "calendar days of punches and approvals"),
		seed:      fs.Int64("seed", 1, "seed of the generated company"),
		from:      fs.String("from", "", "first day of the company, YYYY-MM-DD (default: --days before today)"),
	}
}

func (f companyFlags) company(now time.Time) (loadgen.Company, error) {
	c := loadgen.Company{Platform: *f.platform, Seed: *f.seed, Employees: *f.employees, Days: *f.days}
	switch {
	case c.Platform != loadgen.DingTalk && c.Platform != loadgen.WeCom:
		return c, fmt.Errorf("--platform %q: use dingtalk or wecom", c.Platform)
	case c.Employees < 1 || c.Days < 1:
		return c, fmt.Errorf("--employees (%d) and --days (%d) must be at least 1", c.Employees, c.Days)
	}
	c.From = loadgen.DefaultFrom(now, c.Days)
	if *f.from != "" {
		t, err := time.ParseInLocation(time.DateOnly, *f.from, dingtalktest.Shanghai)
		if err != nil {
			return c, fmt.Errorf("--from %q: write it YYYY-MM-DD", *f.from)
		}
		c.From = t
	}
	return c, nil
}

func runBenchWebhook(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("bench webhook", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, benchUsage); fs.PrintDefaults() }
	cf := addCompanyFlags(fs)
	target := fs.String("url", "", "the receiver: http://HOST:PORT/hooks/<platform>/<connector> (required)")
	events := fs.Int("events", 10000, "events to send")
	rate := fs.Float64("rate", 0, "events per second to send (0: as fast as --concurrency allows)")
	concurrency := fs.Int("concurrency", 64, "requests in flight at most")
	batch := fs.Int("batch", 1, "dingtalk: punches per request")
	token := fs.String("token", "", "the connector's callback token (required)")
	aesKey := fs.String("aes-key", "", "the connector's 43-character aes_key (required)")
	ownerKey := fs.String("owner-key", "", "dingtalk: the connector's owner_key (required for dingtalk)")
	receiveID := fs.String("receive-id", "", "wecom: the corp id the callbacks are encrypted for (default: the generated corp id)")
	timeout := fs.Duration("timeout", 30*time.Second, "limit of one request")
	cfgPath := fs.String("config", "", "check the ledger of this config's deployment")
	adminURL := fs.String("admin-url", "", "check through the admin API of the server at this root URL")
	adminToken := fs.String("admin-token", "", "with --admin-url: a viewer token")
	verifyWait := fs.Duration("verify-wait", -1, "how long the check waits for events stored after the reply (default 0 for dingtalk, 2m for wecom)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the report")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	comp, err := cf.company(env.now())
	problems := []string{}
	if err != nil {
		problems = append(problems, err.Error())
	}
	switch {
	case *target == "":
		problems = append(problems, "--url is required")
	case *token == "" || *aesKey == "":
		problems = append(problems, "--token and --aes-key are required")
	case comp.Platform == loadgen.DingTalk && *ownerKey == "":
		problems = append(problems, "--owner-key is required for dingtalk")
	case comp.Platform == loadgen.WeCom && *batch != 1:
		problems = append(problems, "--batch must be 1 for wecom: a WeCom callback carries one approval")
	case *events < 1 || *concurrency < 1 || *batch < 1 || *rate < 0:
		problems = append(problems, "--events, --concurrency and --batch must be at least 1 and --rate not negative")
	case *adminURL != "" && *cfgPath != "":
		problems = append(problems, "give --admin-url or --config, not both")
	case *adminURL != "" && *adminToken == "":
		problems = append(problems, "--admin-url needs --admin-token")
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(env.stderr, "bench webhook:", p)
		}
		return exitUsage
	}
	if *verifyWait < 0 {
		*verifyWait = 0
		if comp.Platform == loadgen.WeCom {
			*verifyWait = 2 * time.Minute
		}
	}

	w, keys, err := benchWorkload(comp, *events, *batch, env.now(), loadgen.Keys{Token: *token, AESKey: *aesKey, ReceiverID: *ownerKey}, *receiveID)
	if err != nil {
		fmt.Fprintln(env.stderr, "bench webhook:", err)
		return exitFailure
	}
	sealer, err := loadgen.NewSealer(comp.Platform, *target, keys)
	if err != nil {
		fmt.Fprintln(env.stderr, "bench webhook:", err)
		return exitFailure
	}
	// Every delivery is sealed before the clock starts: the platform
	// encrypts on its own machines, and the run measures the receiver.
	reqs := make([]loadgen.Sealed, len(w.Deliveries))
	for i, d := range w.Deliveries {
		if reqs[i], err = sealer.Seal(d, env.now()); err != nil {
			fmt.Fprintln(env.stderr, "bench webhook:", err)
			return exitFailure
		}
	}
	fmt.Fprintf(env.stderr, "bench: %d %s events in %d requests to %s, concurrency %d, rate %s\n",
		w.Events(), comp.Platform, len(reqs), *target, *concurrency, rateText(*rate))
	// Over plain HTTP the tool keeps its connections itself, which costs it
	// far less CPU than net/http's client: the cores it shares with the
	// server go to the server.
	var sender loadgen.Sender = loadgen.NewClient(*concurrency)
	if conns, err := loadgen.NewConns(*target, *concurrency); err == nil {
		defer conns.Close()
		sender = conns
	}
	res := loadgen.Run(ctx, sender, reqs, sealer, loadgen.Options{Concurrency: *concurrency, Rate: *rate, Timeout: *timeout})

	var check *loadgen.Check
	store, closeStore, err := benchStore(ctx, env, *cfgPath, *adminURL, *adminToken)
	if err != nil {
		fmt.Fprintln(env.stderr, "bench webhook:", err)
		return exitFailure
	}
	if store != nil {
		defer closeStore()
		c, err := loadgen.VerifyWithin(ctx, store, w, *verifyWait, env.now, benchSleep)
		if err != nil {
			fmt.Fprintln(env.stderr, "bench webhook: check:", err)
			return exitFailure
		}
		check = &c
	}
	if err := printBench(env.stdout, *asJSON, comp.Platform, *target, res, check); err != nil {
		fmt.Fprintln(env.stderr, "bench webhook:", err)
		return exitFailure
	}
	if len(res.Errors) > 0 || (check != nil && !check.OK()) {
		return exitFailure
	}
	return exitOK
}

// benchWorkload generates the company and its deliveries, and completes
// the keys: a WeCom receive id defaults to the generated corp id.
func benchWorkload(c loadgen.Company, events, batch int, now time.Time, keys loadgen.Keys, receiveID string) (loadgen.Workload, loadgen.Keys, error) {
	if c.Platform == loadgen.WeCom {
		comp := c.WeComCompany()
		keys.ReceiverID = receiveID
		if keys.ReceiverID == "" {
			keys.ReceiverID = comp.CorpID
		}
		w, err := loadgen.WeComWorkload(comp, events, now)
		return w, keys, err
	}
	w, err := loadgen.DingTalkWorkload(c.DingTalkCompany(), events, batch)
	return w, keys, err
}

// benchStore opens what the check reads: the config's ledger, the admin
// API, or nothing when neither is given.
func benchStore(ctx context.Context, env *cmdEnv, cfgPath, adminURL, adminToken string) (loadgen.Store, func(), error) {
	switch {
	case adminURL != "":
		return loadgen.NewAdminStore(adminURL, adminToken, dingtalktest.Shanghai), func() {}, nil
	case cfgPath != "":
		cfg, err := config.Load(cfgPath, env.getenv)
		if err != nil {
			return nil, nil, err
		}
		l, err := openLedger(ctx, cfg.Ledger)
		if err != nil {
			return nil, nil, err
		}
		return loadgen.LedgerStore{Ledger: l}, func() { l.Close() }, nil
	}
	return nil, nil, nil
}

func rateText(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f events/s", r)
}

func printBench(w io.Writer, asJSON bool, platform, target string, res loadgen.Result, check *loadgen.Check) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Platform string         `json:"platform"`
			URL      string         `json:"url"`
			Result   loadgen.Result `json:"result"`
			Check    *loadgen.Check `json:"check,omitempty"`
		}{platform, target, res, check})
	}
	fmt.Fprintf(w, "Punchbridge bench: %s webhooks to %s\n\n", platform, target)
	res.WriteText(w)
	if check == nil {
		fmt.Fprintln(w, "  check      skipped: give --config or --admin-url to check the ledger")
		return nil
	}
	check.WriteText(w)
	return nil
}

func runBenchFake(ctx context.Context, env *cmdEnv, args []string) int {
	fs := flag.NewFlagSet("bench fake", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, benchUsage); fs.PrintDefaults() }
	cf := addCompanyFlags(fs)
	qps := fs.Int("qps", 0, "refuse calls beyond this many a second per API, as the platform does (0: no limit; dingtalk)")
	latency := fs.Duration("latency", 0, "answer every API call after this long")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	c, err := cf.company(env.now())
	if err != nil {
		fmt.Fprintln(env.stderr, "bench fake:", err)
		return exitUsage
	}
	switch c.Platform {
	case loadgen.DingTalk:
		comp := c.DingTalkCompany()
		srv := dingtalktest.NewServer(dingtalktest.WithCompany(comp), dingtalktest.WithQPS(*qps), dingtalktest.WithLatency(*latency))
		defer srv.Close()
		fmt.Fprintf(env.stdout, "fake DingTalk: %d users, %d punch records from %s, until interrupted\n\n"+
			"    type: dingtalk\n    base_url: %s\n    api_base_url: %s\n    app_key: %s\n    app_secret: %s\n    corp_id: %s\n",
			len(comp.Users), len(comp.Records), c.From.Format(time.DateOnly), srv.URL(), srv.URL(), srv.AppKey(), srv.AppSecret(), srv.CorpID())
	case loadgen.WeCom:
		comp := c.WeComCompany()
		srv := wecomtest.NewServer(wecomtest.WithCompany(comp), wecomtest.WithLatency(*latency))
		defer srv.Close()
		fmt.Fprintf(env.stdout, "fake WeCom: %d users, %d approvals from %s, until interrupted\n\n"+
			"    type: wecom\n    base_url: %s\n    corp_id: %s\n    checkin_secret: %s\n    approval_secret: %s\n    contacts_secret: %s\n",
			len(comp.Users), len(comp.Approvals), c.From.Format(time.DateOnly), srv.URL(), srv.CorpID(),
			wecomtest.DefaultCheckinSecret, wecomtest.DefaultApprovalSecret, wecomtest.DefaultContactsSecret)
	}
	<-ctx.Done()
	return exitOK
}

// benchSleep waits d or until ctx ends.
func benchSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
