package mapping

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Input names a mapping may declare besides the two Punchbridge schemas.
const (
	// InputDingTalkInstance is the result object of DingTalk's v1.0 get
	// process instance (workflow/processInstances): title, status,
	// result, formComponentValues[] ...
	InputDingTalkInstance = "dingtalk.process_instance"
	// InputWeComApproval is the info object of WeCom's
	// oa/getapprovaldetail: sp_no, sp_status, template_id,
	// apply_data.contents[] ...
	InputWeComApproval = "wecom.approval_detail"
	// InputJSON is any JSON object, for payloads Punchbridge does not
	// know by name.
	InputJSON = "json"
)

// inputs lists the input names a mapping may declare.
var inputs = []string{EventSchema, DaySchema, InputDingTalkInstance, InputWeComApproval, InputJSON}

// Known fields of the Punchbridge schemas, by parent object, so that a
// typo in a source path is caught at load rather than mapping to nothing.
var (
	dayKeys     = keySet("schema", "employee_id", "date", "shift", "status", "first_in", "last_out", "worked_minutes", "late", "late_minutes", "early_exit", "early_exit_minutes", "overtime_minutes", "leave_minutes", "missing", "anomalies", "events", "version")
	anomalyKeys = keySet("type", "event_id", "detail")
)

// schemaPathProblem checks a plain dotted source path against the schema
// the mapping reads; it returns what is wrong, or "". Paths with gjson
// syntax beyond plain keys are not checked.
func schemaPathProblem(input, path string) string {
	if strings.ContainsAny(path, `*?#@|\!=<>()[]{},"`) {
		return ""
	}
	segs := strings.Split(path, ".")
	var top map[string]bool
	switch input {
	case EventSchema:
		top = eventKeys
	case DaySchema:
		top = dayKeys
	default:
		return ""
	}
	if !top[segs[0]] {
		return unknownKey(segs[0], input, top)
	}
	if len(segs) == 1 {
		return ""
	}
	var sub map[string]bool
	switch {
	case input == EventSchema && segs[0] == "punch":
		sub = punchKeys
	case input == EventSchema && segs[0] == "approval":
		sub = approvalKeys
	case input == EventSchema && segs[0] == "makeup":
		sub = makeupKeys
	case input == DaySchema && segs[0] == "anomalies" && len(segs) == 3:
		if !isIndex(segs[1]) {
			return "anomalies is a list; write anomalies.0.type or anomalies.#.type"
		}
		sub, segs = anomalyKeys, segs[1:]
	default:
		return ""
	}
	if len(segs) == 2 && !sub[segs[1]] {
		return unknownKey(segs[1], input+" "+segs[0], sub)
	}
	return ""
}

func unknownKey(key, where string, known map[string]bool) string {
	msg := key + " is not a field of " + where
	if near := nearest(key, sortedKeys(known)); near != "" {
		return msg + "; did you mean " + near + "?"
	}
	return msg + "; its fields are " + strings.Join(sortedKeys(known), ", ")
}

func isIndex(s string) bool {
	if s == "" || s == "#" {
		return s == "#"
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// path is a compiled gjson source path. A path whose first segment is a
// plain key is read from the values a single pass over the input's top
// level collected (top >= 0), the rest of it from that value; any other
// path is handed to gjson whole. Reading one object once instead of
// scanning it from the start for every field is what keeps a mapping of
// many fields fast.
type path struct {
	full string
	top  int    // index into the reader's top-level keys; -1: use full
	rest string // the path below the top-level key; "" for the key itself
}

// reader collects the top-level keys the compiled paths need.
type reader struct {
	keys  []string
	index map[string]int
}

func newReader() *reader { return &reader{index: map[string]int{}} }

// compile turns a gjson path into a path.
func (r *reader) compile(p string) path {
	first, rest, dotted := strings.Cut(p, ".")
	if !plainKey(first) || (dotted && rest == "") {
		return path{full: p, top: -1}
	}
	i, ok := r.index[first]
	if !ok {
		i = len(r.keys)
		r.keys = append(r.keys, first)
		r.index[first] = i
	}
	return path{full: p, top: i, rest: rest}
}

// plainKey reports whether s is a key gjson reads literally.
func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// doc is one input being mapped: its JSON and the top-level values found
// in one pass.
type doc struct {
	json string
	tops []gjson.Result
}

// load scans json's top-level object once and keeps the values of the
// keys r needs; the first occurrence of a key wins, as in gjson.
func (r *reader) load(json string, tops []gjson.Result) doc {
	d := doc{json: json, tops: tops}
	if len(r.keys) == 0 {
		return d
	}
	found := 0
	gjson.Parse(json).ForEach(func(k, v gjson.Result) bool {
		if i, ok := r.index[k.Str]; ok && !d.tops[i].Exists() {
			d.tops[i] = v
			found++
		}
		return found < len(r.keys)
	})
	return d
}

// get reads p from the document.
func (d *doc) get(p *path) gjson.Result {
	if p.top < 0 {
		return gjson.Get(d.json, p.full)
	}
	v := d.tops[p.top]
	if p.rest == "" || !v.Exists() {
		return v
	}
	return v.Get(p.rest)
}
