package dingtalk

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// Defaults of the settings a config may leave out.
const (
	DefaultBaseURL          = "https://oapi.dingtalk.com"
	DefaultAPIBaseURL       = "https://api.dingtalk.com"
	DefaultTimeout          = 10 * time.Second
	DefaultRootDept         = 1
	DefaultRetryWait        = time.Second
	DefaultQPS              = 20
	DefaultCallbackWindow   = 10 * time.Minute
	DefaultApprovalLookback = 30 * 24 * time.Hour
	DefaultRefreshDelay     = 30 * time.Second
	DefaultDirectoryTTL     = 10 * time.Minute
	DefaultConcurrency      = 4
	DefaultQueueSize        = 10000
)

// Config is one DingTalk connector entry of the config file: one internal
// app of one organization (the tenant).
type Config struct {
	// AppKey is the app's AppKey (Client ID) from the developer console.
	AppKey string `yaml:"app_key" required:"true"`
	// AppSecret is the app's AppSecret (Client Secret).
	AppSecret config.Secret `yaml:"app_secret" required:"true"`
	// CorpID is the organization's corp id; it names the tenant in event ids.
	CorpID string `yaml:"corp_id" required:"true"`
	// BaseURL is the oapi endpoint (default https://oapi.dingtalk.com); tests
	// and the demo point it at dingtalktest.
	BaseURL string `yaml:"base_url"`
	// APIBaseURL is the v1.0 endpoint (default https://api.dingtalk.com):
	// approvals and the Stream gateway live there.
	APIBaseURL string `yaml:"api_base_url"`
	// Users limits pulls to these user ids; empty means every user of the
	// directory.
	Users []string `yaml:"users"`
	// Timeout bounds each HTTP request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// RootDept is where the directory walk starts (default 1, the root).
	RootDept int64 `yaml:"root_department"`
	// RetryWait is the first wait before retrying a busy (-1) answer (later
	// waits double) and the wait after a QPS answer (90018, 90002,
	// Forbidden.AccessDenied.Qps*). The default, 1s, is the platform's QPS
	// window.
	RetryWait time.Duration `yaml:"retry_wait"`
	// QPS is the client-side limit of calls per second to each API
	// (default 20, the platform's per-app per-API limit for a standard
	// organization).
	QPS float64 `yaml:"qps"`
	// Concurrency, when set, is how many listRecord calls a pull keeps in
	// flight; the QPS limit still paces them. Unset (0), a pull starts
	// DefaultConcurrency calls and adds more while the platform's answers
	// are too slow for them to keep the QPS pace, up to 64.
	Concurrency int `yaml:"concurrency"`

	// Token and AESKey are the HTTP push settings of the developer console
	// (签名 token, 数据加密密钥 aes_key, 43 characters). Both or neither:
	// without them the connector answers webhooks with 404.
	Token  config.Secret `yaml:"token"`
	AESKey config.Secret `yaml:"aes_key"`
	// OwnerKey is what DingTalk appends to every encrypted callback: the
	// app key for a subscription made in the developer console (the
	// default), the corp id for an organization-level one
	// (call_back/register_call_back).
	OwnerKey string `yaml:"owner_key"`
	// CallbackWindow is how far a callback's timestamp may lie from now
	// (default 10m); older or newer ones are refused as replays.
	CallbackWindow time.Duration `yaml:"callback_window"`
	// Stream turns on Stream mode: a long-lived WebSocket opened through
	// the gateway, which needs no public URL.
	Stream bool `yaml:"stream"`
	// RefreshDelay is how long after a push the connector reads the
	// punch's full record (listRecord lags the push a little; default 30s).
	RefreshDelay time.Duration `yaml:"refresh_delay"`
	// DirectoryTTL is how long a directory walk is reused (default 10m):
	// a run maps identities and then pulls the same users, and walking a
	// large organisation twice costs hundreds of calls against the quota.
	DirectoryTTL time.Duration `yaml:"directory_ttl"`
	// QueueSize bounds the follow-up work webhooks and Stream schedule
	// (default 10000); a push that finds it full is answered 503, so the
	// platform retries it.
	QueueSize int `yaml:"queue_size"`

	// Approvals lists the process codes to read, by what they mean; they
	// are added to the templates: of the inbound mapping.
	Approvals ApprovalCodes `yaml:"approvals"`
	// LeaveTypes maps DingTalk leave names to HR codes, over the built-in
	// inbound mapping's leave_types:.
	LeaveTypes map[string]string `yaml:"leave_types"`
	// Inbound is laid over the built-in inbound mapping
	// (preset:dingtalk-approval) and the two settings above: a mapping file
	// (relative to the config file) or the override written inline. It
	// says which form components hold an approval's facts (see
	// docs/MAPPINGS.md).
	Inbound presets.InboundRef `yaml:"inbound"`
	// ApprovalLookback widens a pull's approval listing backwards (default
	// 720h): an instance is listed by the time it was created, and a leave
	// taken in the window may have been asked for weeks before.
	ApprovalLookback time.Duration `yaml:"approval_lookback"`

	// inbound is the compiled inbound mapping, when New compiled it as
	// part of the config file.
	inbound *mapping.Inbound
}

