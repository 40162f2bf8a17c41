package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	// Zone names are validated at load; the embedded database makes that
	// independent of the host (minimal containers ship no zoneinfo).
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/reconcile"
)

// Defaults applied by Load.
const (
	DefaultLedgerDriver  = "sqlite"
	DefaultLedgerPath    = "punchbridge.db"
	DefaultRedisPrefix   = "pb:"
	DefaultListen        = ":8080"
	DefaultIdentityField = "job_number"
	DefaultLookback      = 72 * time.Hour
	DefaultRawRetention  = 30 * 24 * time.Hour
)

// validator applies defaults and checks what spans more than one key.
// Lines come from the expanded document; values are quoted as written.
type validator struct {
	cfg  *Config
	root *yaml.Node
	d    *decoder
}

// at returns the line of path and its value as written ("" when absent).
func (v validator) at(path string) (int, string) {
	line, n := locate(v.root, path)
	if n = resolve(n); n == nil || n.Kind != yaml.ScalarNode {
		return line, ""
	}
	return line, v.d.shown(n)
}

// failed reports whether the value at path was already reported as wrong
// (a bad ${NAME}, a value of the wrong type), so its decoded value, likely
// empty, must not be reported again.
func (v validator) failed(path string) bool {
	_, n := locate(v.root, path)
	return n != nil && v.d.failed[resolve(n)]
}

// errorf reports a problem with the value at path, unless that value was
// already reported.
func (v validator) errorf(path string, line int, format string, args ...any) {
	if !v.failed(path) {
		v.d.errorf(line, format, args...)
	}
}

// present reports whether path has a non-empty value in the document.
func (v validator) present(path string) bool {
	_, n := locate(v.root, path)
	return !isEmpty(n)
}

func (v validator) ledger() {
	l := &v.cfg.Ledger
	switch l.Driver {
	case "":
		l.Driver = DefaultLedgerDriver
	case "sqlite", "postgres":
	default:
		line, shown := v.at("ledger.driver")
		v.errorf("ledger.driver", line, "ledger.driver %q: unknown driver; use sqlite or postgres", shown)
		return
	}
	switch l.Driver {
	case "sqlite":
		if l.Path == "" {
			l.Path = DefaultLedgerPath
		}
		if l.Path != ":memory:" && !strings.HasPrefix(l.Path, "file:") && !filepath.IsAbs(l.Path) {
			l.Path = filepath.Join(v.d.dir, l.Path)
		}
	case "postgres":
		if l.DSN == "" && !v.present("ledger.dsn_file") {
			line, _ := v.at("ledger")
			v.errorf("ledger.dsn", line, "ledger.dsn: required when ledger.driver is postgres; add dsn: ${PUNCHBRIDGE_POSTGRES_DSN} or dsn_file: <path>")
		}
	}
}

func (v validator) redis() {
	r := v.cfg.Redis
	if r == nil {
		return
	}
	if r.Prefix == "" {
		r.Prefix = DefaultRedisPrefix
	}
	line, _ := v.at("redis.url")
	if r.URL == "" {
		if !v.present("redis.url") && !v.present("redis.url_file") {
			v.errorf("redis.url", line, "redis.url: missing; add url: ${PUNCHBRIDGE_REDIS_URL} or url_file: <path>, or remove the redis section")
		}
		return
	}
	// The URL may hold a password: the message never quotes it.
	if u, err := url.Parse(r.URL.Reveal()); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
		v.errorf("redis.url", line, "redis.url: want a redis://, rediss:// or unix:// URL (the value is not shown because it may hold a password)")
	}
}

func (v validator) server() {
	s := &v.cfg.Server
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		line, shown := v.at("server.listen")
		v.errorf("server.listen", line, "server.listen %q: want host:port, such as :8080 or 127.0.0.1:8080", shown)
	}
	if s.DebugListen == "" {
		return
	}
	line, shown := v.at("server.debug_listen")
	// Port 0 is any free port, twice two different ones.
	if _, port, err := net.SplitHostPort(s.DebugListen); err != nil {
		v.errorf("server.debug_listen", line, "server.debug_listen %q: want host:port, such as 127.0.0.1:6060, or leave it out to serve no profiles", shown)
	} else if s.DebugListen == s.Listen && port != "0" {
		v.errorf("server.debug_listen", line, "server.debug_listen %q: is server.listen too; the profiles need a port of their own, such as 127.0.0.1:6060", shown)
	}
}

