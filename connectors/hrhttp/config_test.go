package hrhttp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
)

func TestConfigValidate(t *testing.T) {
	valid := func() hrhttp.Config {
		c := hrhttp.DefaultConfig()
		c.URL = "https://hr.example.com/api/v1/attendance/days"
		return c
	}
	tests := []struct {
		name   string
		mutate func(*hrhttp.Config)
		want   []string // one "path: message" fragment per expected FieldError
	}{
		{"defaults with a url", func(*hrhttp.Config) {}, nil},
		{"http and zero retries", func(c *hrhttp.Config) { c.URL = "http://10.0.0.5:8080/days"; c.MaxRetries = 0 }, nil},
		{"token and headers", func(c *hrhttp.Config) {
			c.Token = "abc"
			c.Headers = map[string]string{"X-Tenant": "acme"}
		}, nil},
		{"authorization header without token", func(c *hrhttp.Config) { c.Headers = map[string]string{"authorization": "Basic eDp5"} }, nil},
		{"missing url", func(c *hrhttp.Config) { c.URL = "" }, []string{"url: is required"}},
		{"relative url", func(c *hrhttp.Config) { c.URL = "/api/days" }, []string{`url "/api/days": must be an absolute http`}},
		{"ftp url", func(c *hrhttp.Config) { c.URL = "ftp://hr.example.com/days" }, []string{`url "ftp://hr.example.com/days": must be an absolute`}},
		{"url with password", func(c *hrhttp.Config) { c.URL = "https://u:pw123@hr.example.com/days" }, []string{"url \"https://u:xxxxx@hr.example.com/days\": must not carry user:password"}},
		{"token with newline", func(c *hrhttp.Config) { c.Token = "abc\n" }, []string{"token: must not contain spaces"}},
		{"reserved header", func(c *hrhttp.Config) { c.Headers = map[string]string{"idempotency-key": "x"} }, []string{"headers.idempotency-key: is set by the sink"}},
		{"authorization header with token", func(c *hrhttp.Config) {
			c.Token = "abc"
			c.Headers = map[string]string{"Authorization": "Basic eDp5"}
		}, []string{"conflicts with token"}},
		{"bad header name", func(c *hrhttp.Config) { c.Headers = map[string]string{"X Tenant": "a"} }, []string{"is not a valid header name"}},
		{"header value with line break", func(c *hrhttp.Config) { c.Headers = map[string]string{"X-Tenant": "a\r\nX-Evil: 1"} }, []string{"headers.X-Tenant: value must not contain control"}},
		{"zero timeout", func(c *hrhttp.Config) { c.Timeout = 0 }, []string{`timeout "0s": must be positive`}},
		{"negative retries", func(c *hrhttp.Config) { c.MaxRetries = -1 }, []string{`max_retries "-1": must be between 0 and 20`}},
		{"too many retries", func(c *hrhttp.Config) { c.MaxRetries = 21 }, []string{`max_retries "21"`}},
		{"negative min wait", func(c *hrhttp.Config) { c.RetryWaitMin = -time.Second }, []string{`retry_wait_min "-1s": must not be negative`}},
		{"max below min", func(c *hrhttp.Config) { c.RetryWaitMin, c.RetryWaitMax = time.Second, time.Millisecond }, []string{`retry_wait_max "1ms": must be at least retry_wait_min (1s)`}},
		{"every problem reported", func(c *hrhttp.Config) { c.URL = ""; c.Timeout = 0; c.MaxRetries = -1 }, []string{"url:", "timeout", "max_retries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			multi, ok := err.(interface{ Unwrap() []error })
			if !ok || len(multi.Unwrap()) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problem(s)", err, len(tt.want))
			}
			for i, e := range multi.Unwrap() {
				var fe *config.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("problem %d is %T, want *config.FieldError", i, e)
				}
				if !strings.Contains(fe.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, fe.Error(), tt.want[i])
				}
			}
			if strings.Contains(err.Error(), "pw123") {
				t.Errorf("Validate() leaks the URL password: %v", err)
			}
		})
	}
}

// component parses one sink entry as the config file would hold it.
func component(t *testing.T, src string) config.Component {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	var c config.Component
	if err := doc.Content[0].Decode(&c); err != nil {
		t.Fatal(err)
	}
	c.File = "punchbridge.yaml"
	return c
}

func TestNewFromConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string // substring; "" means built
	}{
		{
			name: "every setting",
			yaml: `name: payroll
type: hrhttp
url: https://hr.example.com/days
token: abc
headers: {X-Tenant: acme}
timeout: 3s
max_retries: 2
retry_wait_min: 100ms
retry_wait_max: 2s
`,
		},
		{name: "defaults", yaml: "name: payroll\ntype: hrhttp\nurl: https://hr.example.com/days\n"},
		{name: "url missing", yaml: "name: payroll\ntype: hrhttp\n", wantErr: "url"},
		{
			name:    "unknown key",
			yaml:    "name: payroll\ntype: hrhttp\nurl: https://hr.example.com/days\nretries: 3\n",
			wantErr: "punchbridge.yaml:4:",
		},
		{
			name:    "bad duration",
			yaml:    "name: payroll\ntype: hrhttp\nurl: https://hr.example.com/days\ntimeout: soon\n",
			wantErr: "punchbridge.yaml:4:",
		},
		{
			name:    "invalid value at its line",
			yaml:    "name: payroll\ntype: hrhttp\nurl: https://hr.example.com/days\n\nmax_retries: 99\n",
			wantErr: "punchbridge.yaml:5:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := hrhttp.New(component(t, tt.yaml), connectors.Deps{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s.Name() != "payroll" {
					t.Errorf("Name() = %q, want payroll", s.Name())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
