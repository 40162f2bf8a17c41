package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// envOf returns a getenv that reads m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// asErrors returns err as Errors, failing the test when it is not.
func asErrors(t *testing.T, err error) Errors {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	return errs
}

// minimal is the smallest valid config; cases append to it.
const minimal = "rules: {timezone: Asia/Shanghai}\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		line int
		msg  string // the whole message after file:line:
	}{
		{"unknown top-level key", minimal + "ledgr: {driver: sqlite}\n",
			nil, 2, `ledgr: unknown key; did you mean "ledger"?`},
		{"unknown nested key", minimal + "ledger:\n  driver: sqlite\n  pth: x.db\n",
			nil, 4, `ledger.pth: unknown key; did you mean "path"?`},
		{"unknown key far from any", minimal + "server:\n  address: :80\n",
			nil, 3, `server.address: unknown key; known keys: debug_listen, listen`},
		{"repeated key", minimal + "server:\n  listen: :80\n  listen: :81\n",
			nil, 4, `server.listen: key repeated (first at line 3); remove one`},
		{"list for a string", minimal + "server:\n  listen: [a, b]\n",
			nil, 3, `server.listen: want a text value, found a list`},
		{"scalar for a section", minimal + "server: 8080\n",
			nil, 2, `server: want a mapping with keys debug_listen, listen, found "8080"`},
		{"not a bool", minimal + "jobs:\n  - {name: n, schedule: '@daily', catch_up: maybe}\n",
			nil, 3, `jobs[0].catch_up "maybe": want true or false`},
		{"bad duration", minimal + "jobs:\n  - name: n\n    schedule: '@daily'\n    lookback: 3 days\n",
			nil, 5, `jobs[0].lookback "3 days": bad duration; write a number with a unit, such as 90s, 60m or 72h`},
		{"duration without unit", minimal + "jobs:\n  - name: n\n    schedule: '@daily'\n    lookback: 72\n",
			nil, 5, `jobs[0].lookback "72": bad duration; write a number with a unit, such as 90s, 60m or 72h`},
		{"negative checkpoint interval", minimal + "ledger:\n  checkpoint_interval: -5ms\n",
			nil, 3, `ledger.checkpoint_interval "-5ms": must not be negative (0 takes the default, 20ms)`},
		{"checkpoint interval on postgres", minimal + "ledger:\n  driver: postgres\n  dsn: postgres://x\n  checkpoint_interval: 100ms\n",
			nil, 5, `ledger.checkpoint_interval "100ms": only a sqlite ledger has a WAL to checkpoint; remove it for postgres`},
		{"negative lookback", minimal + "jobs:\n  - name: n\n    schedule: '@daily'\n    lookback: -1h\n",
			nil, 5, `jobs[0].lookback "-1h": must not be negative; use a duration such as 72h`},
		{"bad duration in rules", "rules:\n  timezone: UTC\n  settle: soon\n",
			nil, 3, `rules.settle "soon": bad duration; write a number with a unit, such as 90s, 60m or 72h`},
		{"bad shift list", "rules:\n  timezone: UTC\n  assign:\n    default: {a: b}\n",
			nil, 4, `rules.assign.default: want a shift name or a list of shift names`},
		{"bad cron range", minimal + "jobs:\n  - name: n\n    schedule: \"0 25 * * *\"\n",
			nil, 4, `jobs[0].schedule "0 25 * * *": bad cron spec: end of range (25) above maximum (23): 25; use 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily`},
		{"cron with seconds", minimal + "jobs:\n  - name: n\n    schedule: \"0 0 2 * * *\"\n",
			nil, 4, `jobs[0].schedule "0 0 2 * * *": bad cron spec: expected exactly 5 fields, found 6: [0 0 2 * * *]; use 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily`},
		{"missing schedule", minimal + "jobs:\n  - name: n\n",
			nil, 3, `jobs[0].schedule: missing required key; add schedule: "0 2 * * *" (5 cron fields) or a descriptor like @daily`},
		{"missing job name", minimal + "jobs:\n  - schedule: '@daily'\n",
			nil, 3, `jobs[0].name: missing required key; add name: <job name>, e.g. nightly`},
		{"bad job name", minimal + "jobs:\n  - {name: 'night ly', schedule: '@daily'}\n",
			nil, 3, `jobs[0].name "night ly": use letters, digits, '.', '_' and '-', starting with a letter or digit`},
		{"duplicate job", minimal + "jobs:\n  - {name: n, schedule: '@daily'}\n  - {name: n, schedule: '@hourly'}\n",
			nil, 4, `jobs[1].name "n": already used by jobs[0] (line 3); give each job its own name`},
		{"bad job time zone", minimal + "jobs:\n  - name: n\n    schedule: '@daily'\n    timezone: Asia/Shangai\n",
			nil, 5, `jobs[0].timezone "Asia/Shangai": unknown time zone; use an IANA name such as Asia/Shanghai or UTC`},
		{"zone set twice", minimal + "jobs:\n  - name: n\n    schedule: 'CRON_TZ=UTC @daily'\n    timezone: UTC\n",
			nil, 5, `jobs[0].timezone: the schedule already sets its zone with CRON_TZ=; keep one of the two`},
		{"bad rules time zone", "rules:\n  timezone: Mars/Olympus\n",
			nil, 2, `rules.timezone "Mars/Olympus": unknown time zone; use an IANA name such as Asia/Shanghai or UTC`},
		{"unknown connector", minimal + "connectors: [{name: dt, type: dingtalk}]\njobs:\n  - {name: n, schedule: '@daily', connectors: [dt, wc]}\n",
			nil, 4, `jobs[0].connectors[1] "wc": no connector has this name; use one of dt`},
		{"unknown sink, none configured", minimal + "jobs:\n  - name: n\n    schedule: '@daily'\n    sinks:\n      - hr\n",
			nil, 6, `jobs[0].sinks[0] "hr": no sink is configured; add one under sinks:`},
		{"duplicate connector", minimal + "connectors:\n  - {name: dt, type: dingtalk}\n  - {name: dt, type: wecom}\n",
			nil, 4, `connectors[1].name "dt": already used by connectors[0] (line 3); give each connector its own name`},
		{"duplicate sink", minimal + "sinks:\n  - {name: hr, type: hrhttp}\n  - name: hr\n    type: csvfile\n",
			nil, 4, `sinks[1].name "hr": already used by sinks[0] (line 3); give each sink its own name`},
		{"connector without type", minimal + "connectors:\n  - name: dt\n    app_key: k\n",
			nil, 3, `connectors[0].type: missing required key; add type: <value>`},
		{"connector with empty name", minimal + "connectors:\n  - name:\n    type: dingtalk\n",
			nil, 3, `connectors[0].name: required, but empty; give it a value`},
		{"connector not a mapping", minimal + "connectors:\n  - dingtalk\n",
			nil, 3, `connectors[0]: want a mapping with name, type and the type's settings, e.g. {name: dingtalk-hq, type: dingtalk, ...}, found "dingtalk"`},
		{"connectors as a mapping", minimal + "connectors:\n  dt: {type: dingtalk}\n",
			nil, 3, `connectors: want a list, found a mapping`},
		{"both rules and rules_file", minimal + "rules_file: rules.yaml\n",
			nil, 2, `rules_file: both rules (line 1) and rules_file are set; keep one`},
		{"no rules", "server: {listen: ':80'}\n",
			nil, 1, `rules: missing; add a rules: section (see config/examples/punchbridge.yaml) or rules_file: <path>`},
		{"rules file missing", "rules_file: nowhere.yaml\n",
			nil, 1, `rules_file "nowhere.yaml": cannot read: open nowhere.yaml: no such file or directory; give a path relative to this file`},
		{"bad driver", minimal + "ledger: {driver: mysql}\n",
			nil, 2, `ledger.driver "mysql": unknown driver; use sqlite or postgres`},
		{"postgres without dsn", minimal + "ledger:\n  driver: postgres\n",
			nil, 2, `ledger.dsn: required when ledger.driver is postgres; add dsn: ${PUNCHBRIDGE_POSTGRES_DSN} or dsn_file: <path>`},
		{"redis without url", minimal + "redis:\n  prefix: x\n",
			nil, 2, `redis.url: missing; add url: ${PUNCHBRIDGE_REDIS_URL} or url_file: <path>, or remove the redis section`},
		{"redis url of another scheme", minimal + "redis:\n  url: ${R}\n",
			map[string]string{"R": "http://:pw@h"}, 3, `redis.url: want a redis://, rediss:// or unix:// URL (the value is not shown because it may hold a password)`},
		{"bad listen", minimal + "server: {listen: '8080'}\n",
			nil, 2, `server.listen "8080": want host:port, such as :8080 or 127.0.0.1:8080`},
		{"bad debug listen", minimal + "server: {debug_listen: '6060'}\n",
			nil, 2, `server.debug_listen "6060": want host:port, such as 127.0.0.1:6060, or leave it out to serve no profiles`},
		{"debug listen on the main port", minimal + "server: {listen: '127.0.0.1:8080', debug_listen: '127.0.0.1:8080'}\n",
			nil, 2, `server.debug_listen "127.0.0.1:8080": is server.listen too; the profiles need a port of their own, such as 127.0.0.1:6060`},
		{"bad identity field", minimal + "identity:\n  field: phone\n",
			nil, 3, `identity.field "phone": unknown field; use job_number, mobile, email, user_id or attr:<name>`},
		{"empty attr", minimal + "identity: {field: 'attr:'}\n",
			nil, 2, `identity.field "attr:": unknown field; use job_number, mobile, email, user_id or attr:<name>`},
		{"unset variable", minimal + "connectors:\n  - name: dt\n    type: dingtalk\n    app_secret: ${DT_SECRET}\n",
			nil, 5, `connectors[0].app_secret: environment variable DT_SECRET is not set; export DT_SECRET=... before running punchbridge`},
		{"bad reference", minimal + "server: {listen: '${1PORT}'}\n",
			nil, 2, `server.listen: bad reference "${1PORT}"; write ${NAME} with letters, digits and _ (or $${ for a literal ${)`},
		{"unclosed reference", minimal + "server: {listen: ':${PORT'}\n",
			nil, 2, `server.listen: bad reference "${PORT"; write ${NAME} with letters, digits and _ (or $${ for a literal ${)`},
		{"quoted number from env", "rules:\n  timezone: UTC\n  anomalies: {max_speed_kmh: \"${SPEED}\"}\n",
			map[string]string{"SPEED": "90"}, 3, `rules.anomalies.max_speed_kmh "${SPEED}": want a number`},
		{"both secret and its file", minimal + "ledger:\n  driver: postgres\n  dsn: x\n  dsn_file: /dev/null\n",
			nil, 5, `ledger.dsn_file: both dsn and dsn_file are set; keep one`},
		{"secret file missing", minimal + "ledger:\n  driver: postgres\n  dsn_file: /nonexistent/dsn\n",
			nil, 4, `ledger.dsn_file "/nonexistent/dsn": cannot read the secret: open /nonexistent/dsn: no such file or directory; give a readable file (a relative path starts at the config file's directory)`},
		{"secret file not regular", minimal + "redis:\n  url_file: /dev\n",
			nil, 3, `redis.url_file "/dev": cannot read the secret: /dev is not a regular file; give a readable file (a relative path starts at the config file's directory)`},
		{"yaml syntax", minimal + "server:\n  listen: :80\n bad: [\n",
			nil, 3, `YAML syntax: did not find expected key; check the indentation and quoting here or on the line before`},
		{"top level is a list", "- a\n- b\n",
			nil, 1, `top level: want a mapping of sections (ledger, server, identity, rules, connectors, sinks, jobs), found a list`},
		{"merge of a scalar", minimal + "server:\n  <<: 5\n",
			nil, 3, `server: <<: want a mapping or an alias of one, found "5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), "punchbridge.yaml", envOf(tt.env))
			if cfg != nil {
				t.Errorf("Parse returned a config along with errors")
			}
			errs := asErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), err)
			}
			want := &Error{File: "punchbridge.yaml", Line: tt.line, Msg: tt.msg}
			if *errs[0] != *want {
				t.Errorf("got  %s\nwant %s", errs[0], want)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	doc := `ledger:
  drivr: sqlite
rules:
  timezone: UTC
  settle: later
jobs:
  - name: n
    schedule: "61 * * * *"
  - schedule: "@daily"
`
	_, err := Parse([]byte(doc), "c.yaml", envOf(nil))
	want := `c.yaml:2: ledger.drivr: unknown key; did you mean "driver"?
c.yaml:5: rules.settle "later": bad duration; write a number with a unit, such as 90s, 60m or 72h
c.yaml:8: jobs[0].schedule "61 * * * *": bad cron spec: end of range (61) above maximum (59): 61; use 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily
c.yaml:9: jobs[1].name: missing required key; add name: <job name>, e.g. nightly`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "punchbridge.yaml")
	doc := `rules: {timezone: Asia/Shanghai}
redis: {url: "redis://localhost:6379/0"}
jobs:
  - {name: a, schedule: "@daily"}
  - {name: b, schedule: "0 2 * * *", timezone: UTC, lookback: 0s, catch_up: false}
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ledger.driver", cfg.Ledger.Driver, "sqlite"},
		{"ledger.path", cfg.Ledger.Path, filepath.Join(dir, "punchbridge.db")},
		{"redis.prefix", cfg.Redis.Prefix, "pb:"},
		{"server.listen", cfg.Server.Listen, ":8080"},
		{"identity.field", cfg.Identity.Field, "job_number"},
		{"jobs[0].lookback", cfg.Jobs[0].Lookback, 72 * time.Hour},
		{"jobs[0].catch_up", *cfg.Jobs[0].CatchUp, true},
		{"jobs[0].timezone", cfg.Jobs[0].Timezone, "Asia/Shanghai"},
		{"jobs[0] spec", cfg.Jobs[0].Spec(), "CRON_TZ=Asia/Shanghai @daily"},
		{"jobs[1].lookback", cfg.Jobs[1].Lookback, time.Duration(0)},
		{"jobs[1].catch_up", *cfg.Jobs[1].CatchUp, false},
		{"jobs[1] spec", cfg.Jobs[1].Spec(), "CRON_TZ=UTC 0 2 * * *"},
		{"rules node file", cfg.RulesFileName, path},
		{"rules node line", cfg.RulesNode.Line, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLedgerPath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"data/pb.db", filepath.Join("/etc/pb", "data/pb.db")},
		{"/var/lib/pb.db", "/var/lib/pb.db"},
		{":memory:", ":memory:"},
		{"file:pb.db?mode=memory", "file:pb.db?mode=memory"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(minimal+"ledger: {path: '"+tt.path+"'}\n"), "/etc/pb/punchbridge.yaml", envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Ledger.Path != tt.want {
			t.Errorf("path %q resolved to %q, want %q", tt.path, cfg.Ledger.Path, tt.want)
		}
	}
}

func TestJobSpec(t *testing.T) {
	tests := []struct {
		job  Job
		want string
	}{
		{Job{Schedule: "0 2 * * *", Timezone: "Asia/Shanghai"}, "CRON_TZ=Asia/Shanghai 0 2 * * *"},
		{Job{Schedule: " @daily ", Timezone: "UTC"}, "CRON_TZ=UTC @daily"},
		{Job{Schedule: "CRON_TZ=Europe/Berlin 0 2 * * *", Timezone: "UTC"}, "CRON_TZ=Europe/Berlin 0 2 * * *"},
		{Job{Schedule: "TZ=Europe/Berlin @hourly", Timezone: "UTC"}, "TZ=Europe/Berlin @hourly"},
		{Job{Schedule: "0 2 * * *"}, "0 2 * * *"},
	}
	for _, tt := range tests {
		got := tt.job.Spec()
		if got != tt.want {
			t.Errorf("Spec of %+v = %q, want %q", tt.job, got, tt.want)
		}
		if _, err := cron.ParseStandard(got); err != nil {
			t.Errorf("Spec %q does not parse: %v", got, err)
		}
	}
}

func TestEnvExpansion(t *testing.T) {
	env := envOf(map[string]string{
		"HOST": "10.0.0.5", "PORT": "9090", "SPEED": "90.5", "NULLISH": "null", "ZONE": "Europe/Berlin",
	})
	doc := `rules:
  timezone: ${ZONE}
  anomalies:
    max_speed_kmh: ${SPEED}
server:
  listen: "${HOST}:${PORT}"
ledger:
  path: /data/${NULLISH}
identity:
  field: attr:$${NOT_EXPANDED}
connectors:
  - name: dt
    type: dingtalk
    port: ${PORT}
`
	cfg, err := Parse([]byte(doc), "c.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "10.0.0.5:9090" {
		t.Errorf("listen = %q", cfg.Server.Listen)
	}
	if cfg.Rules.Timezone != "Europe/Berlin" || cfg.Jobs != nil {
		t.Errorf("timezone = %q", cfg.Rules.Timezone)
	}
	if cfg.Rules.Anomalies.MaxSpeedKmh != 90.5 {
		t.Errorf("plain ${SPEED} decoded as %v, want the number 90.5", cfg.Rules.Anomalies.MaxSpeedKmh)
	}
	if cfg.Ledger.Path != "/data/null" {
		t.Errorf("path = %q", cfg.Ledger.Path)
	}
	if cfg.Identity.Field != "attr:${NOT_EXPANDED}" {
		t.Errorf("$${ gave %q, want a literal ${", cfg.Identity.Field)
	}
	var settings struct {
		Port int `yaml:"port"`
	}
	if err := cfg.Connectors[0].Decode(&settings); err != nil || settings.Port != 9090 {
		t.Errorf("component port = %d, %v; want 9090 from the expanded node", settings.Port, err)
	}
}

func TestEnvNullValueStaysText(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"server:\n  listen: ${L}\n"), "c.yaml", envOf(map[string]string{"L": "~"}))
	// "~" is not host:port, but it must arrive as the text "~", not as null.
	errs := asErrors(t, err)
	if cfg != nil || len(errs) != 1 || !strings.Contains(errs[0].Msg, `server.listen "${L}"`) {
		t.Errorf("got %v", err)
	}
}

