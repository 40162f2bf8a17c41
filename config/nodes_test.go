package config

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLineOf(t *testing.T) {
	doc := `timezone: UTC
shifts:
  night:
    start: "22:00"
    end: "06:00"
assign:
  default: standard
  dated:
    - employee: E1
      from: "2026-01-01"
    - {employee: E2, from: "2026-02-01"}
holidays: ["2026-10-01",
  "2026-10-02"]
base: &base
  late_grace: 5m
late:
  <<: *base
`
	var doc1 yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &doc1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want int
	}{
		{"", 1},
		{"timezone", 1},
		{"shifts", 2},
		{"shifts.night", 3},
		{"shifts.night.start", 4},
		{"shifts.night.end", 5},
		{"assign.dated[0]", 9},
		{"assign.dated[0].from", 10},
		{"assign.dated[1].from", 11},
		{"holidays[1]", 13},
		{"late.late_grace", 15},        // through the merge key, to the anchor
		{"shifts.night.late_grace", 3}, // missing key: the nearest parent
		{"assign.dated[7].from", 8},    // index out of range: the list's key
		{"timezone.deeper", 1},         // below a scalar
		{"shifts[0]", 2},               // an index into a mapping
		{"nope", 1},                    // the root
		{"assign.dated[x]", 1},         // malformed: the root
		{"assign.dated[0", 1},          // malformed: the root
		{"[0]", 1},                     // an index into the root mapping
		{"assign..default", 7},         // empty segments are skipped
		{"assign.dated.[1].employee", 11},
	}
	for _, root := range []*yaml.Node{&doc1, doc1.Content[0]} {
		for _, tt := range tests {
			if got := LineOf(root, tt.path); got != tt.want {
				t.Errorf("LineOf(%q) = %d, want %d", tt.path, got, tt.want)
			}
		}
	}
	if got := LineOf(nil, "a"); got != 0 {
		t.Errorf("LineOf(nil) = %d, want 0", got)
	}
}
