package mapping

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apply compiles a mapping given as YAML and applies it to in.
func apply(t *testing.T, src, in string, opts ...Option) (string, error) {
	t.Helper()
	m, err := Parse([]byte(src), "test.yaml", opts...)
	if err != nil {
		t.Fatalf("mapping does not compile: %v", err)
	}
	out, err := m.Apply([]byte(in))
	return string(out), err
}

// TestTransforms shows every transform on an example: the mapping, the
// input and the output (or the error) side by side.
func TestTransforms(t *testing.T) {
	const ev = `{"employee_id":" e1001 ","kind":"punch","time":"2026-11-20T09:02:11+08:00","n":543,"s":"543","flag":true,` +
		`"leave":"病假","ms":1795082400000,"secs":1795082400,"local":"2026-11-20 09:00","date":"2026-11-23","list":["in","","out"],` +
		`"tip":"周四 ( 11.19 下班) 补卡","form":[{"name":"请假类型","value":"年假"},{"name":"天数","value":"2"}],"packed":"[\"a\",\"b\"]"}`
	tests := []struct {
		name    string
		fields  string // the fields: block
		extra   string // other top-level keys
		want    string
		wantErr string
	}{
		{name: "copy a path", fields: `out: employee_id`, want: `{"out":" e1001 "}`},
		{name: "constant text, number, bool", fields: `{a: {value: x}, b: {value: 0}, c: {value: 1.5}, d: {value: true}, e: {value: "0"}}`,
			want: `{"a":"x","b":0,"c":1.5,"d":true,"e":"0"}`},
		{name: "nested output", fields: `{a.b.c: employee_id, a.b.d: n, a.e: flag}`, want: `{"a":{"b":{"c":" e1001 ","d":543},"e":true}}`},
		{name: "output index via sjson", fields: `{items.0.id: n}`, want: `{"items":[{"id":543}]}`},
		{name: "array query", fields: `out: form.#(name=="请假类型").value`, want: `{"out":"年假"}`},
		{name: "json inside a string", fields: `out: packed|@fromstr|1`, want: `{"out":"b"}`},
		{name: "from list: first with a value", fields: `out: {from: [missing, employee_id]}`, want: `{"out":" e1001 "}`},
		{name: "absent is left out", fields: `{out: missing, obj.x: missing}`, want: `{}`},
		{name: "trim upper", fields: `out: {from: employee_id, transforms: [trim, upper]}`, want: `{"out":"E1001"}`},
		{name: "lower", fields: `out: {from: leave, transforms: [lower]}`, want: `{"out":"病假"}`},
		{name: "map with default", fields: `out: {from: leave, transforms: [{map: {年假: AL, default: OTHER}}]}`, want: `{"out":"OTHER"}`},
		{name: "map hit", fields: `out: {from: leave, transforms: [{map: {病假: SL, default: OTHER}}]}`, want: `{"out":"SL"}`},
		{name: "map of a number to a number", fields: `out: {from: n, transforms: [{map: {543: 1}}]}`, want: `{"out":1}`},
		{name: "map miss without default leaves the field out", fields: `out: {from: leave, transforms: [{map: {年假: AL}}]}`, want: `{}`},
		{name: "contains", fields: `out: {from: tip, transforms: [{contains: {上班: in, 下班: out, default: unknown}}]}`, want: `{"out":"out"}`},
		{name: "format RFC 3339 to local text keeps the offset", fields: `out: {from: time, transforms: [{format: "2006-01-02 15:04:05"}]}`,
			want: `{"out":"2026-11-20 09:02:11"}`},
		{name: "format into a zone", fields: `out: {from: time, transforms: [{format: {layout: "2006-01-02T15:04:05Z07:00", zone: Europe/Berlin}}]}`,
			want: `{"out":"2026-11-20T02:02:11+01:00"}`},
		{name: "format uses the mapping's timezone", extra: "timezone: UTC\n", fields: `out: {from: time, transforms: [{format: "15:04"}]}`,
			want: `{"out":"01:02"}`},
		{name: "format from unix ms", fields: `out: {from: ms, transforms: [{format: {from: unix_ms, layout: RFC3339, zone: Asia/Shanghai}}]}`,
			want: `{"out":"2026-11-19T18:00:00+08:00"}`},
		{name: "format from unix seconds to unix ms", fields: `out: {from: secs, transforms: [{format: {from: unix, layout: unix_ms}}]}`,
			want: `{"out":1795082400000}`},
		{name: "format from a local layout", fields: `out: {from: local, transforms: [{format: {from: "2006-01-02 15:04", layout: RFC3339, zone: Asia/Shanghai}}]}`,
			want: `{"out":"2026-11-20T09:00:00+08:00"}`},
		{name: "format end of day", fields: `out: {from: date, transforms: [{format: {from: DateOnly, layout: RFC3339, zone: Asia/Shanghai, end_of_day: true}}]}`,
			want: `{"out":"2026-11-24T00:00:00+08:00"}`},
		{name: "unit half up", fields: `out: {from: n, transforms: [{unit: {from: minutes, to: hours, round: half_up, places: 2}}]}`, want: `{"out":9.05}`},
		{name: "unit down to half hours", fields: `out: {from: n, transforms: [{unit: {from: minutes, to: hours, round: down, step: 0.5}}]}`, want: `{"out":9.0}`},
		{name: "unit up", fields: `out: {from: n, transforms: [{unit: {from: minutes, to: hours, round: up}}]}`, want: `{"out":10}`},
		{name: "unit half even", fields: `out: {value: 90, transforms: [{unit: {from: minutes, to: hours, round: half_even, places: 0}}]}`, want: `{"out":2}`},
		{name: "unit of a numeric text", fields: `out: {from: s, transforms: [{unit: {from: minutes, to: seconds, round: half_up}}]}`, want: `{"out":32580}`},
		{name: "unit days", fields: `out: {from: form.#(name=="天数").value, transforms: [{unit: {from: days, to: minutes, round: half_up, hours_per_day: 8}}]}`, want: `{"out":960}`},
		{name: "number and string", fields: `{a: {from: s, transforms: [number]}, b: {from: n, transforms: [string]}}`, want: `{"a":543,"b":"543"}`},
		{name: "join skips empties", fields: `out: {from: list, transforms: [{join: "+"}]}`, want: `{"out":"in+out"}`},
		{name: "replace", fields: `out: {from: local, transforms: [{replace: {"-": "/", " ": "T"}}]}`, want: `{"out":"2026/11/20T09:00"}`},
		{name: "default fills an absent value", fields: `out: {from: missing, transforms: [{default: none}]}`, want: `{"out":"none"}`},
		{name: "when holds", fields: `out: {from: n, transforms: [{when: flag}]}`, want: `{"out":543}`},
		{name: "when fails: the field is left out", fields: `out: {from: n, transforms: [{when: missing}, required]}`, want: `{}`},
		{name: "when equals", fields: `{a: {from: n, transforms: [{when: {path: kind, equals: [punch, makeup]}}]}, b: {from: n, transforms: [{when: {path: kind, equals: approval}}]}}`,
			want: `{"a":543}`},
		{name: "when any", fields: `out: {from: n, transforms: [{when: {any: [missing, flag]}}]}`, want: `{"out":543}`},
		{name: "when all", fields: `out: {from: n, transforms: [{when: [missing, flag]}]}`, want: `{}`},
		{name: "required fails", fields: `out: {from: missing, transforms: [required]}`,
			wantErr: `out: required (line LINE) is required but has no value (the input has nothing at missing)`},
		{name: "required empty text fails", fields: `out: {from: [missing, list.1], transforms: [required]}`,
			wantErr: `(the input has nothing at missing or list.1)`},
		{name: "format of a bad time", fields: `out: {from: leave, transforms: [{format: {layout: DateOnly}}]}`,
			wantErr: `out="病假": format (line LINE) is not a time in the layout "2006-01-02T15:04:05.999999999Z07:00"`},
		{name: "unit of text", fields: `out: {from: leave, transforms: [{unit: {from: minutes, to: hours, round: up}}]}`,
			wantErr: `out="病假": unit (line LINE) is not a number`},
		{name: "every failing field is reported", fields: `{a: {from: missing, transforms: [required]}, b: {from: leave, transforms: [number]}}`,
			wantErr: `a: required (line LINE) is required but has no value (the input has nothing at missing); b="病假": number (line LINE) is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The fields go on one line, after input: and the extra keys.
			fields := tt.fields
			if !strings.HasPrefix(fields, "{") {
				fields = "{" + fields + "}"
			}
			src := "input: json\n" + tt.extra + "fields: " + fields + "\n"
			line := strings.Count(src, "\n")
			tt.wantErr = strings.ReplaceAll(tt.wantErr, "LINE", strconv.Itoa(line))
			got, err := apply(t, src, ev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrMapping) {
					t.Fatalf("got %s, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %s, %v; want %s\nmapping:\n%s", got, err, tt.want, src)
			}
		})
	}
}

func TestApplyErrorNamesFieldValueAndReason(t *testing.T) {
	m, err := Parse([]byte("input: punchbridge.day/v1\nfields:\n  hours:\n    from: status\n    transforms:\n      - unit: {from: minutes, to: hours, round: up}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply([]byte(`{"status":"present"}`))
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Errors) != 1 {
		t.Fatalf("error %v, want one *ApplyError", err)
	}
	fe := ae.Errors[0]
	if fe.Field != "hours" || fe.Value != "present" || !strings.Contains(fe.Reason, "unit (line 6) is not a number") {
		t.Fatalf("field error %+v", fe)
	}
	if !strings.HasPrefix(err.Error(), "mapping p.yaml: hours=") {
		t.Fatalf("message %q does not name the mapping", err)
	}
	for _, in := range []string{`[1,2]`, `not json`, `{"a":`, ``} {
		if _, err := m.Apply([]byte(in)); !errors.As(err, &ae) || ae.Errors[0].Field != "(input)" {
			t.Errorf("Apply(%q) = %v, want an error about the input", in, err)
		}
	}
}

func TestMappingWhenSkips(t *testing.T) {
	m, err := Parse([]byte("input: punchbridge.day/v1\nwhen: [first_in, last_out]\nfields: {d: date}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply([]byte(`{"date":"2026-11-20","first_in":"x"}`)); !errors.Is(err, ErrSkip) {
		t.Fatalf("err = %v, want ErrSkip", err)
	}
	out, err := m.Apply([]byte(`{"date":"2026-11-20","first_in":"x","last_out":"y"}`))
	if err != nil || string(out) != `{"d":"2026-11-20"}` {
		t.Fatalf("got %s, %v", out, err)
	}
}

func TestWithTimezoneOverridesTheFile(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	src := "input: json\ntimezone: Asia/Shanghai\nfields:\n  out: {from: t, transforms: [{format: '2006-01-02 15:04'}]}\n  fixed: {from: t, transforms: [{format: {layout: '15:04', zone: UTC}}]}\n"
	got, err := apply(t, src, `{"t":"2026-11-20T09:00:00+08:00"}`, WithTimezone(berlin))
	if err != nil || got != `{"out":"2026-11-20 02:00","fixed":"01:00"}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestRowAndFields(t *testing.T) {
	m, err := Parse([]byte("input: json\nfields:\n  工号: id\n  hours: {from: n, transforms: [{unit: {from: minutes, to: hours, round: half_up, places: 2}}]}\n  missing: {from: list, transforms: [{join: ','}]}\n  raw: list\n  none: nothing\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	row, err := m.Row([]byte(`{"id":"E1","n":543,"list":["in","out"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(m.Fields(), "|"), "工号|hours|missing|raw|none"; got != want {
		t.Fatalf("Fields() = %s, want %s", got, want)
	}
	if got, want := strings.Join(row, "|"), `E1|9.05|in,out|["in","out"]|`; got != want {
		t.Fatalf("Row() = %s, want %s", got, want)
	}
}

func TestOutputEscapesText(t *testing.T) {
	got, err := apply(t, "input: json\nfields:\n  out: s\n", `{"s":"a\"b\\c\n\u0001\u2028é"}`)
	if err != nil || got != `{"out":"a\"b\\c\n\u0001\u2028é"}` {
		t.Fatalf("got %s, %v", got, err)
	}
}
