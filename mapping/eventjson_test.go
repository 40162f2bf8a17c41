package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// marshalFingerprint is the fingerprint as it was first defined: the
// SHA-256 of json.Marshal of the event with its arrival facts zeroed and
// its times in UTC. Every ledger's stored fingerprints were made so.
func marshalFingerprint(t *testing.T, e Event) string {
	t.Helper()
	e.Via, e.ReceivedAt, e.Connector, e.EmployeeID, e.Raw = "", time.Time{}, "", "", nil
	e.Time = e.Time.UTC()
	if e.Approval != nil {
		a := *e.Approval
		a.Start, a.End = a.Start.UTC(), a.End.UTC()
		e.Approval = &a
	}
	if e.Punch != nil {
		p := *e.Punch
		p.ScheduledAt, p.UploadedAt = utcPtr(p.ScheduledAt), utcPtr(p.UploadedAt)
		e.Punch = &p
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// checkSameAsEncodingJSON fails t unless AppendJSON and json.Marshal agree
// on e: the same bytes, or both an error; and Fingerprint agrees with the
// fingerprint's first definition.
func checkSameAsEncodingJSON(t *testing.T, e Event) {
	t.Helper()
	want, wantErr := json.Marshal(e)
	got, gotErr := e.AppendJSON([]byte("prefix"))
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("json.Marshal error %v, AppendJSON error %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("AppendJSON differs from json.Marshal:\n got %s\nwant %s", got[len("prefix"):], want)
	}
	if got, want := Fingerprint(e), marshalFingerprint(t, e); got != want {
		t.Fatalf("Fingerprint = %s, want %s (json.Marshal of the zeroed event)", got, want)
	}
}

func f64(v float64) *float64 { return &v }

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	odd := time.FixedZone("odd", -(3*3600 + 30*60 + 7))
	at := time.Date(2026, 11, 20, 8, 59, 3, 120_000_000, cst)
	sched := time.Date(2026, 11, 20, 9, 0, 0, 0, cst)
	up := time.Date(2026, 11, 21, 1, 2, 3, 4, time.UTC)
	full := Punch{Direction: DirIn, Method: MethodApp, Field: true, Lat: f64(31.2304), Lng: f64(121.4737), AccuracyM: f64(0),
		Datum: "gcj02", Address: `上海 <Road> & "Co"`, DeviceID: "dev\x01", WifiBSSID: "aa:bb", WifiSSID: "office\u2028wifi",
		PlatformResult: "Late", ScheduledAt: &sched, UploadedAt: &up, Anomalies: []string{"Outside", "NotSigned\t"}}
	base := Event{Schema: EventSchema, ID: "dingtalk/ding5f3a/punch/1", Kind: KindPunch, Platform: "dingtalk",
		Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u1", EmployeeID: "E1", Time: at, ReceivedAt: at.Add(time.Second),
		Via: ViaWebhook, Raw: json.RawMessage(`{"userId":"u1"}`)}
	with := func(f func(e *Event)) Event {
		e := base
		f(&e)
		return e
	}
	tests := []struct {
		name string
		e    Event
	}{
		{"zero event", Event{}},
		{"punch with every field", with(func(e *Event) { p := full; e.Punch = &p })},
		{"punch with none of its optional fields", with(func(e *Event) { e.Punch = &Punch{Direction: DirOut} })},
		{"no employee", with(func(e *Event) { e.EmployeeID = ""; e.Punch = &Punch{Direction: DirUnknown} })},
		{"empty anomalies", with(func(e *Event) { e.Punch = &Punch{Anomalies: []string{}} })},
		{"odd zone", with(func(e *Event) { e.Time = at.In(odd); e.Punch = &Punch{ScheduledAt: &sched} })},
		{"floats at the exponent cut-offs", with(func(e *Event) {
			e.Punch = &Punch{Lat: f64(1e-6), Lng: f64(9.99e-7), AccuracyM: f64(1e21)}
		})},
		{"negative and tiny floats", with(func(e *Event) {
			e.Punch = &Punch{Lat: f64(-0.000000123), Lng: f64(-1e300), AccuracyM: f64(math.SmallestNonzeroFloat64)}
		})},
		{"negative zero", with(func(e *Event) { e.Punch = &Punch{Lat: f64(math.Copysign(0, -1))} })},
		{"NaN", with(func(e *Event) { e.Punch = &Punch{Lat: f64(math.NaN())} })},
		{"infinity", with(func(e *Event) { e.Punch = &Punch{AccuracyM: f64(math.Inf(-1))} })},
		{"year out of range", with(func(e *Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"received_at out of range", with(func(e *Event) { e.ReceivedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"approval", with(func(e *Event) {
			e.Kind = KindApproval
			e.Approval = &Approval{Type: ApprovalLeave, LeaveType: "年假", Status: StatusApproved, Start: at, End: at.Add(8 * time.Hour),
				DurationMinutes: 480, ApprovalID: "proc-1"}
		})},
		{"approval without its optional fields", with(func(e *Event) {
			e.Approval = &Approval{Type: ApprovalTrip, Status: StatusPending}
		})},
		{"approval end out of range", with(func(e *Event) {
			e.Approval = &Approval{End: time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC)}
		})},
		{"makeup", with(func(e *Event) {
			e.Kind = KindMakeup
			e.Makeup = &Makeup{Direction: DirIn, Status: StatusRejected, ApprovalID: "m-1", Reason: "forgot\n<phone>"}
		})},
		{"makeup without a reason", with(func(e *Event) { e.Makeup = &Makeup{Direction: DirOut} })},
		{"all three payloads", with(func(e *Event) {
			p := full
			e.Punch, e.Approval, e.Makeup = &p, &Approval{Type: "x"}, &Makeup{Reason: "y"}
		})},
		{"escapes", with(func(e *Event) {
			e.ID = "q\"b\\s/\b\f\n\r\t\x00\x1f\x7f<>&"
			e.UserID = "bad utf-8 \xff\xfe, cut \xe4\xb8, U+2029 \u2029, emoji 😀"
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkSameAsEncodingJSON(t, tt.e) })
	}
}

// TestAppendJSONMatchesOnRandomEvents compares the two encoders on events
// made of random strings (any bytes, any runes), floats and times.
func TestAppendJSONMatchesOnRandomEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		checkSameAsEncodingJSON(t, randomEvent(r, i, false))
	}
}

// randomEvent returns an event of random strings (any bytes, any runes;
// with plain, only strings that need no escape), floats and times; i%3
// picks its payload.
func randomEvent(r *rand.Rand, i int, plain bool) Event {
	str := func() string {
		if plain {
			return "plain-" + strconv.Itoa(r.IntN(1000)) + string(rune(0x4e00+r.IntN(100)))
		}
		b := make([]byte, r.IntN(12))
		for i := range b {
			switch r.IntN(4) {
			case 0:
				b[i] = byte(r.IntN(256))
			case 1:
				b[i] = byte(r.IntN(0x80))
			default:
				const picks = "ab<>&\"\\\n\b\u2028é"
				b[i] = picks[r.IntN(len(picks))]
			}
		}
		if r.IntN(3) == 0 {
			return string(b) + string(rune(r.IntN(0x110000)))
		}
		return string(b)
	}
	tm := func() time.Time {
		zone := time.FixedZone("z", (r.IntN(49)-24)*1800)
		return time.Unix(r.Int64N(400_000_000_000)-62_000_000_000, r.Int64N(1e9)).In(zone)
	}
	fl := func() *float64 {
		if r.IntN(4) == 0 {
			return nil
		}
		v := math.Float64frombits(r.Uint64())
		if r.IntN(2) == 0 {
			v = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(50)-25))
		}
		return &v
	}
	tmp := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		v := tm()
		return &v
	}
	e := Event{Schema: str(), ID: str(), Kind: Kind(str()), Platform: str(), Connector: str(), Tenant: str(),
		UserID: str(), EmployeeID: str(), Time: tm(), ReceivedAt: tm(), Via: Via(str())}
	switch i % 3 {
	case 0:
		e.Punch = &Punch{Direction: Direction(str()), Method: str(), Field: r.IntN(2) == 0, Lat: fl(), Lng: fl(), AccuracyM: fl(),
			Datum: str(), Address: str(), DeviceID: str(), WifiBSSID: str(), WifiSSID: str(), PlatformResult: str(),
			ScheduledAt: tmp(), UploadedAt: tmp()}
		for range r.IntN(3) {
			e.Punch.Anomalies = append(e.Punch.Anomalies, str())
		}
	case 1:
		e.Approval = &Approval{Type: str(), LeaveType: str(), Status: Status(str()), Start: tm(), End: tm(),
			DurationMinutes: r.IntN(3) * (r.IntN(2000) - 1000), ApprovalID: str()}
	default:
		e.Makeup = &Makeup{Direction: Direction(str()), Status: Status(str()), ApprovalID: str(), Reason: str()}
	}
	return e
}

