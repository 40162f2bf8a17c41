package csvfile

import (
	"errors"
	"strconv"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// Period lengths.
const (
	PeriodMonth     = "month"
	PeriodHalfMonth = "half_month"
)

// File formats.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Config is the settings of one csvfile sink entry.
type Config struct {
	// Dir is the directory the files are written to; it must exist.
	Dir string `yaml:"dir" required:"true"`
	// Mapping gives the columns: preset:NAME, a mapping file or the
	// mapping inline, reading punchbridge.day/v1. The field names are the
	// header row. Default: preset:csv-payroll.
	Mapping presets.Ref `yaml:"mapping"`
	// Timezone is the IANA zone periods close in and local times are
	// written in.
	Timezone string `yaml:"timezone" required:"true"`
	// Period is month (the default) or half_month (1st–15th, 16th–end).
	Period string `yaml:"period"`
	// CloseAfter is how long after a period's last day ends it is
	// exported; records for it that arrive later are adjustments.
	CloseAfter time.Duration `yaml:"close_after"`
	// Formats lists csv and/or xlsx; default csv.
	Formats []string `yaml:"formats"`
	// BOM starts each CSV with the UTF-8 byte-order mark (default true).
	BOM bool `yaml:"bom"`
	// Prefix starts every file name (default attendance).
	Prefix string `yaml:"prefix"`
}

// DefaultConfig returns the defaults that a config entry overrides.
func DefaultConfig() Config {
	return Config{
		Period:     PeriodMonth,
		CloseAfter: 72 * time.Hour,
		Formats:    []string{FormatCSV},
		BOM:        true,
		Prefix:     "attendance",
	}
}

// Validate reports every bad setting, each as a *config.FieldError.
func (c Config) Validate() error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	if c.Dir == "" {
		bad("dir", "", "is required: the directory payroll files are written to")
	}
	if c.Timezone == "" {
		bad("timezone", "", "is required: the zone periods close in, e.g. Asia/Shanghai")
	} else if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "Local" {
		bad("timezone", c.Timezone, "must be an IANA time zone such as Asia/Shanghai")
	}
	switch c.Period {
	case PeriodMonth, PeriodHalfMonth:
	default:
		bad("period", c.Period, "must be month or half_month")
	}
	if c.CloseAfter < 0 || c.CloseAfter > 60*24*time.Hour {
		bad("close_after", c.CloseAfter.String(), "must be between 0 and 1440h (60 days)")
	}
	if len(c.Formats) == 0 {
		bad("formats", "", "must list csv and/or xlsx")
	}
	seen := map[string]bool{}
	for i, f := range c.Formats {
		path := "formats[" + strconv.Itoa(i) + "]"
		switch {
		case f != FormatCSV && f != FormatXLSX:
			bad(path, f, "must be csv or xlsx")
		case seen[f]:
			bad(path, f, "is listed twice")
		}
		seen[f] = true
	}
	if c.Prefix == "" || !safeName(c.Prefix) {
		bad("prefix", c.Prefix, "must be a plain file name part: letters, digits, '-', '_' and '.'")
	}
	return errors.Join(errs...)
}

// safeName reports whether s can start a file name on every system.
func safeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r > 0x7f) {
			return false
		}
	}
	return s[0] != '.'
}
