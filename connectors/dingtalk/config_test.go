package dingtalk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
)

// component parses one connector entry as the config file would hold it.
func component(t *testing.T, src string) config.Component {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	return config.Component{Name: "dingtalk-hq", Type: Platform, File: "punchbridge.yaml", Line: n.Line, Node: n}
}

func TestNewFromConfig(t *testing.T) {
	conn, err := New(component(t, `
name: dingtalk-hq
type: dingtalk
app_key: dingappkey
app_secret: very-secret-value
corp_id: ding5f3a
users: [u1, u2]
`), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*Connector)
	if c.Name() != "dingtalk-hq" || c.Platform() != "dingtalk" || c.Tenant() != "ding5f3a" {
		t.Errorf("connector = %s %s %s", c.Name(), c.Platform(), c.Tenant())
	}
	want := Config{AppKey: "dingappkey", AppSecret: "very-secret-value", CorpID: "ding5f3a", BaseURL: DefaultBaseURL,
		Users: []string{"u1", "u2"}, Timeout: DefaultTimeout, RootDept: DefaultRootDept, RetryWait: DefaultRetryWait}
	if c.cfg.AppKey != want.AppKey || c.cfg.AppSecret != want.AppSecret || c.cfg.BaseURL != want.BaseURL ||
		c.cfg.Timeout != want.Timeout || c.cfg.RootDept != want.RootDept || c.cfg.RetryWait != want.RetryWait || len(c.cfg.Users) != 2 {
		t.Errorf("cfg = %+v\nwant  %+v", c.cfg, want)
	}
}

