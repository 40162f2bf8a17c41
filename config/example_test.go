package config

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// TestExampleConfig keeps the commented example loadable, and its
// connector and sink settings in the shape their packages decode.
func TestExampleConfig(t *testing.T) {
	cfg, err := Load("examples/punchbridge.yaml", envOf(map[string]string{
		"DINGTALK_APP_SECRET": "dt-secret",
		"HR_TOKEN":            "hr-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Connectors) != 1 || len(cfg.Sinks) != 1 || len(cfg.Jobs) != 1 {
		t.Fatalf("example has %d connectors, %d sinks, %d jobs; want 1 each", len(cfg.Connectors), len(cfg.Sinks), len(cfg.Jobs))
	}
	for _, name := range []string{"standard", "night"} {
		if _, ok := cfg.Rules.Shifts[name]; !ok {
			t.Errorf("example rules lack shift %q", name)
		}
	}
	var dt struct {
		CorpID    string `yaml:"corp_id"`
		AppKey    string `yaml:"app_key" required:"true"`
		AppSecret Secret `yaml:"app_secret" required:"true"`
		BaseURL   string `yaml:"base_url"`
	}
	if err := cfg.Connectors[0].Decode(&dt); err != nil {
		t.Error(err)
	}
	if dt.AppSecret.Reveal() != "dt-secret" {
		t.Errorf("app_secret = %q", dt.AppSecret.Reveal())
	}
	var hr struct {
		URL   string `yaml:"url" required:"true"`
		Token Secret `yaml:"token"`
	}
	if err := cfg.Sinks[0].Decode(&hr); err != nil {
		t.Error(err)
	}
	j := cfg.Jobs[0]
	if j.Spec() != "CRON_TZ=Asia/Shanghai 0 2 * * *" || j.Lookback != 72*time.Hour {
		t.Errorf("job = %+v, spec %q", j, j.Spec())
	}
	sched, err := cron.ParseStandard(j.Spec())
	if err != nil {
		t.Fatal(err)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	next := sched.Next(time.Date(2026, 11, 20, 12, 0, 0, 0, shanghai))
	if want := time.Date(2026, 11, 21, 2, 0, 0, 0, shanghai); !next.Equal(want) {
		t.Errorf("next run %v, want %v", next, want)
	}
}
