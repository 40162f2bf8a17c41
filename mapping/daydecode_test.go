package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// checkDayDecodesAsEncodingJSON fails t unless UnmarshalDay and
// json.Unmarshal agree on data: the same record, or both an error.
func checkDayDecodesAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	checkMatchesEncodingJSON(t, data, UnmarshalDay)
}

func TestUnmarshalDayMatchesEncodingJSON(t *testing.T) {
	canonical := `{"schema":"punchbridge.day/v1","employee_id":"E1","date":"2026-11-20","shift":"standard","status":"present",` +
		`"first_in":"2026-11-20T09:02:11+08:00","last_out":"2026-11-20T18:01:00.5+08:00","worked_minutes":538,"late":true,` +
		`"late_minutes":2,"early_exit":false,"early_exit_minutes":0,"overtime_minutes":0,"leave_minutes":-0,"missing":[],` +
		`"anomalies":[{"type":"late","event_id":"dingtalk/c/punch/1","detail":"迟到 2 分钟"},{"type":"x"}],` +
		`"events":["dingtalk/c/punch/1","dingtalk/c/punch/2"],"version":3}`
	for _, in := range []string{
		canonical,
		`{"schema":"punchbridge.day/v1","employee_id":"E1","date":"2026-11-21","shift":"rest","status":"rest","worked_minutes":0,` +
			`"late":false,"late_minutes":0,"early_exit":false,"early_exit_minutes":0,"overtime_minutes":0,"leave_minutes":0,` +
			`"missing":["in","out"],"anomalies":[],"events":[],"version":0}`,
		`{}`,
		`{"anomalies":[{}]}`,
		// What the reader hands to encoding/json: escapes, case, repeats,
		// nulls, whitespace, unknown keys, odd numbers, broken documents.
		`{"employee_id":"a\u003cb"}`,
		`{"Employee_ID":"upper","Late":true}`,
		`{"date":"2026-11-20","date":"2026-11-21"}`,
		`{"anomalies":[{"type":"a","type":"b"}]}`,
		`{"first_in":null,"missing":null,"anomalies":null,"version":null}`,
		` {"date":"spaced"} `,
		`{"date" : "spaced"}`,
		`{"date":"x","extra":{"deep":[1,2]}}`,
		`{"worked_minutes":1.5}`,
		`{"worked_minutes":1e2}`,
		`{"worked_minutes":01}`,
		`{"worked_minutes":99999999999999999999}`,
		`{"worked_minutes":"5"}`,
		`{"late":"true"}`,
		`{"late":1}`,
		`{"missing":[1]}`,
		`{"anomalies":["late"]}`,
		`{"anomalies":[{"type":"a"},]}`,
		`{"events":["a",]}`,
		`{"first_in":"2026-13-01T00:00:00Z"}`,
		`{"last_out":"not a time"}`,
		"{\"shift\":\"bad utf-8 \xff\"}",
		"{\"shift\":\"raw\x01control\"}",
		`{"date":"open`,
		`{"date":"x"`,
		`{"date":"x"}trailing`,
		`[]`,
		`null`,
		``,
	} {
		checkDayDecodesAsEncodingJSON(t, []byte(in))
	}
}

// randomDay returns a day record with a random choice of fields set.
func randomDay(r *rand.Rand, i int) DayRecord {
	cst := time.FixedZone("CST", 8*3600)
	rec := DayRecord{
		Schema: DaySchema, EmployeeID: fmt.Sprintf("E%05d", i), Date: "2026-11-20", Shift: []string{"standard", "night", "夜班"}[r.IntN(3)],
		Status: []DayStatus{DayPresent, DayHalfDay, DayAbsent, DayOnLeave, DayRestDay, DayHoliday}[r.IntN(6)], WorkedMinutes: r.IntN(900),
		Late: r.IntN(2) == 0, LateMinutes: r.IntN(60), EarlyExit: r.IntN(2) == 0, EarlyExitMinutes: r.IntN(60),
		OvertimeMinutes: r.IntN(240), LeaveMinutes: r.IntN(480) - 10, Version: r.IntN(5),
	}
	if r.IntN(3) > 0 {
		in := time.Date(2026, 11, 20, 8, r.IntN(60), r.IntN(60), r.IntN(2)*500_000_000, cst)
		rec.FirstIn = &in
	}
	if r.IntN(3) > 0 {
		out := time.Date(2026, 11, 20, 18, r.IntN(60), 0, 0, time.UTC)
		rec.LastOut = &out
	}
	for range r.IntN(3) {
		rec.Missing = append(rec.Missing, []string{"in", "out"}[r.IntN(2)])
	}
	for range r.IntN(3) {
		a := Anomaly{Type: []string{"late", "outside_geofence", "a<b&c"}[r.IntN(3)]}
		if r.IntN(2) == 0 {
			a.EventID = fmt.Sprintf("dingtalk/c/punch/%d", r.IntN(1000))
		}
		if r.IntN(2) == 0 {
			a.Detail = []string{"迟到", "tab\there", "plain"}[r.IntN(3)]
		}
		rec.Anomalies = append(rec.Anomalies, a)
	}
	for range r.IntN(5) {
		rec.Events = append(rec.Events, fmt.Sprintf("dingtalk/c/punch/%d", r.IntN(1000)))
	}
	return rec
}