// ApprovalCodes are the process codes (PROC-...) of the organization's
// approval templates, by type. Make-up (补卡, attendance.supply) instances
// become makeup events, the others approval events.
type ApprovalCodes struct {
	Leave    []string `yaml:"leave"`
	Overtime []string `yaml:"overtime"`
	Trip     []string `yaml:"trip"`
	Out      []string `yaml:"out"`
	Makeup   []string `yaml:"makeup"`
}

// byType lists the process codes by type, as an inbound mapping's
// templates: does.
func (a ApprovalCodes) byType() map[string][]string {
	return map[string][]string{
		"leave": a.Leave, "overtime": a.Overtime, "trip": a.Trip, "out": a.Out, "makeup": a.Makeup,
	}
}

// withDefaults fills the settings left at their zero value.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.APIBaseURL == "" {
		c.APIBaseURL = DefaultAPIBaseURL
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RootDept == 0 {
		c.RootDept = DefaultRootDept
	}
	if c.RetryWait == 0 {
		c.RetryWait = DefaultRetryWait
	}
	if c.QPS == 0 {
		c.QPS = DefaultQPS
	}
	if c.OwnerKey == "" {
		c.OwnerKey = c.AppKey
	}
	if c.CallbackWindow == 0 {
		c.CallbackWindow = DefaultCallbackWindow
	}
	if c.RefreshDelay == 0 {
		c.RefreshDelay = DefaultRefreshDelay
	}
	if c.DirectoryTTL == 0 {
		c.DirectoryTTL = DefaultDirectoryTTL
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.ApprovalLookback == 0 {
		c.ApprovalLookback = DefaultApprovalLookback
	}
	return c
}

