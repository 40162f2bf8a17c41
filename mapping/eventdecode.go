package mapping

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// UnmarshalEvent decodes data into *e with the result json.Unmarshal would
// give. Reconciliation decodes every stored event of the days it computes,
// and through reflection that was the largest part of its CPU; the ledger's
// bodies are all written by AppendJSON, so a reader of just that form —
// known keys, no whitespace, strings without escapes — decodes nearly
// every one directly. Anything else (an escape, an unknown or repeated key,
// a null, a malformed document) is handed to json.Unmarshal whole, so that
// what the reader accepts it decodes exactly as encoding/json does, which
// TestUnmarshalEventMatchesEncodingJSON and FuzzUnmarshalEvent check.
func UnmarshalEvent(data []byte, e *Event) error {
	// The event's strings are cut from one copy of data: one allocation
	// instead of one a field.
	d := canonDecoder{b: data, s: string(data)}
	var fast Event
	if d.event(&fast) && d.i == len(d.b) {
		*e = fast
		return nil
	}
	*e = Event{}
	return json.Unmarshal(data, e)
}

// canonDecoder reads the canonical form of events and day records; any
// method that meets something else returns false and the caller falls
// back to encoding/json.
type canonDecoder struct {
	b []byte
	s string // b as a string
	i int
}

// object reads {"key":value,...}, calling field for each key with the
// decoder at its value. Repeated keys are refused: encoding/json merges a
// repeated object into the first, which this reader does not copy.
func (d *canonDecoder) object(field func(key string) bool) bool {
	if !d.lit('{') {
		return false
	}
	if d.lit('}') {
		return true
	}
	var seen [20]string // a day record has 18 keys
	n := 0
	for {
		key, ok := d.str()
		if !ok || !d.lit(':') {
			return false
		}
		for _, k := range seen[:n] {
			if k == key {
				return false
			}
		}
		if n == len(seen) {
			return false
		}
		seen[n] = key
		n++
		if !field(key) {
			return false
		}
		if d.lit('}') {
			return true
		}
		if !d.lit(',') {
			return false
		}
	}
}

func (d *canonDecoder) lit(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, in valid
// UTF-8: what encoding/json would decode to the same bytes.
func (d *canonDecoder) str() (string, bool) {
	if !d.lit('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// time reads a time as time.Time's UnmarshalJSON does, which is what
// encoding/json calls.
func (d *canonDecoder) time(t *time.Time) bool {
	start := d.i
	if _, ok := d.str(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

// number reads a JSON number token and returns its text.
func (d *canonDecoder) number() (string, bool) {
	start := d.i
	d.lit('-')
	switch {
	case d.lit('0'):
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return "", false
	}
	if d.lit('.') && !d.digits() {
		return "", false
	}
	if d.lit('e') || d.lit('E') {
		if !d.lit('+') {
			d.lit('-')
		}
		if !d.digits() {
			return "", false
		}
	}
	return d.s[start:d.i], true
}

func (d *canonDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

func (d *canonDecoder) float(p **float64) bool {
	s, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	*p = &v
	return true
}

// integer reads a number into an int as encoding/json does: digits only,
// within the int's range.
func (d *canonDecoder) integer(v *int) bool {
	s, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || int64(int(n)) != n {
		return false
	}
	*v = int(n)
	return true
}

func (d *canonDecoder) boolean(v *bool) bool {
	switch {
	case d.word("true"):
		*v = true
	case d.word("false"):
		*v = false
	default:
		return false
	}
	return true
}

func (d *canonDecoder) word(w string) bool {
	if len(d.s)-d.i >= len(w) && d.s[d.i:d.i+len(w)] == w {
		d.i += len(w)
		return true
	}
	return false
}

// into reads a string into a string-kinded field.
func into[S ~string](d *canonDecoder, dst *S) bool {
	s, ok := d.str()
	*dst = S(s)
	return ok
}

func (d *canonDecoder) event(e *Event) bool {
	return d.object(func(key string) bool {
		switch key {
		case "schema":
			return into(d, &e.Schema)
		case "id":
			return into(d, &e.ID)
		case "kind":
			return into(d, &e.Kind)
		case "platform":
			return into(d, &e.Platform)
		case "connector":
			return into(d, &e.Connector)
		case "tenant":
			return into(d, &e.Tenant)
		case "user_id":
			return into(d, &e.UserID)
		case "employee_id":
			return into(d, &e.EmployeeID)
		case "time":
			return d.time(&e.Time)
		case "received_at":
			return d.time(&e.ReceivedAt)
		case "via":
			return into(d, &e.Via)
		case "punch":
			e.Punch = &Punch{}
			return d.punch(e.Punch)
		case "approval":
			e.Approval = &Approval{}
			return d.approval(e.Approval)
		case "makeup":
			e.Makeup = &Makeup{}
			return d.makeup(e.Makeup)
		}
		return false
	})
}

func (d *canonDecoder) punch(p *Punch) bool {
	return d.object(func(key string) bool {
		switch key {
		case "direction":
			return into(d, &p.Direction)
		case "method":
			return into(d, &p.Method)
		case "field":
			return d.boolean(&p.Field)
		case "lat":
			return d.float(&p.Lat)
		case "lng":
			return d.float(&p.Lng)
		case "accuracy_m":
			return d.float(&p.AccuracyM)
		case "datum":
			return into(d, &p.Datum)
		case "address":
			return into(d, &p.Address)
		case "device_id":
			return into(d, &p.DeviceID)
		case "wifi_bssid":
			return into(d, &p.WifiBSSID)
		case "wifi_ssid":
			return into(d, &p.WifiSSID)
		case "platform_result":
			return into(d, &p.PlatformResult)
		case "scheduled_at":
			p.ScheduledAt = new(time.Time)
			return d.time(p.ScheduledAt)
		case "uploaded_at":
			p.UploadedAt = new(time.Time)
			return d.time(p.UploadedAt)
		case "anomalies":
			return d.strings(&p.Anomalies)
		}
		return false
	})
}

func (d *canonDecoder) strings(dst *[]string) bool {
	if !d.lit('[') {
		return false
	}
	out := []string{}
	if !d.lit(']') {
		for {
			s, ok := d.str()
			if !ok {
				return false
			}
			out = append(out, s)
			if d.lit(']') {
				break
			}
			if !d.lit(',') {
				return false
			}
		}
	}
	*dst = out
	return true
}

func (d *canonDecoder) approval(a *Approval) bool {
	return d.object(func(key string) bool {
		switch key {
		case "type":
			return into(d, &a.Type)
		case "leave_type":
			return into(d, &a.LeaveType)
		case "status":
			return into(d, &a.Status)
		case "start":
			return d.time(&a.Start)
		case "end":
			return d.time(&a.End)
		case "duration_minutes":
			return d.integer(&a.DurationMinutes)
		case "approval_id":
			return into(d, &a.ApprovalID)
		}
		return false
	})
}

func (d *canonDecoder) makeup(m *Makeup) bool {
	return d.object(func(key string) bool {
		switch key {
		case "direction":
			return into(d, &m.Direction)
		case "status":
			return into(d, &m.Status)
		case "approval_id":
			return into(d, &m.ApprovalID)
		case "reason":
			return into(d, &m.Reason)
		}
		return false
	})
}
