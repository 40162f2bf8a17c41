package mapping

import (
	"encoding/json"
	"testing"
	"time"
)

// benchDay is a realistic day record as the outbox holds it.
func benchDay(tb testing.TB) []byte {
	tb.Helper()
	cst := time.FixedZone("CST", 8*3600)
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, cst)
	out := time.Date(2026, 11, 20, 18, 5, 40, 0, cst)
	b, err := json.Marshal(DayRecord{
		EmployeeID: "e1001", Date: "2026-11-20", Shift: "standard", Status: DayPresent,
		FirstIn: &in, LastOut: &out, WorkedMinutes: 543, OvertimeMinutes: 65,
		Missing: []string{}, Events: []string{"dingtalk/ding5f3a/punch/66301245789", "dingtalk/ding5f3a/punch/66301245790"},
		Anomalies: []Anomaly{{Type: "offline_upload", EventID: "dingtalk/ding5f3a/punch/66301245790"}}, Version: 2,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkMapping15Fields maps one day record through a 15-field mapping
// with formats, units, a table and nested outputs. Target: under 5 µs.
func BenchmarkMapping15Fields(b *testing.B) {
	m, err := Load("testdata/mappings/bench15.yaml")
	if err != nil {
		b.Fatal(err)
	}
	if n := len(m.Fields()); n != 15 {
		b.Fatalf("mapping has %d fields, want 15", n)
	}
	in := benchDay(b)
	out := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		out, err = m.AppendApply(out[:0], in)
		if err != nil {
			b.Fatal(err)
		}
	}
}
