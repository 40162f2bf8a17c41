package mapping

import (
	"math"
	"time"
)

// templateTypes are the keys of an inbound mapping's templates: table.
var templateTypes = map[string]bool{"leave": true, "overtime": true, "trip": true, "out": true, "makeup": true}

// inboundFields are the fields an inbound mapping may fill.
var inboundFields = []string{"type", "leave_type", "status", "start", "end", "duration_minutes", "direction", "time", "reason"}

// templateField is the hidden field that reads the template id from the
// payload when the mapping names a template: path.
const templateField = "\x00template"

// ApprovalFields is what an inbound mapping reads from one platform
// approval: enough for a connector to build an approval or makeup event.
// Times are instants; a connector still sets the event's id, user,
// approval id and the platform-specific status rules the mapping leaves
// out (an empty Status).
type ApprovalFields struct {
	// Kind is KindApproval or KindMakeup.
	Kind Kind `json:"kind"`
	// Type is leave, overtime, trip, out or other (approvals only).
	Type string `json:"type,omitempty"`
	// LeaveType is the HR leave code: the platform's leave name through
	// leave_types, or the name itself when the table has neither it nor a
	// default.
	LeaveType string `json:"leave_type,omitempty"`
	// LeaveName is the platform's leave name as the form gave it.
	LeaveName       string    `json:"leave_name,omitempty"`
	Status          Status    `json:"status,omitempty"`
	Start           time.Time `json:"start,omitzero"`
	End             time.Time `json:"end,omitzero"`
	DurationMinutes int       `json:"duration_minutes,omitempty"`
	// Direction and Time are the corrected punch of a make-up.
	Direction Direction `json:"direction,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// Template is the template id (process code) the type was read from,
	// when the templates: table decided it.
	Template string `json:"template,omitempty"`
}

// Inbound is a compiled inbound mapping: which approval templates mean
// what, where the form keeps the leave type, start, end and duration, and
// which HR code each platform leave name becomes. It is immutable and
// safe for concurrent use.
type Inbound struct {
	m            *Mapping
	idx          map[string]int // field name → index in m.fields
	templates    map[string]string
	leaveTypes   map[string]string
	leaveDefault string
	hasDefault   bool
}

// Mapping is the field mapping inside the inbound mapping.
func (in *Inbound) Mapping() *Mapping { return in.m }

// TemplateType returns what a template id means (leave, overtime, trip,
// out, makeup), or "" when the templates: table does not list it.
func (in *Inbound) TemplateType(id string) string { return in.templates[id] }

// Templates lists the template ids of one type, for a connector that
// pulls approvals by template. The result is sorted.
func (in *Inbound) Templates(typ string) []string {
	var out []string
	for id, t := range in.templates {
		if t == typ {
			out = append(out, id)
		}
	}
	return sortStrings(out)
}

// Apply reads one approval payload. template is the template id (process
// code) the caller knows the payload by, or "" to read it from the
// mapping's template: path. The type comes from the templates: table,
// else from the type field; a payload with neither is not attendance, and
// Apply returns ErrSkip. Every field that fails is reported in one
// *ApplyError.
func (in *Inbound) Apply(template string, raw []byte) (ApprovalFields, error) {
	vals, errs, err := in.m.evalAll(raw)
	if err != nil {
		return ApprovalFields{}, err
	}
	get := func(name string) mval {
		if i, ok := in.idx[name]; ok {
			return vals[i]
		}
		return mval{}
	}
	var a ApprovalFields
	if template == "" {
		template = get(templateField).text()
	}
	typ := in.templates[template]
	if typ != "" {
		a.Template = template
	} else {
		typ = get("type").text()
	}
	if typ == "" {
		if fe := fieldErr(errs, "type"); fe != nil {
			return a, &ApplyError{Mapping: in.m.name, Errors: []FieldError{*fe}}
		}
		return a, ErrSkip
	}
	add := func(field, value, reason string) {
		if fieldErr(errs, field) == nil {
			errs = append(errs, FieldError{Field: field, Value: value, Reason: reason})
		}
	}
	switch typ {
	case "makeup":
		a.Kind = KindMakeup
	case ApprovalLeave, ApprovalOvertime, ApprovalTrip, ApprovalOut, ApprovalOther:
		a.Kind, a.Type = KindApproval, typ
	default:
		add("type", typ, "must be leave, overtime, trip, out, other or makeup; translate the platform's value with map:")
	}
	if a.Type == ApprovalLeave {
		a.LeaveName = get("leave_type").text()
		a.LeaveType = in.leaveCode(a.LeaveName)
	}
	if s := get("status").text(); s != "" {
		if !contains(statuses, s) {
			add("status", s, "must be pending, approved, rejected or revoked; translate the platform's value with map:")
		}
		a.Status = Status(s)
	}
	a.Start = in.instant(get("start"), "start", add)
	a.End = in.instant(get("end"), "end", add)
	a.Time = in.instant(get("time"), "time", add)
	if v := get("duration_minutes"); v.present() {
		n, _, reason := toNumber(v)
		if reason != "" || n.n < 0 {
			add("duration_minutes", v.shown(), "must be a number of minutes, 0 or more; convert with unit:")
		} else {
			a.DurationMinutes = int(math.Round(n.n))
		}
	}
	if d := get("direction").text(); d != "" {
		if !contains(directions, d) {
			add("direction", d, "must be in, out or unknown; translate the platform's value with map: or contains:")
		}
		a.Direction = Direction(d)
	}
	a.Reason = get("reason").text()
	switch a.Kind {
	case KindApproval:
		if a.Start.IsZero() {
			add("start", "", "is required for a "+typ+" approval; map it in fields.start")
		}
		if a.End.IsZero() {
			add("end", "", "is required for a "+typ+" approval; map it in fields.end")
		}
	case KindMakeup:
		if a.Time.IsZero() {
			add("time", "", "is required for a make-up: the corrected punch; map it in fields.time")
		}
		if a.Direction == "" {
			a.Direction = DirUnknown
		}
	}
	if len(errs) > 0 {
		return a, &ApplyError{Mapping: in.m.name, Errors: errs}
	}
	return a, nil
}

// leaveCode translates a platform leave name to an HR code.
func (in *Inbound) leaveCode(name string) string {
	if name == "" {
		return ""
	}
	if code, ok := in.leaveTypes[name]; ok {
		return code
	}
	if in.hasDefault {
		return in.leaveDefault
	}
	return name
}

// instant reads an RFC 3339 time written by a format transform.
func (in *Inbound) instant(v mval, field string, add func(field, value, reason string)) time.Time {
	if !v.present() {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v.text())
	if err != nil {
		add(field, v.shown(), "must be an RFC 3339 time; end the field's transforms with - format: {from: ..., layout: RFC3339}")
		return time.Time{}
	}
	return t
}

func fieldErr(errs []FieldError, field string) *FieldError {
	for i := range errs {
		if errs[i].Field == field {
			return &errs[i]
		}
	}
	return nil
}