func TestSecretFileTwins(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("dsn", "postgres://u:p@db/pb\n")
	write("redis-url", "redis://:pw@cache:6379/0\r\n")
	write("punchbridge.yaml", minimal+`ledger:
  driver: postgres
  dsn_file: dsn
redis:
  url_file: `+filepath.Join(dir, "redis-url")+`
`)
	cfg, err := Load(filepath.Join(dir, "punchbridge.yaml"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Ledger.DSN.Reveal(); got != "postgres://u:p@db/pb" {
		t.Errorf("dsn from a relative file = %q", got)
	}
	if got := cfg.Redis.URL.Reveal(); got != "redis://:pw@cache:6379/0" {
		t.Errorf("redis url from an absolute file = %q", got)
	}
}

func TestRulesFile(t *testing.T) {
	dir := t.TempDir()
	rules := "timezone: Asia/Shanghai\nshifts:\n  day:\n    start: \"09:00\"\n    end: \"18:00\"\n    late_grace: 5m\n"
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "rules.yaml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "conf", "punchbridge.yaml")
	doc := "rules_file: rules.yaml\njobs: [{name: n, schedule: '@daily'}]\n"
	if err := os.WriteFile(cfgPath, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(cfgPath, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	rulesPath := filepath.Join(dir, "conf", "rules.yaml")
	if cfg.RulesFile != rulesPath || cfg.RulesFileName != rulesPath {
		t.Errorf("rules file = %q, name = %q; want %q", cfg.RulesFile, cfg.RulesFileName, rulesPath)
	}
	if cfg.Rules.Shifts["day"].LateGrace != 5*time.Minute {
		t.Errorf("rules not decoded: %+v", cfg.Rules)
	}
	if cfg.Jobs[0].Timezone != "Asia/Shanghai" {
		t.Errorf("job timezone %q, want the rules file's", cfg.Jobs[0].Timezone)
	}
	if got := LineOf(cfg.RulesNode, "shifts.day.late_grace"); got != 6 {
		t.Errorf("line of late_grace in the rules node = %d, want 6", got)
	}

	// A mistake in the rules file is reported in that file.
	bad := strings.Replace(rules, "late_grace: 5m", "late_grace: 5 min", 1)
	if err := os.WriteFile(filepath.Join(dir, "conf", "rules.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(cfgPath, envOf(nil))
	want := rulesPath + `:6: shifts.day.late_grace "5 min": bad duration; write a number with a unit, such as 90s, 60m or 72h`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestLoadRules(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, doc string
		want      string // "" for success
	}{
		{"ok", "timezone: UTC\nassign: {default: [a, b]}\n", ""},
		{"unknown key", "timezone: UTC\nshift: {}\n", `rules.yaml:2: shift: unknown key; did you mean "shifts"?`},
		{"bad zone", "timezone: Asia/Nowhere\n", `rules.yaml:1: timezone "Asia/Nowhere": unknown time zone; use an IANA name such as Asia/Shanghai or UTC`},
		{"shift list", "assign:\n  employees:\n    E1: [a, {b: c}]\n", `rules.yaml:3: assign.employees.E1: cannot unmarshal !!map into string`},
		{"empty", "", `rules.yaml:1: empty rules file; write at least timezone, shifts and assign (see config/examples/punchbridge.yaml)`},
		{"syntax", "shifts: [\n", `rules.yaml:1: YAML syntax: did not find expected node content; check the indentation and quoting here or on the line before`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "rules.yaml")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			r, node, err := LoadRulesNode(path)
			if tt.want == "" {
				if err != nil || node == nil {
					t.Fatalf("got %v, node %v", err, node)
				}
				if r.Assign.Default[1] != "b" {
					t.Errorf("rules = %+v", r)
				}
				return
			}
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if _, err := LoadRules(filepath.Join(dir, "none.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing rules file: %v, want a not-exist error", err)
	}
}

func TestMergeKeys(t *testing.T) {
	doc := `rules:
  timezone: UTC
  shifts:
    day: &base
      start: "09:00"
      end: "18:00"
      late_grace: 10m
    late:
      <<: *base
      start: "11:00"
`
	cfg, err := Parse([]byte(doc), "c.yaml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	late := cfg.Rules.Shifts["late"]
	if late.Start != "11:00" || late.End != "18:00" || late.LateGrace != 10*time.Minute {
		t.Errorf("merged shift = %+v", late)
	}
}