// FuzzAppendJSON holds AppendJSON to json.Marshal on fuzzed strings and
// coordinates:
//
//	go test -run '^$' -fuzz FuzzAppendJSON -fuzztime 30s ./mapping
func FuzzAppendJSON(f *testing.F) {
	f.Add("dingtalk/ding5f3a/punch/1", "u1", "上海 <Road>", 31.2304, int64(1763600000))
	f.Add("q\"\\\x00\xff", "\u2028", "", 1e-7, int64(-62135596800))
	f.Fuzz(func(t *testing.T, id, user, address string, lat float64, unix int64) {
		tm := time.Unix(unix, 0).In(time.FixedZone("CST", 8*3600))
		e := Event{Schema: EventSchema, ID: id, Kind: KindPunch, UserID: user, EmployeeID: user, Time: tm, ReceivedAt: tm,
			Punch: &Punch{Address: address, Lat: &lat, ScheduledAt: &tm, Anomalies: []string{address}}}
		checkSameAsEncodingJSON(t, e)
	})
}

// benchEvent is a typical stored punch.
func benchEvent() Event {
	tm := time.Date(2026, 11, 20, 8, 59, 3, 0, time.FixedZone("CST", 8*3600))
	return Event{Schema: EventSchema, ID: "dingtalk/ding5f3a/punch/1", Kind: KindPunch, Platform: "dingtalk",
		Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u1", EmployeeID: "E1", Time: tm, ReceivedAt: tm, Via: ViaWebhook,
		Punch: &Punch{Direction: DirIn, Method: MethodApp, Lat: f64(31.2304), Lng: f64(121.4737), PlatformResult: "Normal"}}
}

func BenchmarkEventJSON(b *testing.B) {
	e := benchEvent()
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = e.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Fingerprint", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			_, buf = AppendFingerprint(buf, &e)
		}
	})
}
