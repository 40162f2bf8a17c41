package mapping

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestVersionedJSON checks that a record's JSON made from its ContentJSON
// is byte for byte json.Marshal's, and that the content hash is the
// ContentJSON's.
func TestVersionedJSON(t *testing.T) {
	in := time.Date(2026, 11, 20, 8, 55, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name string
		rec  DayRecord
	}{
		{"empty lists", DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Status: DayAbsent}},
		{"full", DayRecord{Schema: DaySchema, EmployeeID: "E2", Date: "2026-11-20", Shift: "night", Status: DayPresent,
			FirstIn: &in, LastOut: &in, WorkedMinutes: 480, Late: true, LateMinutes: 5, Missing: []string{"out"},
			Anomalies: []Anomaly{{Type: "duplicate", EventID: "x", Detail: `"quoted" \ and }`}}, Events: []string{"a", "b"}, Version: 7}},
		{"an id ending like a version", DayRecord{EmployeeID: `"version":0}`, Date: "2026-11-20", Shift: "s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			content := tc.rec.ContentJSON()
			if got, want := HashContent(content), tc.rec.ContentHash(); got != want {
				t.Errorf("HashContent = %s, ContentHash = %s", got, want)
			}
			for _, v := range []int{0, 1, 9, 10, 12345} {
				r := tc.rec
				r.Version = v
				want, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.rec.VersionedJSON(content, v); !bytes.Equal(got, want) {
					t.Errorf("VersionedJSON(v%d) =\n%s\nwant\n%s", v, got, want)
				}
			}
		})
	}
	// Content that is not a ContentJSON is encoded again, not spliced.
	r := DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "s"}
	want, _ := json.Marshal(DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "s", Version: 3})
	if got := r.VersionedJSON([]byte(`{}`), 3); !bytes.Equal(got, want) {
		t.Errorf("VersionedJSON of other content = %s, want %s", got, want)
	}
}
