package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/reconcile"
)

// testSettings stands for a connector's own settings type.
type testSettings struct {
	BaseURL   string        `yaml:"base_url"`
	AppKey    string        `yaml:"app_key" required:"true"`
	AppSecret Secret        `yaml:"app_secret" required:"true"`
	Timeout   time.Duration `yaml:"timeout"`
	Users     []string      `yaml:"users"`
	Retry     struct {
		Max int `yaml:"max"`
	} `yaml:"retry"`
	Labels map[string]string `yaml:"labels"`

	validated bool
}

// Validate returns FieldErrors in the three shapes Decode must place: plain,
// joined and wrapped.
func (s *testSettings) Validate() error {
	s.validated = true
	var errs []error
	if s.BaseURL != "" && !strings.HasPrefix(s.BaseURL, "https://") {
		errs = append(errs, &FieldError{Path: "base_url", Value: s.BaseURL, Msg: "want an https:// URL"})
	}
	for i, u := range s.Users {
		if strings.ContainsRune(u, ' ') {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("users[%d]", i), Value: u, Msg: "user ids have no spaces"})
		}
	}
	if s.Retry.Max > 10 {
		errs = append(errs, fmt.Errorf("retry: %w", &FieldError{Path: "retry.max", Msg: "at most 10"}))
	}
	if s.Labels["team"] == "none" {
		errs = append(errs, &FieldError{Path: "labels.owner", Msg: "set an owner when team is none"})
	}
	if s.AppSecret.Reveal() == "leak-me-please" {
		// A careless Validate quoting the secret: Decode must not show it.
		errs = append(errs, &FieldError{Path: "app_secret", Value: s.AppSecret.Reveal(), Msg: "revoked"})
	}
	if s.AppKey == "broken" {
		errs = append(errs, errors.New("app_key is revoked; create a new one"))
	}
	return errors.Join(errs...)
}

