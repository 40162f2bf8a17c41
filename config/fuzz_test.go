package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that whatever it
// returns is either a config or Errors whose every entry names the file.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"examples/punchbridge.yaml", "testdata/broken.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rules: {timezone: UTC}\nserver: &s\n  <<: *s\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: ${X}${Y}$${Z}\n"))
	f.Add([]byte("connectors:\n  - {name: a, type: b, c: ${X}}\n"))
	getenv := envOf(map[string]string{"X": "1", "DINGTALK_APP_SECRET": "s"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", getenv)
		if err != nil {
			if cfg != nil {
				t.Errorf("config and error both returned")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.File == "" || e.Line < 0 || e.Msg == "" {
					t.Errorf("malformed error %#v", e)
				}
			}
			return
		}
		for _, c := range append(cfg.Connectors, cfg.Sinks...) {
			var v struct {
				A string            `yaml:"a"`
				M map[string]string `yaml:"m"`
			}
			_ = c.Decode(&v)
			if _, err := c.MarshalJSON(); err != nil {
				t.Errorf("component %q does not print: %v", c.Name, err)
			}
		}
		for _, j := range cfg.Jobs {
			_ = j.Spec()
		}
	})
}
