package mapping

import (
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLoadErrors loads a mapping with a mistake on every marked line and
// compares the report with bad.golden: each mistake once, at its line,
// saying what to write instead.
func TestLoadErrors(t *testing.T) {
	_, err := Load("testdata/mappings/bad.yaml")
	var le LoadErrors
	if !errors.As(err, &le) {
		t.Fatalf("Load = %v, want LoadErrors", err)
	}
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile("testdata/mappings/bad.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/mappings/bad.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("errors differ from bad.golden (go test -update to accept):\n%s", got)
	}
	src, _ := os.ReadFile("testdata/mappings/bad.yaml")
	for i, line := range strings.Split(string(src), "\n") {
		if !strings.Contains(line, "# mistake") {
			continue
		}
		at := "bad.yaml:" + strconv.Itoa(i+1) + ":"
		if !strings.Contains(got, at) {
			t.Errorf("the mistake on line %d is not reported:\n%s", i+1, line)
		}
	}
}

func TestLoadErrorCases(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", "t.yaml: the mapping is empty"},
		{"not a mapping", "- a\n", "t.yaml:1: a mapping file is a YAML mapping"},
		{"yaml syntax", "input: [\n", "t.yaml:1: did not find expected node content"},
		{"no input", "fields: {a: b}\n", "t.yaml:1: input: is required"},
		{"unknown input", "input: dingtalk\nfields: {a: b}\n", `t.yaml:1: input "dingtalk": unknown; use one of punchbridge.event/v1`},
		{"no fields", "input: json\n", "t.yaml:1: fields: is required"},
		{"typo in a top key", "input: json\nfeilds: {a: b}\n", "t.yaml:2: feilds: unknown key; did you mean fields?"},
		{"typo in a field key", "input: json\nfields:\n  a: {form: b}\n", "t.yaml:3: fields.a.form: unknown key; did you mean from?"},
		{"repeated field", "input: json\nfields:\n  a: b\n  a: c\n", "t.yaml:4: fields.a: repeated (first at line 3)"},
		{"event path typo", "input: punchbridge.event/v1\nfields:\n  a: punch.directon\n", `punch.directon": directon is not a field of punchbridge.event/v1 punch; did you mean direction?`},
		{"inbound keys in an outbound file", "input: json\ntemplates: {leave: [x]}\nfields: {a: b}\n", "belong to inbound mappings"},
		{"bad equals", "input: json\nfields:\n  a: {from: b, transforms: [{when: {path: c, equals: {x: y}}}]}\n", "t.yaml:3: fields.a: when.equals: want a value or a list"},
		{"layout without elements", "input: json\nfields:\n  a: {from: b, transforms: [{format: hello}]}\n", `layout "hello" has no element of the reference time`},
		{"local zone", "input: json\ntimezone: Local\nfields: {a: b}\n", `timezone "Local": name an IANA time zone`},
		{"contains without default, required", "input: json\nfields:\n  a:\n    from: b\n    transforms:\n      - required\n      - contains: {x: y}\n", "t.yaml:7: fields.a: the field is required, but this table has no default:"},
		{"inline value in map not scalar", "input: json\nfields:\n  a: {from: b, transforms: [{map: {x: [1]}}]}\n", "fields.a: map.x: want a text, number or true/false"},
		{"sjson path with empty segment", "input: json\nfields:\n  a..0: b\n", "must not be empty or start, end or double a dot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "t.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