func (v validator) ledgerBatch() {
	l := v.cfg.Ledger
	if l.BatchSize < 0 {
		line, shown := v.at("ledger.batch_size")
		v.errorf("ledger.batch_size", line, "ledger.batch_size %q: must not be negative (0 takes the default, 500)", shown)
	}
	switch {
	case l.CheckpointInterval < 0:
		line, shown := v.at("ledger.checkpoint_interval")
		v.errorf("ledger.checkpoint_interval", line, "ledger.checkpoint_interval %q: must not be negative (0 takes the default, 20ms)", shown)
	case l.CheckpointInterval > 0 && l.Driver == "postgres":
		line, shown := v.at("ledger.checkpoint_interval")
		v.errorf("ledger.checkpoint_interval", line, "ledger.checkpoint_interval %q: only a sqlite ledger has a WAL to checkpoint; remove it for postgres", shown)
	}
}

func (v validator) privacy() {
	p := &v.cfg.Privacy
	switch {
	case p.RawRetention == 0:
		p.RawRetention = DefaultRawRetention
	case p.RawRetention < 0:
		line, shown := v.at("privacy.raw_retention")
		v.errorf("privacy.raw_retention", line, "privacy.raw_retention %q: must be positive, e.g. 720h (30 days)", shown)
	}
}

func (v validator) identity() {
	id := &v.cfg.Identity
	switch {
	case id.Field == "":
		id.Field = DefaultIdentityField
	case id.Field == "job_number", id.Field == "mobile", id.Field == "email", id.Field == "user_id":
	case strings.HasPrefix(id.Field, "attr:") && len(id.Field) > len("attr:"):
	default:
		line, shown := v.at("identity.field")
		v.errorf("identity.field", line, "identity.field %q: unknown field; use job_number, mobile, email, user_id or attr:<name>", shown)
	}
}

// minTokenLen is the shortest admin token accepted; a short one can be
// guessed.
const minTokenLen = 16

// admin checks the admin tokens: each named uniquely, with a role, and a
// token long enough and used by no other name (the audit log must be able
// to tell who acted). Token values are never shown.
func (v validator) admin() {
	names := map[string]string{}
	values := map[string]string{}
	for i, t := range v.cfg.Admin.Tokens {
		tp := indexPath("admin.tokens", i)
		tline, _ := v.at(tp)
		switch line, shown := v.at(tp + ".name"); {
		case t.Name == "":
			v.errorf(tp+".name", tline, "%s.name: missing; add name: <who holds the token>, e.g. payroll-ops", tp)
		case !validName.MatchString(t.Name):
			v.errorf(tp+".name", line, "%s.name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", tp, shown)
		case names[t.Name] != "":
			v.errorf(tp+".name", line, "%s.name %q: already used by %s; give each token its own name", tp, shown, names[t.Name])
		default:
			names[t.Name] = fmt.Sprintf("%s (line %d)", tp, line)
		}
		switch line, shown := v.at(tp + ".role"); t.Role {
		case RoleViewer, RoleOperator, RoleAdmin:
		case "":
			v.errorf(tp+".role", tline, "%s.role: missing; add role: viewer, operator or admin", tp)
		default:
			v.errorf(tp+".role", line, "%s.role %q: unknown role; use viewer, operator or admin", tp, shown)
		}
		line, _ := v.at(tp + ".token")
		if line == 0 {
			line, _ = v.at(tp + ".token_file")
		}
		if line == 0 {
			line = tline
		}
		switch tok := t.Token.Reveal(); {
		case tok == "":
			if !v.present(tp+".token") && !v.present(tp+".token_file") {
				v.errorf(tp+".token", line, "%s.token: missing or empty; add token: ${PUNCHBRIDGE_ADMIN_TOKEN} or token_file: <path>", tp)
			}
		case len(tok) < minTokenLen:
			v.errorf(tp+".token", line, "%s.token: shorter than %d characters; use a long random value, e.g. from openssl rand -hex 32 (the value is not shown)", tp, minTokenLen)
		case values[tok] != "":
			v.errorf(tp+".token", line, "%s.token: the same value as %s; give each name its own token (the value is not shown)", tp, values[tok])
		default:
			values[tok] = tp
		}
	}
}

// validName is what a connector, sink or job may be called: it appears in
// webhook URLs, metrics and logs.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// components checks the names of one list: well-formed and unique.
func (v validator) components(key, kind string, list []Component) {
	first := map[string]string{}
	for i, c := range list {
		path := indexPath(key, i) + ".name"
		if c.Name == "" {
			continue // reported by the strict decode
		}
		line, shown := v.at(path)
		if !validName.MatchString(c.Name) {
			v.errorf(path, line, "%s %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", path, shown)
			continue
		}
		if prev, dup := first[c.Name]; dup {
			v.errorf(path, line, "%s %q: already used by %s; give each %s its own name", path, shown, prev, kind)
			continue
		}
		first[c.Name] = fmt.Sprintf("%s (line %d)", indexPath(key, i), line)
	}
}

