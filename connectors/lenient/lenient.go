// Package lenient decodes the JSON of platform APIs that are inconsistent
// about types: DingTalk documents most numeric fields as strings while its
// own samples return numbers (and some answers quote booleans and arrays);
// WeCom's pages show numbers while its samples quote some of them, and an
// approval's SpNo outgrew 32 bits long ago. The types here accept either
// form, so that a change of mind on the platform side never breaks a pull.
package lenient

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A RawDecoder decodes a raw JSON value held in a string, as gjson hands
// values over, without the copy to []byte that UnmarshalJSON needs. Every
// type here is one; what DecodeRaw stores may share raw's memory.
type RawDecoder interface {
	DecodeRaw(raw string) error
}

var (
	_ RawDecoder = (*Int)(nil)
	_ RawDecoder = (*Float)(nil)
	_ RawDecoder = (*String)(nil)
	_ RawDecoder = (*Bool)(nil)
	_ RawDecoder = (*Ints)(nil)
)

// unquote returns the text of a JSON string or the raw token of anything
// else, and whether the value was null.
func unquote(raw string) (string, bool, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return "", true, nil
	}
	if raw[0] == '"' {
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && strings.IndexByte(raw, '\\') < 0 {
			return strings.TrimSpace(raw[1 : len(raw)-1]), false, nil // no escapes: the common case
		}
		var s string
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return "", false, err
		}
		return strings.TrimSpace(s), false, nil
	}
	return raw, false, nil
}

// Int is an integer sent as a number or a string; null and "" are 0.
type Int int64

// UnmarshalJSON accepts the value as a JSON number, string or null.
func (f *Int) UnmarshalJSON(b []byte) error { return f.DecodeRaw(string(b)) }

// DecodeRaw implements RawDecoder.
func (f *Int) DecodeRaw(raw string) error {
	s, null, err := unquote(raw)
	if err != nil || null || s == "" {
		*f = 0
		return err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = Int(n)
		return nil
	}
	// Some answers carry whole numbers as 1.5994e+12 or "65.0".
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("lenient: %q is not a number", s)
	}
	*f = Int(v)
	return nil
}

// Float is a decimal sent as a number or a string; Set is false when the
// field was absent, null or "" (no coordinates for a machine punch).
type Float struct {
	V   float64
	Set bool
}

// UnmarshalJSON accepts the value as a JSON number, string or null.
func (f *Float) UnmarshalJSON(b []byte) error { return f.DecodeRaw(string(b)) }

// DecodeRaw implements RawDecoder.
func (f *Float) DecodeRaw(raw string) error {
	s, null, err := unquote(raw)
	if err != nil || null || s == "" {
		*f = Float{}
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("lenient: %q is not a number", s)
	}
	*f = Float{V: v, Set: true}
	return nil
}

// String is a string that may arrive as a number (ids such as
// approveId 2376620852); numbers keep their exact decimal text.
type String string

// UnmarshalJSON accepts the value as a JSON number, string or null.
func (f *String) UnmarshalJSON(b []byte) error { return f.DecodeRaw(string(b)) }

// DecodeRaw implements RawDecoder.
func (f *String) DecodeRaw(raw string) error {
	s, _, err := unquote(raw)
	*f = String(s)
	return err
}

// Bool is a boolean sent as true/false, "true"/"false", "Y"/"N" or 1/0.
// Set is false when the field was absent or empty.
type Bool struct {
	V   bool
	Set bool
}

// UnmarshalJSON accepts the value as a JSON number, string or null.
func (f *Bool) UnmarshalJSON(b []byte) error { return f.DecodeRaw(string(b)) }

// DecodeRaw implements RawDecoder.
func (f *Bool) DecodeRaw(raw string) error {
	s, null, err := unquote(raw)
	if err != nil || null || s == "" {
		*f = Bool{}
		return err
	}
	switch strings.ToLower(s) {
	case "true", "y", "yes", "1":
		*f = Bool{V: true, Set: true}
	case "false", "n", "no", "0":
		*f = Bool{V: false, Set: true}
	default:
		return fmt.Errorf("lenient: %q is not a boolean", s)
	}
	return nil
}

// Ints is a list of integers sent as a JSON array (of numbers or
// strings) or as a string holding one ("[2,3,4]", as a documentation sample
// shows).
type Ints []int64

// UnmarshalJSON accepts the value as a JSON number, string or null.
func (f *Ints) UnmarshalJSON(b []byte) error { return f.DecodeRaw(string(b)) }

// DecodeRaw implements RawDecoder.
func (f *Ints) DecodeRaw(raw string) error {
	s, null, err := unquote(raw)
	if err != nil || null || s == "" {
		*f = nil
		return err
	}
	var items []Int
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return fmt.Errorf("lenient: %q is not a list of numbers", s)
	}
	out := make([]int64, len(items))
	for i, v := range items {
		out[i] = int64(v)
	}
	*f = out
	return nil
}
