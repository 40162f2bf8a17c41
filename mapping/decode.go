package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Known JSON keys per object; anything else is rejected, because a typo in a
// field name would otherwise silently drop data.
var (
	eventKeys    = keySet("schema", "id", "kind", "platform", "connector", "tenant", "user_id", "employee_id", "time", "received_at", "via", "punch", "approval", "makeup")
	punchKeys    = keySet("direction", "method", "field", "lat", "lng", "accuracy_m", "datum", "address", "device_id", "wifi_bssid", "wifi_ssid", "platform_result", "scheduled_at", "uploaded_at", "anomalies")
	approvalKeys = keySet("type", "leave_type", "status", "start", "end", "duration_minutes", "approval_id")
	makeupKeys   = keySet("direction", "status", "approval_id", "reason")
)

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// DecodeEvent parses one JSON event strictly and validates it. Unknown
// fields, wrong JSON types and unparseable times are reported like every
// other rule: a *ValidationError naming the field and the value. On a
// validation failure the partially decoded event is returned too, so that
// the caller can store it as rejected under its id.
func DecodeEvent(data []byte) (Event, error) {
	var c checker
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Event{}, &ValidationError{Errors: []FieldError{{Field: "(event)", Value: abbreviate(data), Reason: "is not a JSON object: " + err.Error()}}}
	}
	var e Event
	checkKeys(&c, "", raw, eventKeys)
	str(&c, raw, "schema", &e.Schema)
	str(&c, raw, "id", &e.ID)
	str(&c, raw, "platform", &e.Platform)
	str(&c, raw, "connector", &e.Connector)
	str(&c, raw, "tenant", &e.Tenant)
	str(&c, raw, "user_id", &e.UserID)
	str(&c, raw, "employee_id", &e.EmployeeID)
	strAs(&c, raw, "kind", &e.Kind)
	strAs(&c, raw, "via", &e.Via)
	tm(&c, raw, "time", &e.Time)
	tm(&c, raw, "received_at", &e.ReceivedAt)
	if obj := object(&c, raw, "punch", punchKeys); obj != nil {
		e.Punch = decodePunch(&c, obj)
	}
	if obj := object(&c, raw, "approval", approvalKeys); obj != nil {
		e.Approval = decodeApproval(&c, obj)
	}
	if obj := object(&c, raw, "makeup", makeupKeys); obj != nil {
		m := &Makeup{}
		strAs(&c, obj, "makeup.direction", &m.Direction)
		strAs(&c, obj, "makeup.status", &m.Status)
		str(&c, obj, "makeup.approval_id", &m.ApprovalID)
		str(&c, obj, "makeup.reason", &m.Reason)
		e.Makeup = m
	}
	if err := Validate(e); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			c.errs = append(c.errs, ve.Errors...)
		}
	}
	if len(c.errs) > 0 {
		return e, &ValidationError{ID: e.ID, Errors: dedupeErrors(c.errs)}
	}
	return e, nil
}

func decodePunch(c *checker, obj map[string]json.RawMessage) *Punch {
	p := &Punch{}
	strAs(c, obj, "punch.direction", &p.Direction)
	str(c, obj, "punch.method", &p.Method)
	val(c, obj, "punch.field", &p.Field)
	p.Lat = num(c, obj, "punch.lat")
	p.Lng = num(c, obj, "punch.lng")
	p.AccuracyM = num(c, obj, "punch.accuracy_m")
	str(c, obj, "punch.datum", &p.Datum)
	str(c, obj, "punch.address", &p.Address)
	str(c, obj, "punch.device_id", &p.DeviceID)
	str(c, obj, "punch.wifi_bssid", &p.WifiBSSID)
	str(c, obj, "punch.wifi_ssid", &p.WifiSSID)
	str(c, obj, "punch.platform_result", &p.PlatformResult)
	val(c, obj, "punch.anomalies", &p.Anomalies)
	p.ScheduledAt = optTime(c, obj, "punch.scheduled_at")
	p.UploadedAt = optTime(c, obj, "punch.uploaded_at")
	return p
}

// optTime decodes an optional time field; absent or unparseable gives nil.
func optTime(c *checker, obj map[string]json.RawMessage, field string) *time.Time {
	if _, ok := obj[leaf(field)]; !ok {
		return nil
	}
	var t time.Time
	tm(c, obj, field, &t)
	if t.IsZero() {
		return nil
	}
	return &t
}

func decodeApproval(c *checker, obj map[string]json.RawMessage) *Approval {
	a := &Approval{}
	str(c, obj, "approval.type", &a.Type)
	str(c, obj, "approval.leave_type", &a.LeaveType)
	strAs(c, obj, "approval.status", &a.Status)
	tm(c, obj, "approval.start", &a.Start)
	tm(c, obj, "approval.end", &a.End)
	val(c, obj, "approval.duration_minutes", &a.DurationMinutes)
	str(c, obj, "approval.approval_id", &a.ApprovalID)
	return a
}

// leaf returns the last element of a dotted field path: the JSON key.
func leaf(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}

func checkKeys(c *checker, prefix string, raw map[string]json.RawMessage, known map[string]bool) {
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		c.add(prefix+k, abbreviate(raw[k]), "is not a field of "+EventSchema+" (check the spelling; remove it or map it elsewhere)")
	}
}

func object(c *checker, raw map[string]json.RawMessage, key string, known map[string]bool) map[string]json.RawMessage {
	b, ok := raw[key]
	if !ok || bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		c.add(key, abbreviate(b), "must be a JSON object")
		return nil
	}
	checkKeys(c, key+".", obj, known)
	return obj
}

func val(c *checker, raw map[string]json.RawMessage, field string, dst any) {
	b, ok := raw[leaf(field)]
	if !ok {
		return
	}
	if err := json.Unmarshal(b, dst); err != nil {
		c.add(field, abbreviate(b), fmt.Sprintf("has the wrong JSON type (want %T)", dst))
	}
}

func str(c *checker, raw map[string]json.RawMessage, field string, dst *string) {
	val(c, raw, field, dst)
}

func strAs[T ~string](c *checker, raw map[string]json.RawMessage, field string, dst *T) {
	var s string
	val(c, raw, field, &s)
	*dst = T(s)
}

func num(c *checker, raw map[string]json.RawMessage, field string) *float64 {
	b, ok := raw[leaf(field)]
	if !ok || bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		c.add(field, abbreviate(b), "must be a number")
		return nil
	}
	return &f
}

func tm(c *checker, raw map[string]json.RawMessage, field string, dst *time.Time) {
	b, ok := raw[leaf(field)]
	if !ok {
		return
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		c.add(field, abbreviate(b), "must be a string in RFC 3339 with an offset, e.g. 2026-11-20T09:02:11+08:00")
		return
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		c.add(field, s, "does not parse as RFC 3339 with an offset, e.g. 2026-11-20T09:02:11+08:00")
		return
	}
	*dst = t
}

func abbreviate(b []byte) string {
	s := strings.TrimSpace(string(b))
	s = strings.Trim(s, `"`)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// dedupeErrors drops the "is required" complaints that Validate adds for a
// field the decoder already reported as malformed.
func dedupeErrors(errs []FieldError) []FieldError {
	bad := map[string]bool{}
	for _, e := range errs {
		if e.Value != "" {
			bad[e.Field] = true
		}
	}
	out := errs[:0]
	for _, e := range errs {
		if e.Value == "" && bad[e.Field] {
			continue
		}
		out = append(out, e)
	}
	return out
}
