package wecom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// WeCom's pages show most numbers as JSON numbers, but its own samples
// quote some of them (getapprovalinfo's starttime "1569546000", sp_no as a
// number in one sample and a string in another), and an approval's SpNo
// outgrew 32 bits long ago. The types below accept either form, so that a
// change of mind on the platform side never breaks a pull.

// unquote returns the text of a JSON string or the raw token of anything
// else, and whether the value was null.
func unquote(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return "", true, nil
	}
	if b[0] == '"' {
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
	// Whole numbers sometimes arrive as 1.5e9 or "65.0".
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("wecom: %q is not a number", s)
	}
	*f = flexInt(v)
	return nil
}

// flexString is a string that may arrive as a number (sp_no); numbers keep
// their exact decimal text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	s, _, err := unquote(b)
	*f = flexString(s)
	return err
}
