package hrhttp

import (
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// benchDay is a typical day record: present, with both punches and two
// event ids.
func benchDay() mapping.DayRecord {
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, time.FixedZone("CST", 8*3600))
	out := in.Add(9 * time.Hour)
	return mapping.DayRecord{
		Schema: mapping.DaySchema, EmployeeID: "E1001", Date: "2026-11-20", Shift: "standard",
		Status: mapping.DayPresent, FirstIn: &in, LastOut: &out, WorkedMinutes: 540,
		Events: []string{"dingtalk/ding5f3a/punch/u1-1763600531000", "dingtalk/ding5f3a/punch/u1-1763632931000"}, Version: 1,
	}
}

// BenchmarkEncode is the push encoding of one day record: as it is (the
// default body) and through a three-field mapping with transforms.
func BenchmarkEncode(b *testing.B) {
	m, err := mapping.Parse([]byte(`input: punchbridge.day/v1
fields:
  badge:
    from: employee_id
    transforms:
      - replace: {E: ""}
      - number
  day: date
  hours:
    from: worked_minutes
    transforms:
      - unit: {from: minutes, to: hours, round: half_up, places: 2}
`), "bench-mapping.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		mapping *mapping.Mapping
	}{{"record", nil}, {"mapped", m}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.URL = "http://127.0.0.1:1/records"
			if bc.mapping != nil {
				cfg.Mapping = presets.Use(bc.mapping)
			}
			s, err := NewSink("hr-bench", cfg, connectors.Deps{})
			if err != nil {
				b.Fatal(err)
			}
			rec := benchDay()
			b.ReportAllocs()
			for b.Loop() {
				body, skip, err := s.encode(rec)
				if err != nil || skip || len(body) == 0 {
					b.Fatalf("encode = %q, %v, %v", body, skip, err)
				}
			}
		})
	}
}
