package dingtalk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// DingTalk documents most numeric fields as String while its own samples
// return JSON numbers (platform API reference A2.2), and some sample answers
// even quote booleans and arrays. The types below accept either form, so
// that a change of mind on the platform side never breaks a pull.

// unquote returns the text of a JSON string or the raw token of anything
// else, and whether the value was null.
func unquote(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return "", true, nil
	}
	if b[0] == '"' {
		if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
			return strings.TrimSpace(string(b[1 : len(b)-1])), false, nil // no escapes: the common case
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		return strings.TrimSpace(s), false, nil
	}
	return string(b), false, nil
}

// flexInt is an integer sent as a number or a string; null and "" are 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s, null, err := unquote(b)
	if err != nil || null || s == "" {
		*f = 0
		return err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	// Some answers carry whole numbers as 1.5994e+12 or "65.0".
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("dingtalk: %q is not a number", s)
	}
	*f = flexInt(v)
	return nil
}

// flexFloat is a decimal sent as a number or a string; Set is false when the
// field was absent, null or "" (no coordinates for a machine punch).
type flexFloat struct {
	V   float64
	Set bool
}

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	s, null, err := unquote(b)
	if err != nil || null || s == "" {
		*f = flexFloat{}
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("dingtalk: %q is not a number", s)
	}
	*f = flexFloat{V: v, Set: true}
	return nil
}

// flexString is a string that may arrive as a number (ids such as
// approveId 2376620852); numbers keep their exact decimal text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	s, _, err := unquote(b)
	*f = flexString(s)
	return err
}

// flexBool is a boolean sent as true/false, "true"/"false", "Y"/"N" or 1/0.
// Set is false when the field was absent or empty.
type flexBool struct {
	V   bool
	Set bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s, null, err := unquote(b)
	if err != nil || null || s == "" {
		*f = flexBool{}
		return err
	}
	switch strings.ToLower(s) {
	case "true", "y", "yes", "1":
		*f = flexBool{V: true, Set: true}
	case "false", "n", "no", "0":
		*f = flexBool{V: false, Set: true}
	default:
		return fmt.Errorf("dingtalk: %q is not a boolean", s)
	}
	return nil
}

// flexInts is a list of integers sent as a JSON array (of numbers or
// strings) or as a string holding one ("[2,3,4]", as a documentation sample
// shows).
type flexInts []int64

func (f *flexInts) UnmarshalJSON(b []byte) error {
	s, null, err := unquote(b)
	if err != nil || null || s == "" {
		*f = nil
		return err
	}
	var items []flexInt
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return fmt.Errorf("dingtalk: %q is not a list of numbers", s)
	}
	out := make([]int64, len(items))
	for i, v := range items {
		out[i] = int64(v)
	}
	*f = out
	return nil
}
