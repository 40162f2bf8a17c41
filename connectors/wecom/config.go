package wecom

import (
	"fmt"
	"sort"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// Defaults of the settings a config may leave out.
const (
	DefaultBaseURL          = "https://qyapi.weixin.qq.com"
	DefaultTimeout          = 10 * time.Second
	DefaultRetryWait        = time.Second
	DefaultEmployeeField    = "extattr:工号"
	DefaultCallbackWindow   = msgcrypt.DefaultWindow
	DefaultCallbackQueue    = 1000
	DefaultConcurrency      = 4
	DefaultApprovalLookback = 7 * 24 * time.Hour
)

// DefaultRateLimits returns the client-side limits, in calls per minute,
// of the APIs the connector calls (platform API reference B5:
// getcheckindata and the approval APIs 600/min per corp, daily reports
// 100/min; the rest fall under the base 10,000/min per API, except the
// device punches, whose page states no limit and get the check-in limit to
// be safe). Each call returns a fresh map.
func DefaultRateLimits() map[string]int {
	return map[string]int{
		"getcheckindata":            600,
		"getcheckin_daydata":        100,
		"get_hardware_checkin_data": 600,
		"getapprovalinfo":           600,
		"getapprovaldetail":         600,
		"list_id":                   10000,
		"user/get":                  10000,
		"get_staff_info":            10000,
	}
}

// Config is one WeCom connector entry of the config file: one corp (the
// tenant) and the secrets of the apps the connector calls with.
type Config struct {
	// CorpID is the corp's 企业ID; it names the tenant in event ids and is
	// the receive id of its callbacks.
	CorpID string `yaml:"corp_id" required:"true"`
	// CheckinSecret is the secret of a self-built app listed in 打卡 -
	// 可调用接口的应用: it reads punches and device punches.
	CheckinSecret config.Secret `yaml:"checkin_secret" required:"true"`
	// ApprovalSecret is the secret of a self-built app listed in 审批 -
	// 可调用接口的应用; without it no approvals are pulled.
	ApprovalSecret config.Secret `yaml:"approval_secret"`
	// ContactsSecret is the 通讯录同步 secret, the only one user/list_id
	// accepts.
	ContactsSecret config.Secret `yaml:"contacts_secret" required:"true"`
	// HRSecret is the secret of the app listed in 人事助手 - 可调用接口的应用,
	// used when EmployeeField is hr:<fieldid>; default: CheckinSecret.
	HRSecret config.Secret `yaml:"hr_secret"`
	// BaseURL is the API endpoint (default https://qyapi.weixin.qq.com);
	// tests and the demo point it at wecomtest.
	BaseURL string `yaml:"base_url"`
	// Users limits pulls to these user ids; empty means every user of the
	// directory.
	Users []string `yaml:"users"`
	// EmployeeField is where the employee number lives: extattr:<name>
	// (a custom attribute of the member, default extattr:工号) or
	// hr:<fieldid> (a field of the 人事助手 roster).
	EmployeeField string `yaml:"employee_field"`
	// DevicePunches pulls raw attendance-machine punches by upload time
	// (default true).
	DevicePunches *bool `yaml:"device_punches"`
	// CallbackToken and CallbackAESKey are the Token and EncodingAESKey of
	// the approval app's 接收事件服务器 settings; with them the connector
	// accepts callbacks at /hooks/wecom/<name>.
	CallbackToken  config.Secret `yaml:"callback_token"`
	CallbackAESKey config.Secret `yaml:"callback_aes_key"`
	// CallbackWindow is how far a callback's timestamp may lie from now
	// (default 10m).
	CallbackWindow time.Duration `yaml:"callback_window"`
	// CallbackQueue bounds the approval details waiting to be fetched
	// after their callbacks were acknowledged (default 1000).
	CallbackQueue int `yaml:"callback_queue"`
	// RateLimits overrides DefaultRateLimits, in calls per minute, keyed
	// by the API's last path segment (getcheckindata) or its path
	// (checkin/getcheckindata).
	RateLimits map[string]int `yaml:"rate_limits"`
	// Concurrency bounds the calls in flight per API (default 4); 45033
	// lowers it for a while.
	Concurrency int `yaml:"concurrency"`
	// ApprovalTemplates limits approvals to these template ids.
	ApprovalTemplates []string `yaml:"approval_templates"`
	// ApprovalLookback widens each pull's approval search backwards by
	// this much (default 7 days), so that a status change of an approval
	// submitted before the window is read again.
	ApprovalLookback *time.Duration `yaml:"approval_lookback"`
	// LeaveTypes maps WeCom leave type names (病假) to HR codes (SICK),
	// over the built-in inbound mapping's leave_types:; a name neither
	// maps is passed on as it is.
	LeaveTypes map[string]string `yaml:"leave_types"`
	// Inbound is laid over the built-in inbound mapping
	// (preset:wecom-approval) and leave_types: a mapping file (relative to
	// the config file) or the override written inline (see
	// docs/MAPPINGS.md).
	Inbound presets.InboundRef `yaml:"inbound"`
	// Timeout bounds each HTTP request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// RetryWait is the first wait before retrying a busy answer (-1,
	// 301070); later waits double.
	RetryWait time.Duration `yaml:"retry_wait"`

	// inbound is the compiled inbound mapping: compiled by New as part of
	// the config file, else by NewConnector.
	inbound *mapping.Inbound
}

// withDefaults fills the settings left at their zero value.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.EmployeeField == "" {
		c.EmployeeField = DefaultEmployeeField
	}
	if c.DevicePunches == nil {
		on := true
		c.DevicePunches = &on
	}
	if c.CallbackWindow == 0 {
		c.CallbackWindow = DefaultCallbackWindow
	}
	if c.CallbackQueue == 0 {
		c.CallbackQueue = DefaultCallbackQueue
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ApprovalLookback == nil {
		d := DefaultApprovalLookback
		c.ApprovalLookback = &d
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RetryWait == 0 {
		c.RetryWait = DefaultRetryWait
	}
	return c
}

// New is the connectors.ConnectorFactory of type "wecom": defaults, then
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
		return nil, fmt.Errorf("wecom connector %q: %w", name, err)
	}
	if cfg.inbound == nil {
		// A relative inbound: path is read from the working directory.
		in, err := compileInbound(name, cfg, "", nil)
		if err != nil {
			return nil, fmt.Errorf("wecom connector %q: %w", name, err)
		}
		cfg.inbound = in
	}
	deps = deps.WithDefaults()
	log := deps.Logger.With("connector", name, "platform", Platform)
	conn := &Connector{
		name:    name,
		cfg:     cfg,
		log:     log,
		now:     deps.Now,
		client:  newClient(cfg, deps, log),
		pending: newQueue(cfg.CallbackQueue),
		tasks:   deps.Tasks,
		nudge:   make(chan struct{}, 1),
	}
	conn.field, conn.fieldName, _ = parseEmployeeField(cfg.EmployeeField)
	if cfg.CallbackToken != "" {
		cipher, err := msgcrypt.New(cfg.CallbackToken.Reveal(), cfg.CallbackAESKey.Reveal(), cfg.CorpID)
		if err != nil {
			return nil, fmt.Errorf("wecom connector %q: %w", name, err)
		}
		conn.cipher = cipher
		conn.guard = msgcrypt.Guard{Window: cfg.CallbackWindow, Nonces: msgcrypt.NewMemoryNonces(deps.Now), Now: deps.Now}
	}
	return conn, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
