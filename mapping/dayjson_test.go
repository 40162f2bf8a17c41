package mapping

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestDayAppendJSONMatchesEncodingJSON holds the record's encoder to what
// json.Marshal wrote through reflection, byte for byte: stored records'
// content hashes depend on it.
func TestDayAppendJSONMatchesEncodingJSON(t *testing.T) {
	reflected := func(d DayRecord) []byte {
		b, err := d.reflectJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	odd := time.Date(2026, 11, 20, 9, 0, 0, 123456789, time.FixedZone("", -(3*3600+30*60)))
	days := []DayRecord{
		{},
		{Schema: "other/v9", EmployeeID: "a<b>&c", Date: "2026-11-20", Shift: "line\u2028sep\u2029", Status: "x\"y\\z",
			FirstIn: &odd, LastOut: &odd, WorkedMinutes: -5, LateMinutes: 1 << 40, Missing: []string{"bad \xff utf-8", "tab\t"},
			Anomalies: []Anomaly{{}, {Type: "t", EventID: "e"}, {Detail: "only detail"}}, Events: []string{""}, Version: 7},
	}
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 5000 {
		days = append(days, randomDay(r, i))
	}
	for _, d := range days {
		want := reflected(d)
		got, err := d.appendJSON(nil)
		if err != nil || string(got) != string(want) {
			t.Fatalf("appendJSON = %s, %v\nwant %s", got, err, want)
		}
		if m, err := json.Marshal(d); err != nil || string(m) != string(want) {
			t.Fatalf("json.Marshal through MarshalJSON = %s, %v\nwant %s", m, err, want)
		}
	}
	// A time JSON cannot hold is refused as before.
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := json.Marshal(DayRecord{FirstIn: &far}); err == nil {
		t.Error("json.Marshal of a day whose first_in is in year 10000 succeeded, want encoding/json's error")
	}
}

func BenchmarkDayContentJSON(b *testing.B) {
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, time.FixedZone("CST", 8*3600))
	out := in.Add(9 * time.Hour)
	rec := DayRecord{Schema: DaySchema, EmployeeID: "E01234", Date: "2026-11-20", Shift: "standard", Status: DayPresent,
		FirstIn: &in, LastOut: &out, WorkedMinutes: 538, Late: true, LateMinutes: 2, Missing: []string{}, Anomalies: []Anomaly{},
		Events: []string{"dingtalk/ding5f3a/punch/1", "dingtalk/ding5f3a/punch/2"}}
	b.Run("encoding-json", func(b *testing.B) {
		type plain DayRecord // as MarshalJSON encoded it before appendJSON
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(plain(rec)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ContentJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(rec.ContentJSON()) == 0 {
				b.Fatal("empty")
			}
		}
	})
}

// FuzzDayAppendJSON holds the record's encoder to the reflecting one on
// any strings and numbers:
//
//	go test -run '^$' -fuzz FuzzDayAppendJSON -fuzztime 30s ./mapping
func FuzzDayAppendJSON(f *testing.F) {
	f.Add("E1", "2026-11-20", "standard", "present", "late", "迟到 <2>", "dingtalk/c/punch/1", 538, int64(1763600531), true)
	f.Fuzz(func(t *testing.T, emp, date, shift, status, anomaly, detail, event string, minutes int, unix int64, late bool) {
		at := time.Unix(unix, 0).In(time.FixedZone("", int(unix%50400)))
		d := DayRecord{EmployeeID: emp, Date: date, Shift: shift, Status: DayStatus(status), FirstIn: &at,
			WorkedMinutes: minutes, Late: late, LateMinutes: -minutes, Missing: []string{detail},
			Anomalies: []Anomaly{{Type: anomaly, EventID: event, Detail: detail}}, Events: []string{event, emp}}
		want, wantErr := d.reflectJSON()
		got, gotErr := d.appendJSON(nil)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("reflectJSON error %v, appendJSON error %v", wantErr, gotErr)
		}
		if wantErr == nil && string(got) != string(want) {
			t.Fatalf("appendJSON = %s\nwant %s", got, want)
		}
	})
}
