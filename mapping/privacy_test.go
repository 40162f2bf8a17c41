package mapping

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReduceLocation(t *testing.T) {
	e, err := DecodeEvent(readFixture(t, "event_punch.json"))
	if err != nil {
		t.Fatal(err)
	}
	original, _ := json.Marshal(e)
	cases := []struct {
		policy      string
		wantLatLng  string // "" means absent
		mustNotHave []string
	}{
		{LocationKeep, "31.2304,121.4737", nil},
		{"", "31.2304,121.4737", nil},
		{LocationDrop, "", []string{`"lat"`, `"lng"`, `"address"`, `"wifi_bssid"`, `"accuracy_m"`}},
		{LocationCoarse, "31.23,121.474", []string{`"address"`, `"wifi_bssid"`, "31.2304", "121.4737"}},
	}
	for _, tc := range cases {
		t.Run(tc.policy, func(t *testing.T) {
			r := ReduceLocation(e, tc.policy)
			b, _ := json.Marshal(r)
			got := ""
			if r.Punch.Lat != nil {
				got = strings.TrimRight(strings.TrimRight(jsonNum(*r.Punch.Lat), "0"), ".") + "," + strings.TrimRight(strings.TrimRight(jsonNum(*r.Punch.Lng), "0"), ".")
			}
			if got != tc.wantLatLng {
				t.Errorf("position %q, want %q", got, tc.wantLatLng)
			}
			for _, s := range tc.mustNotHave {
				if strings.Contains(string(b), s) {
					t.Errorf("the %s event still holds %s: %s", tc.policy, s, b)
				}
			}
			if tc.policy == LocationCoarse && *r.Punch.AccuracyM < 100 {
				t.Errorf("coarse accuracy %v, want at least 100 m", *r.Punch.AccuracyM)
			}
			if err := Validate(r); err != nil {
				t.Errorf("the reduced event no longer validates: %v", err)
			}
		})
	}
	after, _ := json.Marshal(e)
	if string(after) != string(original) {
		t.Fatal("ReduceLocation modified its argument")
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
