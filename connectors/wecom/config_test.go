package wecom

import (
	"errors"
	"fmt"
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
	return config.Component{Name: "wecom-hq", Type: Platform, File: "punchbridge.yaml", Line: n.Line, Node: n}
}

func TestNewFromConfig(t *testing.T) {
	conn, err := New(component(t, `
name: wecom-hq
type: wecom
corp_id: ww5823bf96d3bd56c7
checkin_secret: checkin-secret-value
approval_secret: approval-secret-value
contacts_secret: contacts-secret-value
employee_field: hr:12024
device_punches: false
callback_token: QDG6eK
callback_aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C
rate_limits: {getcheckindata: 300, oa/getapprovaldetail: 120}
leave_types: {病假: SICK}
approval_lookback: 0s
`), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*Connector)
	if c.Name() != "wecom-hq" || c.Platform() != "wecom" || c.Tenant() != "ww5823bf96d3bd56c7" {
		t.Errorf("connector = %s %s %s", c.Name(), c.Platform(), c.Tenant())
	}
	if c.cfg.BaseURL != DefaultBaseURL || c.cfg.Timeout != DefaultTimeout || c.cfg.CallbackWindow != DefaultCallbackWindow ||
		c.cfg.Concurrency != DefaultConcurrency || *c.cfg.DevicePunches || *c.cfg.ApprovalLookback != 0 {
		t.Errorf("defaults not applied or settings lost: %+v", c.cfg)
	}
	if c.field != fromHR || c.fieldName != "12024" || c.cipher == nil || c.cfg.LeaveTypes["病假"] != "SICK" {
		t.Errorf("field %v %q, cipher %v, leave types %v", c.field, c.fieldName, c.cipher, c.cfg.LeaveTypes)
	}
	want := perMinuteRate(300)
	if got := c.client.limits.get(apiCheckinData).bucket.Limit(); got != want {
		t.Errorf("getcheckindata rate = %v, want %v", got, want)
	}
	if got := c.client.limits.get(apiApprovalDetail).bucket.Limit(); got != perMinuteRate(120) {
		t.Errorf("getapprovaldetail rate = %v, want %v", got, perMinuteRate(120))
	}
	if got := c.client.limits.get(apiApprovalInfo).bucket.Limit(); got != perMinuteRate(600) {
		t.Errorf("getapprovalinfo keeps its default: %v", got)
	}
}

func TestConfigErrorsCarryTheirLine(t *testing.T) {
	base := "name: x\ntype: wecom\ncorp_id: ww1\ncheckin_secret: s1\ncontacts_secret: s2\n"
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown key", base + "checkin_secrett: s\n", []string{"punchbridge.yaml:6:", "checkin_secrett"}},
		{"missing secret", "name: x\ntype: wecom\ncorp_id: ww1\ncontacts_secret: s2\n", []string{"checkin_secret"}},
		{"bad duration", base + "callback_window: ten\n", []string{"punchbridge.yaml:6:", "callback_window"}},
		{"bad employee field", base + "employee_field: jobno\n", []string{"punchbridge.yaml:6:", "employee_field", "extattr:"}},
		{"unknown rate limit", base + "rate_limits:\n  getcheckindata: 10\n  getfoo: 5\n", []string{"punchbridge.yaml:8:", "rate_limits.getfoo"}},
		{"callback half configured", base + "callback_token: tok\n", []string{"callback_aes_key", "is required with callback_token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(component(t, tc.src), connectors.Deps{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		return Config{CorpID: "ww1", CheckinSecret: "a", ContactsSecret: "b"}.withDefaults()
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		path string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"corp id with slash", func(c *Config) { c.CorpID = "ww/1" }, "corp_id"},
		{"no contacts secret", func(c *Config) { c.ContactsSecret = "" }, "contacts_secret"},
		{"bad base url", func(c *Config) { c.BaseURL = "qyapi.weixin.qq.com" }, "base_url"},
		{"user twice, other case", func(c *Config) { c.Users = []string{"ZhangSan", "zhangsan"} }, "users[1]"},
		{"empty user", func(c *Config) { c.Users = []string{""} }, "users[0]"},
		{"hr field not numeric", func(c *Config) { c.EmployeeField = "hr:工号" }, "employee_field"},
		{"short aes key", func(c *Config) {
			c.CallbackToken, c.CallbackAESKey, c.ApprovalSecret = "tok", "short", "x"
		}, "callback_aes_key"},
		{"token with a space", func(c *Config) {
			c.CallbackToken, c.CallbackAESKey, c.ApprovalSecret = "to k", testAESKey, "x"
		}, "callback_token"},
		{"callback without approval secret", func(c *Config) { c.CallbackToken, c.CallbackAESKey = testToken, testAESKey }, "approval_secret"},
		{"zero rate", func(c *Config) { c.RateLimits = map[string]int{"getapprovalinfo": 0} }, "rate_limits.getapprovalinfo"},
		{"too much concurrency", func(c *Config) { c.Concurrency = 100 }, "concurrency"},
		{"negative lookback", func(c *Config) { c.ApprovalLookback = pointer(-time.Hour) }, "approval_lookback"},
		{"leave type without code", func(c *Config) { c.LeaveTypes = map[string]string{"病假": " "} }, "leave_types.病假"},
		{"empty template", func(c *Config) { c.ApprovalTemplates = []string{""} }, "approval_templates[0]"},
		{"negative queue", func(c *Config) { c.CallbackQueue = -1 }, "callback_queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Path != tc.path {
				t.Fatalf("Validate = %v, want a FieldError at %s", err, tc.path)
			}
		})
	}
}

func TestConfigNeverShowsSecrets(t *testing.T) {
	c := Config{CorpID: "ww1", CheckinSecret: "checkin-s3cret", ContactsSecret: "contacts-s3cret",
		CallbackToken: "tokS3cret", CallbackAESKey: "short-key-s3cret"}.withDefaults()
	err := c.Validate()
	out := fmt.Sprintf("%v %+v %#v", err, c, c)
	for _, secret := range []string{"checkin-s3cret", "contacts-s3cret", "tokS3cret", "short-key-s3cret"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q shown in %s", secret, out)
		}
	}
}
