package dingtalk

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
)

// Defaults of the settings a config may leave out.
const (
	DefaultBaseURL   = "https://oapi.dingtalk.com"
	DefaultTimeout   = 10 * time.Second
	DefaultRootDept  = 1
	DefaultRetryWait = time.Second
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
	// Users limits pulls to these user ids; empty means every user of the
	// directory.
	Users []string `yaml:"users"`
	// Timeout bounds each HTTP request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// RootDept is where the directory walk starts (default 1, the root).
	RootDept int64 `yaml:"root_department"`
	// RetryWait is the first wait before retrying a busy (-1) or
	// rate-limited (90018, 90002) answer; later waits double. The default,
	// 1s, is the platform's QPS window.
	RetryWait time.Duration `yaml:"retry_wait"`
}

// withDefaults fills the settings left at their zero value.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
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
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("base_url", c.BaseURL, "must be an http(s) URL without a query, e.g. https://oapi.dingtalk.com")
		}
	}
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
	if c.Timeout < 0 {
		bad("timeout", c.Timeout.String(), "must be positive, e.g. 10s")
	}
	if c.RootDept < 0 {
		bad("root_department", fmt.Sprint(c.RootDept), "must be a department id (1 is the root)")
	}
	if c.RetryWait < 0 {
		bad("retry_wait", c.RetryWait.String(), "must be positive, e.g. 1s")
	}
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
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Tokens == nil {
		deps.Tokens = connectors.NewMemoryTokenCache()
	}
	log := deps.Logger.With("connector", name, "platform", Platform)
	return &Connector{
		name:   name,
		cfg:    cfg,
		log:    log,
		now:    deps.Now,
		client: newClient(cfg, deps, log),
	}, nil
}