// connectorFrom parses a config with one connector whose settings are
// body (indented as list-item keys) and returns it.
func connectorFrom(t *testing.T, file, body string, env map[string]string) Component {
	t.Helper()
	doc := "rules: {timezone: UTC}\nconnectors:\n  - name: dt\n    type: dingtalk\n" + body
	cfg, err := Parse([]byte(doc), file, envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg.Connectors[0]
}

func TestComponentDecode(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dt-secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "leak"), []byte("leak-me-please"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "c.yaml")
	tests := []struct {
		name      string
		body      string // lines start at line 5
		env       map[string]string
		want      []string // "line: msg"; nil means success
		validated bool
	}{
		{
			name:      "ok",
			body:      "    app_key: k\n    app_secret: ${S}\n    timeout: 30s\n",
			env:       map[string]string{"S": "s"},
			validated: true,
		},
		{
			name:      "secret file",
			body:      "    app_key: k\n    app_secret_file: dt-secret\n",
			validated: true,
		},
		{
			name: "unknown keys and a bad duration, together",
			body: "    app_key: k\n    app_secret: s\n    apps_key: x\n    timeout: soon\n    extra: 1\n",
			want: []string{
				`7: connector "dt": apps_key: unknown key; did you mean "app_key"?`,
				`8: connector "dt": timeout "soon": bad duration; write a number with a unit, such as 90s, 60m or 72h`,
				`9: connector "dt": extra: unknown key; known keys: app_key, app_secret, app_secret_file, base_url, labels, retry, timeout, users`,
			},
		},
		{
			name: "missing required keys",
			body: "    base_url: https://x\n",
			want: []string{
				`3: connector "dt": app_key: missing required key; add app_key: <value>`,
				`3: connector "dt": app_secret: missing required key; add app_secret: <value>`,
			},
		},
		{
			name: "required but empty",
			body: "    app_key: \"\"\n    app_secret: s\n",
			want: []string{`5: connector "dt": app_key: required, but empty; give it a value`},
		},
		{
			name: "secret and its file",
			body: "    app_key: k\n    app_secret: s\n    app_secret_file: dt-secret\n",
			want: []string{`7: connector "dt": app_secret_file: both app_secret and app_secret_file are set; keep one`},
		},
		{
			name: "wrong types",
			body: "    app_key: [k]\n    app_secret: {a: b}\n    users: u1\n    retry: {max: many}\n",
			want: []string{
				`5: connector "dt": app_key: want a text value, found a list`,
				`6: connector "dt": app_secret: want a text value, found a mapping`,
				`7: connector "dt": users: want a list, found "u1"`,
				`8: connector "dt": retry.max "many": want a whole number`,
			},
		},
		{
			name: "validate errors at their keys",
			body: "    app_key: broken\n    app_secret: s\n    base_url: http://x\n    users:\n      - a\n      - b\n      - c d\n    retry:\n      max: 11\n    labels: {team: none}\n",
			want: []string{
				`3: connector "dt": app_key is revoked; create a new one`,
				`7: connector "dt": base_url "http://x": want an https:// URL`,
				`11: connector "dt": users[2] "c d": user ids have no spaces`,
				`13: connector "dt": retry.max: at most 10`,
				`14: connector "dt": labels.owner: set an owner when team is none`,
			},
			validated: true,
		},
		{
			name:      "validate quoting a secret",
			body:      "    app_key: k\n    app_secret: ${S}\n",
			env:       map[string]string{"S": "leak-me-please"},
			want:      []string{`6: connector "dt": app_secret "${S}": revoked`},
			validated: true,
		},
		{
			name:      "validate quoting a secret from a file",
			body:      "    app_key: k\n    app_secret_file: leak\n",
			want:      []string{`6: connector "dt": app_secret "leak": revoked`},
			validated: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connectorFrom(t, file, tt.body, tt.env)
			var s testSettings
			err := c.Decode(&s)
			if s.validated != tt.validated {
				t.Errorf("validated = %v, want %v", s.validated, tt.validated)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			errs := asErrors(t, err)
			var got []string
			for _, e := range errs {
				if e.File != file {
					t.Errorf("error in file %q, want %q", e.File, file)
				}
				got = append(got, fmt.Sprintf("%d: %s", e.Line, e.Msg))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestComponentDecodeValues(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dt-secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := connectorFrom(t, filepath.Join(dir, "c.yaml"), "    app_key: k\n    app_secret_file: dt-secret\n    timeout: 1m30s\n    users: [a, b]\n", nil)
	var s testSettings
	for range 2 { // Decode leaves the node as it was: a second decode agrees
		s = testSettings{}
		if err := c.Decode(&s); err != nil {
			t.Fatal(err)
		}
	}
	if s.AppKey != "k" || s.AppSecret.Reveal() != "from-file" || s.Timeout != 90*time.Second || len(s.Users) != 2 {
		t.Errorf("decoded %+v", s)
	}
	if _, v := lookup(c.Node, "app_secret_file"); v == nil || v.Value != "dt-secret" {
		t.Errorf("Decode changed the component's node")
	}
	if c.Name != "dt" || c.Type != "dingtalk" || c.Line != 3 || c.File != filepath.Join(dir, "c.yaml") {
		t.Errorf("component = %+v", c)
	}
	if err := c.Decode(s); err == nil || errors.As(err, new(Errors)) {
		t.Errorf("Decode into a non-pointer: %v, want a plain error", err)
	}
}

func TestHandBuiltComponent(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("name: x\ntype: t\napp_key: k\nnope: 1\n"), &n); err != nil {
		t.Fatal(err)
	}
	c := Component{Name: "x", Type: "t", File: "test.yaml", Line: 1, Node: n.Content[0]}
	var s struct {
		AppKey string `yaml:"app_key"`
	}
	err := c.Decode(&s)
	want := `test.yaml:4: component "x": nope: unknown key; known keys: app_key`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if s.AppKey != "k" {
		t.Errorf("app_key = %q", s.AppKey)
	}

	empty := Component{Name: "y", File: "test.yaml", Line: 7}
	err = empty.Decode(&s)
	if want := `test.yaml:7: component "y": no settings to decode`; err == nil || err.Error() != want {
		t.Errorf("nil node: got %v, want %s", err, want)
	}
}

func TestDecodeNode(t *testing.T) {
	doc := `timezone: UTC
shifts:
  day: {start: "09:00", end: "18:00", late_grace: 10m}
assign:
  default: standard
  employees:
    E1: [a, b]
    E2: night
  dated:
    - {employee: E3, shifts: [a], from: "2026-01-01", to: "2026-01-31", till: x}
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	var r reconcile.Rules
	err := DecodeNode(&n, "rules.yaml", &r)
	want := `rules.yaml:10: assign.dated[0].till: unknown key; known keys: employee, from, shifts, to`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if got := r.Assign.Employees["E2"]; len(got) != 1 || got[0] != "night" {
		t.Errorf("ShiftList scalar decoded as %v", got)
	}
	if err := DecodeNode(&n, "rules.yaml", r); err == nil {
		t.Errorf("DecodeNode into a non-pointer succeeded")
	}
}

func TestDecodeNodeAliasCycle(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a: &x\n  b: *x\n"), &n); err != nil {
		t.Skipf("yaml rejects the cycle itself: %v", err)
	}
	var v struct {
		A map[string]any `yaml:"a"`
	}
	if err := DecodeNode(&n, "c.yaml", &v); err == nil || !strings.Contains(err.Error(), "contains itself") {
		t.Errorf("a self-referencing alias gave %v, want a \"contains itself\" error", err)
	}
}
