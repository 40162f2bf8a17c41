package hrhttp

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// TestMarshalRecordMatchesEncodingJSON: the bytes pushed for a record are
// json.Marshal's, whichever encoder wrote them; an HR system that hashes
// or stores bodies sees no difference.
func TestMarshalRecordMatchesEncodingJSON(t *testing.T) {
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, time.FixedZone("CST", 8*3600))
	lat := 31.2304
	for _, rec := range []any{
		mapping.DayRecord{EmployeeID: "E1<&>", Date: "2026-11-20", Shift: "standard", Status: mapping.DayPresent, FirstIn: &in,
			WorkedMinutes: 538, Anomalies: []mapping.Anomaly{{Type: "late", Detail: "迟到"}}, Events: []string{"e1"}, Version: 2},
		mapping.DayRecord{},
		mapping.Event{Schema: mapping.EventSchema, ID: "dingtalk/c/punch/1", Kind: mapping.KindPunch, Platform: "dingtalk",
			Tenant: "c", UserID: "u1", EmployeeID: "E1", Time: in, ReceivedAt: in, Via: mapping.ViaPull,
			Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, Lat: &lat}},
		map[string]any{"other": "kind"},
	} {
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalRecord(rec)
		if err != nil || string(got) != string(want) {
			t.Errorf("marshalRecord(%T) = %s, %v\nwant %s", rec, got, err, want)
		}
	}
}
