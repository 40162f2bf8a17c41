package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// TestRoundTrip proves that decoding and re-encoding an event gives the same
// bytes, so that stored events and fingerprints are stable.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"event_punch.json", "event_approval.json", "event_makeup.json"} {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			e, err := DecodeEvent(in)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			out, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, out) {
				t.Fatalf("round trip changed the event:\n in: %s\nout: %s", in, out)
			}
			again, err := DecodeEvent(out)
			if err != nil {
				t.Fatal(err)
			}
			if Fingerprint(again) != Fingerprint(e) {
				t.Fatal("fingerprint changed across a round trip")
			}
		})
	}
}

func TestDayRecordJSON(t *testing.T) {
	d := DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Status: DayAbsent, Version: 1, Missing: []string{"in", "out"}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"punchbridge.day/v1","employee_id":"E1","date":"2026-11-20","shift":"standard","status":"absent","worked_minutes":0,"late":false,"late_minutes":0,"early_exit":false,"early_exit_minutes":0,"overtime_minutes":0,"leave_minutes":0,"missing":["in","out"],"anomalies":[],"events":[],"version":1}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back DayRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Fatalf("day record round trip changed it:\n%s\n%s", b, b2)
	}
	if err := ValidateDay(back); err != nil {
		t.Fatal(err)
	}
	v2 := back
	v2.Version = 2
	if v2.ContentHash() != back.ContentHash() {
		t.Fatal("content hash must ignore the version")
	}
	v2.WorkedMinutes = 1
	if v2.ContentHash() == back.ContentHash() {
		t.Fatal("content hash must see a changed field")
	}
}