// TestUnmarshalDayReadsStoredRecords round-trips random records through
// the encoding the ledger stores (VersionedJSON of ContentJSON): the reader
// decodes them as encoding/json does, and mostly without it.
func TestUnmarshalDayReadsStoredRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	direct := 0
	for i := range 20000 {
		rec := randomDay(r, i)
		b := rec.VersionedJSON(rec.ContentJSON(), rec.Version)
		checkDayDecodesAsEncodingJSON(t, b)
		d := canonDecoder{b: b, s: string(b)}
		var fast DayRecord
		if d.day(&fast) && d.i == len(b) {
			direct++
		}
	}
	if direct < 10000 {
		t.Errorf("only %d of 20,000 records were read without encoding/json; the fast path is not being taken", direct)
	}
}

// FuzzUnmarshalDay holds UnmarshalDay to json.Unmarshal on any input:
//
//	go test -run '^$' -fuzz FuzzUnmarshalDay -fuzztime 30s ./mapping
func FuzzUnmarshalDay(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 4 {
		rec := randomDay(r, i)
		f.Add(rec.VersionedJSON(rec.ContentJSON(), i))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDayDecodesAsEncodingJSON(t, data)
	})
}

// checkCanonicalDays fails t if CanonicalDays reads data and a strict
// encoding/json decoding (unknown fields refused) does not give the same
// records.
func checkCanonicalDays(t *testing.T, data []byte) bool {
	t.Helper()
	got, ok := CanonicalDays(data)
	if !ok {
		return false
	}
	var want []DayRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("%s: CanonicalDays read it; a strict decoding fails: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %#v\nwant %#v", data, got, want)
	}
	return true
}

func TestCanonicalDays(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	// Fifty random records of those the one-record reader takes directly
	// (some random strings need encoding/json's escapes).
	var batch []byte
	for i, n := 0, 0; n < 50; i++ {
		rec := randomDay(r, i)
		b, err := rec.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if d := (canonDecoder{b: b, s: string(b)}); !d.day(new(DayRecord)) || d.i != len(b) {
			continue
		}
		batch = append(append(batch, ','), b...)
		n++
	}
	one := `{"schema":"punchbridge.day/v1","employee_id":"E1","date":"2026-11-21","version":1}`
	for _, c := range []struct {
		in   string
		read bool
	}{
		{"[" + string(batch[1:]) + "]", true},
		{"[" + one + "]", true},
		{"[]", true},
		// encoding/json's to decode: the array or a record not as
		// json.Marshal writes it, or not an array of records at all.
		{" [" + one + "]", false},
		{"[" + one + " ]", false},
		{"[" + one + ",]", false},
		{"[" + one + "]x", false},
		{`[{"employee_id":"E1","bonus":1}]`, false},
		{`[{"Employee_ID":"E1"}]`, false},
		{`[{"employee_id":"E1","employee_id":"E2"}]`, false},
		{"[" + one + "," + one, false},
		{one, false},
		{"null", false},
		{"", false},
	} {
		if got := checkCanonicalDays(t, []byte(c.in)); got != c.read {
			t.Errorf("CanonicalDays(%.60s…) read it: %v, want %v", c.in, got, c.read)
		}
	}
}

// FuzzCanonicalDays holds CanonicalDays to a strict encoding/json
// decoding of whatever it reads:
//
//	go test -run '^$' -fuzz FuzzCanonicalDays -fuzztime 30s ./mapping
func FuzzCanonicalDays(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 4 {
		rec := randomDay(r, i)
		b, _ := rec.MarshalJSON()
		f.Add(append(append([]byte("["), b...), ']'))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkCanonicalDays(t, data) })
}

// BenchmarkCanonicalDays decodes a push's batch of 100 records as the fake
// HR system does: strictly with encoding/json, or with CanonicalDays.
func BenchmarkCanonicalDays(b *testing.B) {
	one := benchDay(b)
	data := []byte{'['}
	for i := range 100 {
		if i > 0 {
			data = append(data, ',')
		}
		data = append(data, one...)
	}
	data = append(data, ']')
	b.Run("encoding-json-strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var rs []DayRecord
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CanonicalDays", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := CanonicalDays(data); !ok {
				b.Fatal("not read")
			}
		}
	})
}

func BenchmarkUnmarshalDay(b *testing.B) {
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, time.FixedZone("CST", 8*3600))
	out := in.Add(9 * time.Hour)
	rec := DayRecord{Schema: DaySchema, EmployeeID: "E01234", Date: "2026-11-20", Shift: "standard", Status: DayPresent,
		FirstIn: &in, LastOut: &out, WorkedMinutes: 538, Late: true, LateMinutes: 2, Missing: []string{},
		Anomalies: []Anomaly{}, Events: []string{"dingtalk/ding5f3a/punch/1", "dingtalk/ding5f3a/punch/2"}, Version: 1}
	data := rec.VersionedJSON(rec.ContentJSON(), 1)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r DayRecord
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UnmarshalDay", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r DayRecord
			if err := UnmarshalDay(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
