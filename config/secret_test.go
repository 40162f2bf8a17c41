package config

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretRedacts(t *testing.T) {
	const value = "hunter2"
	s := Secret(value)
	if s.Reveal() != value {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
	yml, err := yaml.Marshal(map[string]Secret{"k": s})
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(map[string]Secret{"k": s})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("token", "secret", s)
	outputs := map[string]string{
		"%v":    fmt.Sprintf("%v", s),
		"%s":    fmt.Sprintf("%s", s),
		"%q":    fmt.Sprintf("%q", s),
		"%x":    fmt.Sprintf("%x", s),
		"%#v":   fmt.Sprintf("%#v", s),
		"%10s":  fmt.Sprintf("%10s", s),
		"%+v":   fmt.Sprintf("%+v", struct{ S Secret }{s}),
		"ptr":   fmt.Sprintf("%v", &struct{ S *Secret }{&s}),
		"yaml":  string(yml),
		"json":  string(js),
		"slog":  logged.String(),
		"error": fmt.Errorf("login with %v: %w", s, os.ErrPermission).Error(),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, hex.EncodeToString([]byte(value))) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if got := fmt.Sprint(s); got != "<secret>" {
		t.Errorf("Sprint = %q, want <secret>", got)
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("an unset secret prints %q, want empty", got)
	}
	var back map[string]string
	if err := json.Unmarshal(js, &back); err != nil || back["k"] != "<secret>" {
		t.Errorf("json = %s (%v), want k: <secret>", js, err)
	}
}

// TestConfigPrintsNoSecret loads a config holding secrets every way they
// can arrive (environment, *_file, inline under a secret-looking key) and
// prints it every way a debugging session or an admin API might.
func TestConfigPrintsNoSecret(t *testing.T) {
	dir := t.TempDir()
	secrets := map[string]string{
		"PG_DSN":     "postgres://pb:SECRET-ONE@db/pb",
		"DT_SECRET":  "SECRET-TWO",
		"HR_TOKEN":   "SECRET-THREE",
		"redis file": "redis://:SECRET-FOUR@cache:6379",
		"inline":     "SECRET-FIVE",
	}
	if err := os.WriteFile(filepath.Join(dir, "redis-url"), []byte(secrets["redis file"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `ledger:
  driver: postgres
  dsn: ${PG_DSN}
redis:
  url_file: redis-url
rules: {timezone: UTC}
connectors:
  - name: dt
    type: dingtalk
    app_key: public-key
    app_secret: ${DT_SECRET}
sinks:
  - name: hr
    type: hrhttp
    token: ${HR_TOKEN}
    password: ` + secrets["inline"] + `
jobs:
  - {name: n, schedule: "@daily"}
`
	path := filepath.Join(dir, "punchbridge.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, envOf(secrets))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ledger.DSN.Reveal() != secrets["PG_DSN"] || cfg.Redis.URL.Reveal() != secrets["redis file"] {
		t.Fatalf("secrets not loaded: %q %q", cfg.Ledger.DSN.Reveal(), cfg.Redis.URL.Reveal())
	}
	yml, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", cfg, "redis", cfg.Redis)
	outputs := map[string]string{
		"%+v":          fmt.Sprintf("%+v", cfg),
		"%#v":          fmt.Sprintf("%#v", *cfg),
		"%v redis":     fmt.Sprintf("%v", *cfg.Redis),
		"%+v sinks":    fmt.Sprintf("%+v", cfg.Sinks),
		"yaml":         string(yml),
		"json":         string(js),
		"slog":         logged.String(),
		"yaml of sink": mustYAML(t, cfg.Sinks[0]),
	}
	for name, out := range outputs {
		for what, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the secret from %s:\n%s", name, what, out)
			}
		}
	}
	// Printing still shows where each secret comes from.
	for _, want := range []string{"${DT_SECRET}", "${HR_TOKEN}", "password: <secret>", "dsn: <secret>", "app_key: public-key"} {
		if !strings.Contains(string(yml), want) {
			t.Errorf("yaml lacks %q:\n%s", want, yml)
		}
	}
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestErrorsQuoteNoSecret checks that a secret from the environment in a
// place that rejects it is quoted as ${NAME}, never by value.
func TestErrorsQuoteNoSecret(t *testing.T) {
	const value = "SECRET-VALUE"
	doc := `rules:
  timezone: ${S}
server:
  listen: ${S}
jobs:
  - name: n
    schedule: ${S}
    lookback: ${S}
    timezone: ${S}
    catch_up: ${S}
`
	_, err := Parse([]byte(doc), "c.yaml", envOf(map[string]string{"S": value}))
	errs := asErrors(t, err)
	if len(errs) < 5 {
		t.Fatalf("want an error for each key, got:\n%v", err)
	}
	if strings.Contains(err.Error(), value) {
		t.Errorf("errors show the value:\n%v", err)
	}
	if !strings.Contains(err.Error(), `"${S}"`) {
		t.Errorf("errors do not quote the reference:\n%v", err)
	}
}