func TestConfigErrorsCarryTheirLine(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown key", `
name: x
type: dingtalk
app_key: k
app_secrett: s
corp_id: c
`, []string{"punchbridge.yaml:5:", "app_secrett"}},
		{"missing secret", `
name: x
type: dingtalk
app_key: k
corp_id: c
`, []string{"app_secret"}},
		{"bad duration", `
name: x
type: dingtalk
app_key: k
app_secret: s
corp_id: c
timeout: ten
`, []string{"punchbridge.yaml:7:", "timeout"}},
		{"every validation problem", `
name: x
type: dingtalk
app_key: k
app_secret: s
corp_id: ding/5f3a
base_url: ftp://oapi.dingtalk.com
users: [u1, u1]
`, []string{"punchbridge.yaml:6:", "corp_id", "punchbridge.yaml:7:", "base_url", "punchbridge.yaml:8:", "users[1]", "listed twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(component(t, tc.src), connectors.Deps{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Config{AppKey: "k", AppSecret: "the-secret", CorpID: "ding5f3a"}
	if err := ok.withDefaults().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		path string
	}{
		{func(c *Config) { c.AppKey = " " }, "app_key"},
		{func(c *Config) { c.AppSecret = "" }, "app_secret"},
		{func(c *Config) { c.CorpID = "" }, "corp_id"},
		{func(c *Config) { c.CorpID = "a b" }, "corp_id"},
		{func(c *Config) { c.BaseURL = "oapi.dingtalk.com" }, "base_url"},
		{func(c *Config) { c.BaseURL = "https://oapi.dingtalk.com/?access_token=x" }, "base_url"},
		{func(c *Config) { c.Users = []string{"u1", ""} }, "users[1]"},
		{func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		{func(c *Config) { c.RootDept = -1 }, "root_department"},
		{func(c *Config) { c.RetryWait = -time.Second }, "retry_wait"},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		var fe *config.FieldError
		if !errors.As(err, &fe) || fe.Path != tc.path {
			t.Errorf("want a FieldError at %s, got %v", tc.path, err)
			continue
		}
		if strings.Contains(err.Error(), "the-secret") {
			t.Errorf("%s: error shows the secret: %v", tc.path, err)
		}
	}
	if _, err := NewConnector("x", Config{}, connectors.Deps{}); err == nil {
		t.Error("NewConnector accepted an empty config")
	}
}

func TestNewFromConfigWithCallbackStreamAndApprovals(t *testing.T) {
	conn, err := New(component(t, `
name: dingtalk-hq
type: dingtalk
app_key: dingappkey
app_secret: very-secret-value
corp_id: ding5f3a
token: pbToken42
aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
stream: true
callback_window: 5m
qps: 10
approvals:
  leave: [PROC-LEAVE-1, PROC-LEAVE-2]
  makeup: [PROC-SUPPLY]
inbound:
  templates:
    overtime: [PROC-OT]
  fields:
    leave_type: formComponentValues.#(name=="假别").value
leave_types:
  病假: SICK-HR
`), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*Connector)
	if c.cfg.OwnerKey != "dingappkey" {
		t.Errorf("owner_key = %q, want the app key by default", c.cfg.OwnerKey)
	}
	if !c.cfg.Stream || c.cfg.CallbackWindow != 5*time.Minute || c.cfg.QPS != 10 || c.cfg.APIBaseURL != DefaultAPIBaseURL {
		t.Errorf("cfg = %+v", c.cfg)
	}
	if c.processType("PROC-LEAVE-2") != "leave" || c.processType("PROC-SUPPLY") != "makeup" || c.processType("PROC-OT") != "overtime" ||
		c.processType("PROC-X") != "" {
		t.Errorf("process types = %v, want approvals: and inbound: templates", c.procTypes)
	}
	for name, want := range map[string]string{"病假": "SICK-HR", "年假": "ANNUAL", "育儿假": "育儿假"} {
		form := []byte(`{"formComponentValues":[{"name":"假别","value":"` + name + `"},
			{"bizAlias":"startTime","value":"2026-03-04 09:00"},{"bizAlias":"finishTime","value":"2026-03-04 12:00"}]}`)
		a, err := c.forms.read("PROC-LEAVE-1", form)
		if err != nil || a.LeaveType != want {
			t.Errorf("%s: leave type %q, %v; want %q: the config's leave_types over the built-in ones, the inbound: field", name, a.LeaveType, err, want)
		}
	}
}

func TestInboundErrorsCarryTheirLine(t *testing.T) {
	entry := `
name: dingtalk-hq
type: dingtalk
app_key: k
app_secret: s
corp_id: ding5f3a
`
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"bad layout inline", entry + `inbound:
  fields:
    start:
      from: formComponentValues.#(name=="起").value
      transforms:
        - format: {from: "YYYY-MM-DD HH:mm", layout: RFC3339}
`, []string{"punchbridge.yaml:12:", "fields.start", "not a Go layout"}},
		{"unknown field inline", entry + `inbound:
  fields:
    leave_kind: formComponentValues.#(name=="假别").value
`, []string{"punchbridge.yaml:9:", "leave_kind"}},
		{"missing file", entry + `inbound: no-such-leave.yaml
`, []string{"punchbridge.yaml:7:", "inbound:", "no-such-leave.yaml"}},
		{"bad file", entry + `inbound: testdata/bad-leave.yaml
`, []string{"testdata/bad-leave.yaml:", "not a Go layout"}},
		{"code under two types", entry + `approvals:
  leave: [PROC-A]
inbound:
  templates:
    overtime: [PROC-A]
`, []string{"punchbridge.yaml:8:", "approvals.leave[0]", "templates.overtime"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(component(t, tc.src), connectors.Deps{})
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v, want config errors", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestConfigCallbackAndApprovalErrors(t *testing.T) {
	ok := Config{AppKey: "k", AppSecret: "the-secret", CorpID: "ding5f3a"}
	for _, tc := range []struct {
		edit func(*Config)
		path string
	}{
		{func(c *Config) { c.Token = "tok" }, "aes_key"},
		{func(c *Config) { c.AESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" }, "token"},
		{func(c *Config) { c.Token, c.AESKey = "tok", "short" }, "aes_key"},
		{func(c *Config) { c.Token, c.AESKey = "tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDE+G" }, "aes_key"},
		{func(c *Config) { c.Token, c.AESKey = "to k", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" }, "token"},
		{func(c *Config) { c.OwnerKey = "ding app" }, "owner_key"},
		{func(c *Config) { c.CallbackWindow = -time.Minute }, "callback_window"},
		{func(c *Config) { c.QPS = -1 }, "qps"},
		{func(c *Config) { c.QPS = 5000 }, "qps"},
		{func(c *Config) { c.Concurrency = 100 }, "concurrency"},
		{func(c *Config) { c.APIBaseURL = "api.dingtalk.com" }, "api_base_url"},
		{func(c *Config) { c.Approvals.Leave = []string{""} }, "approvals.leave[0]"},
		{func(c *Config) { c.Approvals.Leave, c.Approvals.Makeup = []string{"PROC-A"}, []string{"PROC-A"} }, "approvals.makeup[0]"},
		{func(c *Config) { c.LeaveTypes = map[string]string{"病假": ""} }, "leave_types.病假"},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		var fe *config.FieldError
		if !errors.As(err, &fe) || fe.Path != tc.path {
			t.Errorf("want a FieldError at %s, got %v", tc.path, err)
			continue
		}
		if strings.Contains(err.Error(), "abcdefghijklmnopqrstuvwxyz") || strings.Contains(err.Error(), "the-secret") {
			t.Errorf("%s: error shows a secret: %v", tc.path, err)
		}
	}
}
