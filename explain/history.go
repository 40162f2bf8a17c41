package explain

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/punchbridge/punchbridge/mapping"
)

// Version is one stored version of a day record and what changed from the
// version before it.
type Version struct {
	Version int               `json:"version"`
	Status  mapping.DayStatus `json:"status"`
	// Changes are the fields that differ from the previous version, in
	// the record's field order; empty for version 1.
	Changes []Change          `json:"changes"`
	Record  mapping.DayRecord `json:"record"`
}

// Change is one field of a day record that changed between two versions.
// From and To are the JSON values, with strings unquoted and absent fields
// as "none".
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// history turns the stored versions, oldest first, into Versions.
func history(recs []mapping.DayRecord) []Version {
	out := make([]Version, len(recs))
	for i, r := range recs {
		out[i] = Version{Version: r.Version, Status: r.Status, Changes: []Change{}, Record: r}
		if i > 0 {
			out[i].Changes = changes(recs[i-1], r)
		}
	}
	return out
}

// compared lists the JSON names of the DayRecord fields that a correction
// can change: all but the schema, the key and the version.
func compared() []string {
	var names []string
	t := reflect.TypeFor[mapping.DayRecord]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		switch name {
		case "", "-", "schema", "employee_id", "date", "shift", "version":
			continue
		}
		names = append(names, name)
	}
	return names
}

// changes lists the fields whose JSON differs between a and b.
func changes(a, b mapping.DayRecord) []Change {
	fa, fb := fields(a), fields(b)
	out := []Change{}
	for _, name := range compared() {
		if !bytes.Equal(fa[name], fb[name]) {
			out = append(out, Change{Field: name, From: show(fa[name]), To: show(fb[name])})
		}
	}
	return out
}

func fields(r mapping.DayRecord) map[string]json.RawMessage {
	data, err := json.Marshal(r)
	if err != nil {
		// A DayRecord holds only plain values; Marshal cannot fail.
		panic("explain: marshal day record: " + err.Error())
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		panic("explain: unmarshal day record: " + err.Error())
	}
	return m
}

// show renders a JSON value for a reader.
func show(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return "none"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}