// TestValidationRules covers every rule of DESIGN.md's schema table: each
// case edits a valid event and names the field and value the error must
// mention.
func TestValidationRules(t *testing.T) {
	punch := string(readFixture(t, "event_punch.json"))
	approval := string(readFixture(t, "event_approval.json"))
	makeup := string(readFixture(t, "event_makeup.json"))
	cases := []struct {
		name      string
		base      string
		old, new  string
		wantField string
		wantValue string
	}{
		{"missing id", punch, `"id":"dingtalk/ding5f3a/punch/66301245789",`, ``, "id", ""},
		{"malformed id", punch, `"id":"dingtalk/ding5f3a/punch/66301245789"`, `"id":"66301245789"`, "id", "66301245789"},
		{"id not matching kind", punch, `"id":"dingtalk/ding5f3a/punch/`, `"id":"dingtalk/ding5f3a/approval/`, "id", "dingtalk/ding5f3a/approval/66301245789"},
		{"wrong schema", punch, `"schema":"punchbridge.event/v1"`, `"schema":"punchbridge.event/v2"`, "schema", "punchbridge.event/v2"},
		{"unknown kind", punch, `"kind":"punch"`, `"kind":"clock"`, "kind", "clock"},
		{"missing user", punch, `"user_id":"0231445566",`, ``, "user_id", ""},
		{"missing tenant", punch, `"tenant":"ding5f3a",`, ``, "tenant", ""},
		{"missing platform", punch, `"platform":"dingtalk",`, ``, "platform", ""},
		{"missing connector", punch, `"connector":"dingtalk-hq",`, ``, "connector", ""},
		{"unknown via", punch, `"via":"webhook"`, `"via":"email"`, "via", "email"},
		{"time does not parse", punch, `"time":"2026-11-20T09:02:11+08:00"`, `"time":"2026-11-20 09:02:11"`, "time", "2026-11-20 09:02:11"},
		{"time without offset", punch, `"time":"2026-11-20T09:02:11+08:00"`, `"time":"2026-11-20T09:02:11"`, "time", "2026-11-20T09:02:11"},
		{"received_at not a string", punch, `"received_at":"2026-11-20T09:02:12+08:00"`, `"received_at":12`, "received_at", "12"},
		{"punch in the future", punch, `"time":"2026-11-20T09:02:11+08:00"`, `"time":"2026-11-20T09:12:13+08:00"`, "time", "2026-11-20T09:12:13+08:00"},
		{"unknown direction", punch, `"direction":"in"`, `"direction":"inside"`, "punch.direction", "inside"},
		{"unknown method", punch, `"method":"app"`, `"method":"pigeon"`, "punch.method", "pigeon"},
		{"unknown platform result", punch, `"platform_result":"normal"`, `"platform_result":"fine"`, "punch.platform_result", "fine"},
		{"latitude too high", punch, `"lat":31.2304`, `"lat":91.5`, "punch.lat", "91.5"},
		{"latitude too low", punch, `"lat":31.2304`, `"lat":-90.01`, "punch.lat", "-90.01"},
		{"longitude out of range", punch, `"lng":121.4737`, `"lng":181`, "punch.lng", "181"},
		{"lat without lng", punch, `"lng":121.4737,`, ``, "punch.lat", ""},
		{"unknown top-level field", punch, `"via":"webhook"`, `"via":"webhook","colour":"red"`, "colour", "red"},
		{"unknown punch field", punch, `"field":false`, `"field":false,"altitude":3`, "punch.altitude", "3"},
		{"payload does not match kind", punch, `"kind":"punch"`, `"kind":"makeup"`, "makeup", ""},
		{"two payloads", approval, `"via":"pull"`, `"via":"pull","makeup":{"direction":"in","status":"approved","approval_id":"x"}`, "kind", "approval"},
		{"approval end before start", approval, `"end":"2026-11-20T13:00:00+08:00"`, `"end":"2026-11-20T08:00:00+08:00"`, "approval.end", "2026-11-20T08:00:00+08:00"},
		{"approval unknown type", approval, `"type":"leave"`, `"type":"vacation"`, "approval.type", "vacation"},
		{"approval unknown status", approval, `"status":"approved"`, `"status":"done"`, "approval.status", "done"},
		{"approval start does not parse", approval, `"start":"2026-11-20T09:00:00+08:00"`, `"start":"tomorrow"`, "approval.start", "tomorrow"},
		{"approval missing id", approval, `,"approval_id":"proc-77"`, ``, "approval.approval_id", ""},
		{"makeup unknown status", makeup, `"status":"pending"`, `"status":"waiting"`, "makeup.status", "waiting"},
		{"makeup unknown direction", makeup, `"direction":"out"`, `"direction":"sideways"`, "makeup.direction", "sideways"},
		{"not an object", punch, punch, `[1,2]`, "(event)", "[1,2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.base, tc.old) {
				t.Fatalf("fixture does not contain %q", tc.old)
			}
			in := strings.Replace(tc.base, tc.old, tc.new, 1)
			_, err := DecodeEvent([]byte(in))
			if err == nil {
				t.Fatalf("accepted %s", in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			for _, f := range ve.Errors {
				if f.Field == tc.wantField && f.Value == tc.wantValue && f.Reason != "" {
					return
				}
			}
			t.Fatalf("no error names field %q with value %q; got: %v", tc.wantField, tc.wantValue, err)
		})
	}
}

func TestValidEventsPass(t *testing.T) {
	for _, name := range []string{"event_punch.json", "event_approval.json", "event_makeup.json"} {
		e, err := DecodeEvent(readFixture(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := Validate(e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestFingerprintIgnoresTransport(t *testing.T) {
	e, err := DecodeEvent(readFixture(t, "event_punch.json"))
	if err != nil {
		t.Fatal(err)
	}
	pulled := e
	pulled.Via, pulled.Connector, pulled.EmployeeID = ViaPull, "other", ""
	pulled.ReceivedAt = pulled.ReceivedAt.Add(72 * 3600e9)
	if Fingerprint(pulled) != Fingerprint(e) {
		t.Fatal("the same punch by pull and by webhook must have one fingerprint")
	}
	p := *e.Punch
	p.Direction = DirOut
	changed := e
	changed.Punch = &p
	if Fingerprint(changed) == Fingerprint(e) {
		t.Fatal("a changed punch must have a new fingerprint")
	}
	// The same instant written with another offset is the same fact.
	utc := e
	utc.Time = e.Time.UTC()
	if Fingerprint(utc) != Fingerprint(e) {
		t.Fatal("fingerprint must not depend on the offset an instant is written in")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, name := range []string{"event_punch.json", "event_approval.json", "event_makeup.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"punch":null,"approval":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			return
		}
		// Whatever decodes cleanly must validate and re-encode.
		if err := Validate(e); err != nil {
			t.Fatalf("decoded event fails validation: %v", err)
		}
		if _, err := e.Marshal(); err != nil {
			t.Fatal(err)
		}
	})
}