func (v validator) jobs() {
	connectors, sinks := names(v.cfg.Connectors), names(v.cfg.Sinks)
	first := map[string]string{}
	for i := range v.cfg.Jobs {
		j := &v.cfg.Jobs[i]
		jp := indexPath("jobs", i)
		jline, _ := v.at(jp)
		if j.Name == "" {
			v.errorf(jp+".name", jline, "%s.name: missing required key; add name: <job name>, e.g. nightly", jp)
		} else if line, shown := v.at(jp + ".name"); !validName.MatchString(j.Name) {
			v.errorf(jp+".name", line, "%s.name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", jp, shown)
		} else if prev, dup := first[j.Name]; dup {
			v.errorf(jp+".name", line, "%s.name %q: already used by %s; give each job its own name", jp, shown, prev)
		} else {
			first[j.Name] = fmt.Sprintf("%s (line %d)", jp, line)
		}
		v.schedule(j, jp, jline)
		if !v.present(jp + ".lookback") {
			j.Lookback = DefaultLookback
		} else if j.Lookback < 0 {
			line, shown := v.at(jp + ".lookback")
			v.errorf(jp+".lookback", line, "%s.lookback %q: must not be negative; use a duration such as 72h", jp, shown)
		}
		if j.CatchUp == nil {
			catchUp := true
			j.CatchUp = &catchUp
		}
		v.references(jp+".connectors", "connector", j.Connectors, connectors)
		v.references(jp+".sinks", "sink", j.Sinks, sinks)
	}
}

// schedule checks a job's cron spec and time zone; a job without a zone
// takes the rules' zone.
func (v validator) schedule(j *Job, jp string, jline int) {
	if j.Timezone != "" {
		line, shown := v.at(jp + ".timezone")
		if _, err := time.LoadLocation(j.Timezone); err != nil {
			v.errorf(jp+".timezone", line, "%s.timezone %q: unknown time zone; use an IANA name such as Asia/Shanghai or UTC", jp, shown)
		} else if hasZonePrefix(j.Schedule) {
			v.errorf(jp+".timezone", line, "%s.timezone: the schedule already sets its zone with CRON_TZ=; keep one of the two", jp)
		}
	} else {
		j.Timezone = v.cfg.Rules.Timezone
	}
	if strings.TrimSpace(j.Schedule) == "" {
		if !v.present(jp + ".schedule") {
			v.errorf(jp+".schedule", jline, "%s.schedule: missing required key; add schedule: \"0 2 * * *\" (5 cron fields) or a descriptor like @daily", jp)
		}
		return
	}
	if _, err := cron.ParseStandard(strings.TrimSpace(j.Schedule)); err != nil {
		line, shown := v.at(jp + ".schedule")
		detail := err.Error()
		if shown != j.Schedule {
			// The parser quotes the spec; one from ${NAME} is not shown.
			detail = "the value of " + shown + " does not parse"
		}
		v.errorf(jp+".schedule", line, "%s.schedule %q: bad cron spec: %s; use 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily", jp, shown, detail)
	}
}

// references checks that every name a job lists exists.
func (v validator) references(path, kind string, refs []string, known []string) {
	for i, name := range refs {
		if contains(known, name) {
			continue
		}
		line, shown := v.at(indexPath(path, i))
		if len(known) == 0 {
			v.errorf(indexPath(path, i), line, "%s %q: no %s is configured; add one under %ss:", indexPath(path, i), shown, kind, kind)
			continue
		}
		v.errorf(indexPath(path, i), line, "%s %q: no %s has this name; use one of %s", indexPath(path, i), shown, kind, strings.Join(known, ", "))
	}
}

func names(list []Component) []string {
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, c.Name)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkRules checks what of the rules the config depends on: the time
// zone, which jobs inherit. prefix is "rules" for inline rules.
func checkRules(d *decoder, root *yaml.Node, r reconcile.Rules, prefix string) {
	if r.Timezone == "" {
		return
	}
	if _, err := time.LoadLocation(r.Timezone); err != nil {
		line, n := locate(root, "timezone")
		shown := r.Timezone
		if n != nil {
			shown = d.shown(n)
		}
		d.errorf(line, "%s %q: unknown time zone; use an IANA name such as Asia/Shanghai or UTC", joinPath(prefix, "timezone"), shown)
	}
}
