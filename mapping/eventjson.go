package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// An event is encoded on every ingest twice: once as the ledger's stored
// JSON and once, without its arrival facts, for its fingerprint. Through
// encoding/json's reflection that was a tenth of a webhook's CPU. The
// encoder here writes the same bytes as json.Marshal(Event) — the stored
// bodies and every fingerprint already in a ledger depend on that — and
// TestAppendJSONMatchesEncodingJSON and FuzzAppendJSON hold it to them.

// AppendJSON appends e's JSON encoding to b: byte for byte what
// json.Marshal(e) returns, so that stored bodies and fingerprints do not
// depend on which of the two wrote them. It fails where json.Marshal fails:
// on a NaN or infinite coordinate and on a time json cannot encode (a year
// outside 0–9999), and then what it appended to b is not JSON.
func (e *Event) AppendJSON(b []byte) ([]byte, error) {
	return e.appendJSON(b, false)
}

// Fingerprint hashes the facts of an event: everything except how and when it
// arrived (via, received_at, connector) and the employee id, which identity
// mapping may fill in later. Two copies with the same id and fingerprint are
// duplicates; the same id with another fingerprint is a new revision.
func Fingerprint(e Event) string {
	fp, _ := AppendFingerprint(nil, &e)
	return fp
}

// AppendFingerprint returns e's Fingerprint, encoding e into scratch (which
// may be nil) and returning it for the next call, so that a caller
// fingerprinting a batch encodes every event into one buffer.
func AppendFingerprint(scratch []byte, e *Event) (string, []byte) {
	b, err := e.appendJSON(scratch[:0], true)
	if err != nil {
		// A fingerprint has no error to return; an event that cannot be
		// encoded cannot be stored either, and validation refuses it first.
		panic("mapping: marshal event: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), b
}

// appendJSON encodes e. facts leaves out what Fingerprint ignores (via,
// received_at, connector, employee_id) and writes every time in UTC, as
// encoding the zeroed, UTC copy of e would.
func (e *Event) appendJSON(b []byte, facts bool) ([]byte, error) {
	var err error
	b = append(b, `{"schema":`...)
	b = appendString(b, e.Schema, true)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID, true)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(e.Kind), true)
	b = append(b, `,"platform":`...)
	b = appendString(b, e.Platform, true)
	b = append(b, `,"connector":`...)
	if !facts {
		b = appendString(b, e.Connector, true)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"tenant":`...)
	b = appendString(b, e.Tenant, true)
	b = append(b, `,"user_id":`...)
	b = appendString(b, e.UserID, true)
	if e.EmployeeID != "" && !facts {
		b = append(b, `,"employee_id":`...)
		b = appendString(b, e.EmployeeID, true)
	}
	b = append(b, `,"time":`...)
	if b, err = appendTime(b, e.Time, facts); err != nil {
		return b, fmt.Errorf("json: event time: %w", err)
	}
	b = append(b, `,"received_at":`...)
	if !facts {
		if b, err = appendTime(b, e.ReceivedAt, false); err != nil {
			return b, fmt.Errorf("json: event received_at: %w", err)
		}
		b = append(b, `,"via":`...)
		b = appendString(b, string(e.Via), true)
	} else {
		b = append(b, `"0001-01-01T00:00:00Z","via":""`...)
	}
	if e.Punch != nil {
		b = append(b, `,"punch":`...)
		if b, err = e.Punch.appendJSON(b, facts); err != nil {
			return b, err
		}
	}
	if a := e.Approval; a != nil {
		b = append(b, `,"approval":{"type":`...)
		b = appendString(b, a.Type, true)
		if a.LeaveType != "" {
			b = append(b, `,"leave_type":`...)
			b = appendString(b, a.LeaveType, true)
		}
		b = append(b, `,"status":`...)
		b = appendString(b, string(a.Status), true)
		b = append(b, `,"start":`...)
		if b, err = appendTime(b, a.Start, facts); err != nil {
			return b, fmt.Errorf("json: approval start: %w", err)
		}
		b = append(b, `,"end":`...)
		if b, err = appendTime(b, a.End, facts); err != nil {
			return b, fmt.Errorf("json: approval end: %w", err)
		}
		if a.DurationMinutes != 0 {
			b = append(b, `,"duration_minutes":`...)
			b = strconv.AppendInt(b, int64(a.DurationMinutes), 10)
		}
		b = append(b, `,"approval_id":`...)
		b = appendString(b, a.ApprovalID, true)
		b = append(b, '}')
	}
	if m := e.Makeup; m != nil {
		b = append(b, `,"makeup":{"direction":`...)
		b = appendString(b, string(m.Direction), true)
		b = append(b, `,"status":`...)
		b = appendString(b, string(m.Status), true)
		b = append(b, `,"approval_id":`...)
		b = appendString(b, m.ApprovalID, true)
		if m.Reason != "" {
			b = append(b, `,"reason":`...)
			b = appendString(b, m.Reason, true)
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func (p *Punch) appendJSON(b []byte, utc bool) ([]byte, error) {
	var err error
	b = append(b, `{"direction":`...)
	b = appendString(b, string(p.Direction), true)
	b = append(b, `,"method":`...)
	b = appendString(b, p.Method, true)
	b = append(b, `,"field":`...)
	b = strconv.AppendBool(b, p.Field)
	for _, f := range [...]struct {
		key string
		v   *float64
	}{{`,"lat":`, p.Lat}, {`,"lng":`, p.Lng}, {`,"accuracy_m":`, p.AccuracyM}} {
		if f.v == nil {
			continue
		}
		b = append(b, f.key...)
		if b, err = appendFloat(b, *f.v); err != nil {
			return b, fmt.Errorf("json: punch %s %w", f.key[2:len(f.key)-2], err)
		}
	}
	for _, f := range [...]struct{ key, v string }{
		{`,"datum":`, p.Datum}, {`,"address":`, p.Address}, {`,"device_id":`, p.DeviceID},
		{`,"wifi_bssid":`, p.WifiBSSID}, {`,"wifi_ssid":`, p.WifiSSID}, {`,"platform_result":`, p.PlatformResult},
	} {
		if f.v != "" {
			b = append(b, f.key...)
			b = appendString(b, f.v, true)
		}
	}
	if p.ScheduledAt != nil {
		b = append(b, `,"scheduled_at":`...)
		if b, err = appendTime(b, *p.ScheduledAt, utc); err != nil {
			return b, fmt.Errorf("json: punch scheduled_at: %w", err)
		}
	}
	if p.UploadedAt != nil {
		b = append(b, `,"uploaded_at":`...)
		if b, err = appendTime(b, *p.UploadedAt, utc); err != nil {
			return b, fmt.Errorf("json: punch uploaded_at: %w", err)
		}
	}
	if len(p.Anomalies) > 0 {
		b = append(b, `,"anomalies":`...)
		b = appendStrings(b, p.Anomalies)
	}
	return append(b, '}'), nil
}

// appendTime writes t as time.Time's MarshalJSON does, in UTC when utc is
// set.
func appendTime(b []byte, t time.Time, utc bool) ([]byte, error) {
	if utc {
		t = t.UTC()
	}
	b = append(b, '"')
	b, err := t.AppendText(b)
	return append(b, '"'), err
}

// errFloat is json.Marshal's refusal of a number JSON cannot hold.
var errFloat = errors.New("is not a JSON number")

// appendFloat writes f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from 1e21
// on, with a one-digit negative exponent not padded ("1e-7").
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%s %w", strconv.FormatFloat(f, 'g', -1, 64), errFloat)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as json.Marshal writes a string: quoted,
// invalid UTF-8 replaced by U+FFFD, and <, >, &, U+2028 and U+2029
// escaped. It is for code that writes a small JSON document by hand on a
// hot path and must match what encoding/json would have written.
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s, true) }

// appendString writes s as a JSON string the way encoding/json does:
// invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped for
// JavaScript, and, when html is set (as in json.Marshal), HTML's <, > and &.
func appendString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
