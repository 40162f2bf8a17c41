package presets_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// A case directory under testdata/<preset>/ holds input.json and either
// want.json (the expected output) or want.err ("skip", or a text the
// error must contain). Inbound cases may add template.txt (the template
// id the connector passes) and override.yaml (a config's override).

func cases(t *testing.T, preset string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", preset, "*", "input.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases for %s: %v", preset, err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// check compares got (or err) with the case's want.json or want.err.
func check(t *testing.T, dir string, got []byte, err error) {
	t.Helper()
	if b, rerr := os.ReadFile(filepath.Join(dir, "want.err")); rerr == nil {
		want := strings.TrimSpace(string(b))
		switch {
		case want == "skip":
			if !errors.Is(err, mapping.ErrSkip) {
				t.Fatalf("got %s, %v; want the input skipped", got, err)
			}
		case err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, mapping.ErrMapping):
			t.Fatalf("got %s, %v; want a mapping error containing %q", got, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("output is not JSON: %s", got)
	}
	want := read(t, filepath.Join(dir, "want.json"))
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, got, "", "  ")
		t.Fatalf("output differs from want.json\n got: %s\nwant: %s", pretty.String(), bytes.TrimSpace(want))
	}
}

func TestOutboundPresets(t *testing.T) {
	for _, name := range []string{"frappe-checkin", "personio-attendance", "generic-json", "csv-payroll"} {
		m, err := presets.Load(name)
		if err != nil {
			t.Fatalf("preset %s does not compile: %v", name, err)
		}
		for _, dir := range cases(t, name) {
			t.Run(filepath.ToSlash(strings.TrimPrefix(dir, "testdata/")), func(t *testing.T) {
				got, err := m.Apply(read(t, filepath.Join(dir, "input.json")))
				check(t, dir, got, err)
			})
		}
	}
}

func TestInboundBuiltins(t *testing.T) {
	for platform, name := range map[string]string{"dingtalk": "dingtalk-approval", "wecom": "wecom-approval"} {
		for _, dir := range cases(t, name) {
			t.Run(filepath.ToSlash(strings.TrimPrefix(dir, "testdata/")), func(t *testing.T) {
				var layers []mapping.Layer
				if _, err := os.Stat(filepath.Join(dir, "override.yaml")); err == nil {
					layers = append(layers, mapping.Layer{File: filepath.Join(dir, "override.yaml")})
				}
				in, err := presets.Inbound(platform, layers...)
				if err != nil {
					t.Fatalf("does not compile: %v", err)
				}
				template := ""
				if b, err := os.ReadFile(filepath.Join(dir, "template.txt")); err == nil {
					template = strings.TrimSpace(string(b))
				}
				a, err := in.Apply(template, read(t, filepath.Join(dir, "input.json")))
				var got []byte
				if err == nil {
					got, _ = json.Marshal(a)
				}
				check(t, dir, got, err)
			})
		}
	}
}

func TestEveryPresetHasCases(t *testing.T) {
	for _, name := range presets.Names() {
		if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
			t.Errorf("preset %s has no testdata/%s", name, name)
		}
	}
}

func TestInboundRef(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "leave.yaml"), []byte("templates: {leave: [PROC-1]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		A presets.InboundRef `yaml:"a"`
		B presets.InboundRef `yaml:"b"`
		C presets.InboundRef `yaml:"c"`
	}
	if err := yaml.Unmarshal([]byte("a: leave.yaml\nb:\n  templates: {makeup: [PROC-2]}\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "punchbridge.yaml")
	if got := cfg.C.Layers(file); got != nil {
		t.Fatalf("unset: %v", got)
	}
	in, err := presets.Inbound("dingtalk", append(cfg.A.Layers(file), cfg.B.Layers(file)...)...)
	if err != nil {
		t.Fatal(err)
	}
	if in.TemplateType("PROC-1") != "leave" || in.TemplateType("PROC-2") != "makeup" {
		t.Fatalf("templates from the file and the inline block: %q %q", in.TemplateType("PROC-1"), in.TemplateType("PROC-2"))
	}
	if err := yaml.Unmarshal([]byte("a: [x]\n"), &cfg); err == nil {
		t.Fatal("a list was accepted")
	}
}
