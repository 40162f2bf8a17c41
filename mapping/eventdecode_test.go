package mapping

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// checkDecodesAsEncodingJSON fails t unless UnmarshalEvent and
// json.Unmarshal agree on data: the same event, or both an error.
func checkDecodesAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	checkMatchesEncodingJSON(t, data, UnmarshalEvent)
}

// checkMatchesEncodingJSON fails t unless unmarshal and json.Unmarshal
// agree on data: the same value, or both an error.
func checkMatchesEncodingJSON[T any](t *testing.T, data []byte, unmarshal func([]byte, *T) error) {
	t.Helper()
	var want, got T
	wantErr := json.Unmarshal(data, &want)
	gotErr := unmarshal(data, &got)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("%s: json.Unmarshal error %v, the reader's error %v", data, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %#v\nwant %#v", data, got, want)
	}
}

func TestUnmarshalEventMatchesEncodingJSON(t *testing.T) {
	canonical := `{"schema":"punchbridge.event/v1","id":"dingtalk/c/punch/1","kind":"punch","platform":"dingtalk","connector":"hq",` +
		`"tenant":"c","user_id":"u1","employee_id":"E1","time":"2026-11-20T08:59:03+08:00","received_at":"2026-11-20T01:00:00.5Z",` +
		`"via":"pull","punch":{"direction":"in","method":"app","field":false,"lat":31.2304,"lng":-1.2e-7,"accuracy_m":0,` +
		`"address":"上海","scheduled_at":"2026-11-20T09:00:00+08:00","anomalies":["Late","NotSigned"]}}`
	for _, in := range []string{
		canonical,
		`{"schema":"s","id":"i","kind":"approval","approval":{"type":"leave","leave_type":"年假","status":"approved",` +
			`"start":"2026-11-20T09:00:00+08:00","end":"2026-11-20T18:00:00+08:00","duration_minutes":480,"approval_id":"p"}}`,
		`{"id":"m","makeup":{"direction":"out","status":"pending","approval_id":"a","reason":"forgot"}}`,
		`{}`,
		`{"punch":{}}`,
		`{"punch":{"anomalies":[]}}`,
		// What the reader hands to encoding/json: escapes, case, repeats,
		// nulls, whitespace, unknown keys, odd numbers, broken documents.
		`{"id":"a\u003cb","user_id":"tab\there"}`,
		`{"ID":"upper","Punch":{"Lat":1}}`,
		`{"id":"first","id":"second"}`,
		`{"punch":{"lat":1},"punch":{"lng":2}}`,
		`{"punch":null,"approval":null,"time":null}`,
		` {"id":"spaced"} `,
		`{"id" : "spaced"}`,
		`{"id":"x","extra":{"deep":[1,2]}}`,
		`{"punch":{"lat":01}}`,
		`{"punch":{"lat":1.}}`,
		`{"punch":{"lat":-}}`,
		`{"punch":{"lat":1e999}}`,
		`{"punch":{"lat":"1"}}`,
		`{"punch":{"field":"true"}}`,
		`{"approval":{"duration_minutes":1.5}}`,
		`{"approval":{"duration_minutes":99999999999999999999}}`,
		`{"time":"2026-13-01T00:00:00Z"}`,
		`{"time":"not a time"}`,
		"{\"id\":\"bad utf-8 \xff\"}",
		"{\"id\":\"raw\x01control\"}",
		`{"id":"open`,
		`{"id":"x"`,
		`{"id":"x"}trailing`,
		`[]`,
		`null`,
		``,
	} {
		checkDecodesAsEncodingJSON(t, []byte(in))
	}
}

// TestUnmarshalEventReadsAppendJSON round-trips random events through
// AppendJSON: what the ledger stores, the reader decodes as encoding/json
// does, and mostly without it.
func TestUnmarshalEventReadsAppendJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	direct := 0
	for i := range 20000 {
		e := randomEvent(r, i, i%2 == 0)
		b, err := e.AppendJSON(nil)
		if err != nil {
			continue // NaN, or a year out of range: never stored
		}
		checkDecodesAsEncodingJSON(t, b)
		d := canonDecoder{b: b, s: string(b)}
		var fast Event
		if d.event(&fast) && d.i == len(b) {
			direct++
		}
	}
	if direct < 1000 {
		t.Errorf("only %d of the events were read without encoding/json; the fast path is not being taken", direct)
	}
}

// FuzzUnmarshalEvent holds UnmarshalEvent to json.Unmarshal on any input:
//
//	go test -run '^$' -fuzz FuzzUnmarshalEvent -fuzztime 30s ./mapping
func FuzzUnmarshalEvent(f *testing.F) {
	tm := time.Date(2026, 11, 20, 8, 59, 3, 0, time.FixedZone("CST", 8*3600))
	lat := 31.2304
	e := Event{Schema: EventSchema, ID: "dingtalk/c/punch/1", Kind: KindPunch, Time: tm, ReceivedAt: tm,
		Punch: &Punch{Lat: &lat, ScheduledAt: &tm, Anomalies: []string{"Late"}}}
	b, _ := e.AppendJSON(nil)
	f.Add(b)
	f.Add([]byte(`{"approval":{"duration_minutes":480,"start":"2026-11-20T09:00:00+08:00"},"makeup":{"reason":"r"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodesAsEncodingJSON(t, data)
	})
}

func BenchmarkUnmarshalEvent(b *testing.B) {
	e := benchEvent()
	data, err := e.AppendJSON(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Event
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UnmarshalEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Event
			if err := UnmarshalEvent(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
