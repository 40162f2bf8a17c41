// Package config loads Punchbridge's YAML configuration: connectors and
// sinks by type and name, the ledger, Redis, the attendance rules and the
// job schedules. Loading is strict (unknown keys are errors), secrets come
// from the environment as ${NAME} and never print, and every error carries
// file:line so that IT can fix a config in one pass.
package config

import (
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/reconcile"
)

// Config is a loaded and validated configuration file.
type Config struct {
	// File is the path the config was loaded from.
	File string `yaml:"-"`

	Ledger   LedgerConfig   `yaml:"ledger"`
	Redis    *RedisConfig   `yaml:"redis"`
	Server   ServerConfig   `yaml:"server"`
	Identity IdentityConfig `yaml:"identity"`
	Privacy  PrivacyConfig  `yaml:"privacy"`
	// RulesFile names a separate attendance rules file (relative to this
	// file); exactly one of RulesFile and Rules is set.
	RulesFile string          `yaml:"rules_file"`
	Rules     reconcile.Rules `yaml:"rules"`

	Connectors []Component `yaml:"connectors"`
	Sinks      []Component `yaml:"sinks"`
	Jobs       []Job       `yaml:"jobs"`

	// Admin holds the bearer tokens of the admin API and the status page.
	Admin AdminConfig `yaml:"admin"`

	// RulesNode is the YAML node the rules were decoded from (the value of
	// rules:, or the root of the rules file) and RulesFileName the file
	// that holds it, so that a rules error found later (reconcile.Compile)
	// can be reported at its line with LineOf.
	RulesNode     *yaml.Node `yaml:"-" json:"-"`
	RulesFileName string     `yaml:"-" json:"-"`
}

// LedgerConfig selects the durable store.
type LedgerConfig struct {
	Driver string `yaml:"driver"` // sqlite (default) | postgres
	Path   string `yaml:"path"`   // sqlite: database file
	DSN    Secret `yaml:"dsn"`    // postgres: connection string
	// BatchSize and BatchWait tune group commit of the ingest path:
	// concurrent webhooks and pulls share a ledger transaction of up to
	// BatchSize items, committed at the latest BatchWait after the first
	// arrived (defaults 500 and 2ms); a pull's writes, which no others
	// join, commit at once.
	BatchSize int           `yaml:"batch_size"`
	BatchWait time.Duration `yaml:"batch_wait"`
	// CheckpointInterval is how often, at most, a SQLite ledger copies its
	// WAL into the database file under load (default 20ms): longer saves
	// CPU an event, shorter keeps write latency even.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
}

// RedisConfig enables Redis for dedupe, locks and the token cache.
type RedisConfig struct {
	URL    Secret `yaml:"url"`
	Prefix string `yaml:"prefix"` // key prefix, default "pb:"
}

// ServerConfig configures `punchbridge serve`.
type ServerConfig struct {
	Listen string `yaml:"listen"` // default ":8080"
	// DebugListen, when set, is a second host:port on which the Go
	// runtime's profiles are served (/debug/pprof/), without
	// authentication: keep it on loopback or a private network.
	DebugListen string `yaml:"debug_listen"`
}

// AdminConfig lists who may use the admin API and the status page. With no
// tokens, both refuse every request.
type AdminConfig struct {
	Tokens []AdminToken `yaml:"tokens"`
}

// Admin roles, from least to most allowed.
const (
	RoleViewer   = "viewer"   // reads everything
	RoleOperator = "operator" // also replays the dead-letter queue, runs jobs, re-pulls windows
	RoleAdmin    = "admin"    // also re-maps identities
)

// AdminToken is one bearer token of the admin API.
type AdminToken struct {
	// Name says whose token it is; the audit log records it.
	Name string `yaml:"name"`
	// Token is the secret itself, at least 16 characters: ${NAME} or
	// token_file: <path>.
	Token Secret `yaml:"token"`
	// Role is viewer, operator or admin.
	Role string `yaml:"role"`
}

// IdentityConfig says how platform users map to HR employee ids.
type IdentityConfig struct {
	// Field is the directory field holding the employee id, or the key
	// into Table and Lookup: job_number (default), mobile, email, user_id,
	// or attr:<name>.
	Field string `yaml:"field"`
	// Table is a CSV of <field>,employee_id rows (relative to this file).
	Table string `yaml:"table"`
	// Lookup asks the HR system for the employee id, cached.
	Lookup *IdentityLookup `yaml:"lookup"`
}

// IdentityLookup is an HTTP lookup of employee ids in the HR system; the
// identity package documents each setting (identity.LookupConfig).
type IdentityLookup struct {
	URL        string            `yaml:"url"`
	Path       string            `yaml:"path"`
	Token      Secret            `yaml:"token"`
	AuthScheme string            `yaml:"auth_scheme"`
	Headers    map[string]string `yaml:"headers"`
	Timeout    time.Duration     `yaml:"timeout"`
	MaxRetries int               `yaml:"max_retries"`
	RetryWait  time.Duration     `yaml:"retry_wait"`
	CacheTTL   time.Duration     `yaml:"cache_ttl"`
	MissTTL    time.Duration     `yaml:"miss_ttl"`
}

// PrivacyConfig limits what Punchbridge keeps about people.
type PrivacyConfig struct {
	// RawRetention is how long raw platform payloads are kept beside the
	// normalized events before the purge-raw job deletes them (default
	// 720h, 30 days); the normalized events stay.
	RawRetention time.Duration `yaml:"raw_retention"`
}

// Component is one connector or sink entry: its name and type, and its
// YAML node so that the component's own package can decode its settings
// strictly (see Component.Decode). A sink's `delivery:` settings are the
// outbox's, not the sink type's, and are decoded by Load into Delivery.
type Component struct {
	Name     string
	Type     string
	File     string
	Line     int
	Node     *yaml.Node
	Delivery Delivery
	Privacy  SinkPrivacy

	// meta is what Load knows beyond the node; nil for a hand-built
	// Component.
	meta *componentMeta
}

// Delivery tunes how the outbox retries a sink: after MaxAttempts failed
// attempts a delivery goes to the dead-letter queue; the wait before
// attempt n+1 is Backoff·2^(n−1), capped at MaxBackoff, with ±20 % jitter.
type Delivery struct {
	MaxAttempts int           `yaml:"max_attempts"` // default 5
	Backoff     time.Duration `yaml:"backoff"`      // default 30s
	MaxBackoff  time.Duration `yaml:"max_backoff"`  // default 1h
	Workers     int           `yaml:"workers"`      // deliveries at once, default 4
}

// SinkPrivacy limits what a sink sends out about people.
type SinkPrivacy struct {
	// Location is what punch locations leave as: keep (default), drop, or
	// coarse (rounded to about 100 m, no address or Wi-Fi).
	Location string `yaml:"location"`
}

// Job is one scheduled pull → reconcile → push run.
type Job struct {
	Name string `yaml:"name"`
	// Schedule is a cron spec (5 fields or a descriptor such as @daily),
	// optionally prefixed with CRON_TZ=Zone.
	Schedule string `yaml:"schedule"`
	// Timezone for the schedule when it has no CRON_TZ= prefix; defaults to
	// the rules' time zone.
	Timezone   string        `yaml:"timezone"`
	Connectors []string      `yaml:"connectors"` // default: every source
	Sinks      []string      `yaml:"sinks"`      // default: every sink
	Lookback   time.Duration `yaml:"lookback"`   // default 72h
	CatchUp    *bool         `yaml:"catch_up"`   // default true
}
