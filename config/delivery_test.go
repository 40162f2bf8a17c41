package config

import (
	"strings"
	"testing"
	"time"
)

func TestSinkDelivery(t *testing.T) {
	base := `rules:
  timezone: Asia/Shanghai
  shifts: {standard: {start: "09:00", end: "18:00"}}
  assign: {default: standard}
sinks:
  - name: payroll
    type: hrhttp
    url: https://hr.example.com/api
`
	cfg, err := Parse([]byte(base), "p.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Sinks[0].Delivery; d.MaxAttempts != 5 || d.Backoff != 30*time.Second || d.MaxBackoff != time.Hour || d.Workers != 4 {
		t.Fatalf("defaults %+v", d)
	}
	cfg, err = Parse([]byte(base+"    delivery: {max_attempts: 8, backoff: 1m, max_backoff: 2h, workers: 2}\n"), "p.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Sinks[0].Delivery; d.MaxAttempts != 8 || d.Backoff != time.Minute || d.MaxBackoff != 2*time.Hour || d.Workers != 2 {
		t.Fatalf("set %+v", d)
	}
	var settings struct {
		URL string `yaml:"url"`
	}
	if err := cfg.Sinks[0].Decode(&settings); err != nil || settings.URL == "" {
		t.Fatalf("the sink type's decode must not see delivery: %v", err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"    delivery: {max_attempts: 0}\n", "p.yaml:9: sinks[payroll].delivery.max_attempts 0: must be 1..100"},
		{"    delivery: {backoff: 2h, max_backoff: 1h}\n", "p.yaml:9:"},
		{"    delivery: {retries: 3}\n", "p.yaml:9:"},
	} {
		_, err := Parse([]byte(base+bad.yaml), "p.yaml", func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.yaml, err, bad.want)
		}
	}
}

func TestPrivacyRetention(t *testing.T) {
	base := `rules:
  timezone: Asia/Shanghai
  shifts: {standard: {start: "09:00", end: "18:00"}}
  assign: {default: standard}
`
	cfg, err := Parse([]byte(base), "p.yaml", func(string) string { return "" })
	if err != nil || cfg.Privacy.RawRetention != 30*24*time.Hour {
		t.Fatalf("default retention %v, %v", cfg.Privacy.RawRetention, err)
	}
	cfg, err = Parse([]byte(base+"privacy: {raw_retention: 168h}\n"), "p.yaml", func(string) string { return "" })
	if err != nil || cfg.Privacy.RawRetention != 7*24*time.Hour {
		t.Fatalf("retention %v, %v", cfg.Privacy.RawRetention, err)
	}
	_, err = Parse([]byte(base+"privacy:\n  raw_retention: -1h\n"), "p.yaml", func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "p.yaml:6: privacy.raw_retention") {
		t.Fatalf("negative retention: %v", err)
	}
}

func TestSinkPrivacy(t *testing.T) {
	base := `rules:
  timezone: Asia/Shanghai
  shifts: {standard: {start: "09:00", end: "18:00"}}
  assign: {default: standard}
sinks:
  - name: erp
    type: hrhttp
    url: https://erp.example.com/api
`
	for _, tc := range []struct{ yaml, want, err string }{
		{"", "keep", ""},
		{"    privacy: {location: coarse}\n", "coarse", ""},
		{"    privacy: {location: drop}\n", "drop", ""},
		{"    privacy: {location: blur}\n", "", `p.yaml:9: sinks[erp].privacy.location "blur": use keep, drop or coarse`},
	} {
		cfg, err := Parse([]byte(base+tc.yaml), "p.yaml", func(string) string { return "" })
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.yaml, err, tc.err)
			}
			continue
		}
		if err != nil || cfg.Sinks[0].Privacy.Location != tc.want {
			t.Errorf("%q: %+v, %v; want %s", tc.yaml, cfg.Sinks[0].Privacy, err, tc.want)
		}
	}
}