// Validate checks every setting and returns one *config.FieldError per
// problem (joined), each naming the key, the value and the fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	if strings.TrimSpace(c.AppKey) == "" {
		bad("app_key", c.AppKey, "is required: the app's AppKey (Client ID) from the DingTalk developer console")
	}
	if strings.TrimSpace(c.AppSecret.Reveal()) == "" {
		bad("app_secret", "", "is required: the app's AppSecret, e.g. app_secret: ${DINGTALK_APP_SECRET}")
	}
	switch {
	case strings.TrimSpace(c.CorpID) == "":
		bad("corp_id", c.CorpID, "is required: the organization's CorpId (starts with ding)")
	case strings.ContainsAny(c.CorpID, "/ \t"):
		bad("corp_id", c.CorpID, "must not contain '/' or spaces: it becomes part of every event id")
	}
	checkURL := func(key, v, example string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad(key, v, "must be an http(s) URL without a query, e.g. "+example)
		}
	}
	checkURL("base_url", c.BaseURL, DefaultBaseURL)
	checkURL("api_base_url", c.APIBaseURL, DefaultAPIBaseURL)
	seen := map[string]bool{}
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		switch {
		case strings.TrimSpace(u) == "":
			bad(path, u, "must be a DingTalk userid; remove the empty entry")
		case seen[u]:
			bad(path, u, "is listed twice; remove the repeat")
		}
		seen[u] = true
	}
	for _, d := range []struct {
		key string
		v   time.Duration
		eg  string
	}{
		{"timeout", c.Timeout, "10s"}, {"retry_wait", c.RetryWait, "1s"}, {"callback_window", c.CallbackWindow, "10m"},
		{"refresh_delay", c.RefreshDelay, "30s"}, {"approval_lookback", c.ApprovalLookback, "720h"},
		{"directory_ttl", c.DirectoryTTL, "10m"},
	} {
		if d.v < 0 {
			bad(d.key, d.v.String(), "must be positive, e.g. "+d.eg)
		}
	}
	if c.RootDept < 0 {
		bad("root_department", fmt.Sprint(c.RootDept), "must be a department id (1 is the root)")
	}
	if c.QPS < 0 || c.QPS > 1000 {
		bad("qps", fmt.Sprint(c.QPS), "must be between 0 and 1000 calls per second per API; the platform allows 20")
	}
	if c.Concurrency < 0 || c.Concurrency > 64 {
		bad("concurrency", fmt.Sprint(c.Concurrency), "must be between 1 and 64")
	}
	if c.QueueSize < 0 {
		bad("queue_size", fmt.Sprint(c.QueueSize), "must be positive, e.g. 10000")
	}
	errs = append(errs, c.validateCallback()...)
	errs = append(errs, c.validateApprovals()...)
	return errors.Join(errs...)
}

// New is the connectors.ConnectorFactory of type "dingtalk": defaults, then
// the entry decoded strictly, then validation (Decode calls Validate, so
// every problem is reported at its file:line), then the connector.
func New(c config.Component, deps connectors.Deps) (connectors.Connector, error) {
	cfg := Config{}.withDefaults()
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	in, err := compileInbound(c.Name, cfg, c.File, c.Node)
	if err != nil {
		return nil, err
	}
	cfg.inbound = in
	return NewConnector(c.Name, cfg, deps)
}

// NewConnector builds a connector named name from cfg, for callers that
// hold a Config rather than a config file (tests, the demo). Zero settings
// get their defaults; an invalid cfg is an error listing every problem.
func NewConnector(name string, cfg Config, deps connectors.Deps) (*Connector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dingtalk connector %q: %w", name, err)
	}
	if cfg.inbound == nil {
		// A relative inbound: path is read from the working directory.
		in, err := compileInbound(name, cfg, "", nil)
		if err != nil {
			return nil, fmt.Errorf("dingtalk connector %q: %w", name, err)
		}
		cfg.inbound = in
	}
	forms := &formReader{in: cfg.inbound}
	deps = deps.WithDefaults()
	log := deps.Logger.With("connector", name, "platform", Platform)
	c := &Connector{
		name:      name,
		cfg:       cfg,
		log:       log,
		now:       deps.Now,
		client:    newClient(cfg, deps, log),
		forms:     forms,
		procTypes: forms.codes(),
		final:     newFinalCache(100000),
		queue:     newQueue(cfg.QueueSize),
		tasks:     deps.Tasks,
		taskNudge: make(chan struct{}, 1),
		seen:      newSeenSet(4096),
		hooks:     newHookStats(),
		nonces:    msgcrypt.NewMemoryNonces(deps.Now),

		streamKeepAlive: defaultKeepAlive,
		streamPongWait:  defaultPongWait,
	}
	return c, nil
}
