package dingtalk

import (
	"fmt"
	"sort"
	"strings"

	"github.com/punchbridge/punchbridge/config"
)

// validateCallback checks the HTTP push settings against what the
// developer console accepts (platform API reference A6, A7).
func (c Config) validateCallback() []error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	tok, key := c.Token.Reveal(), c.AESKey.Reveal()
	switch {
	case tok == "" && key != "":
		bad("token", "", "is required with aes_key: the 签名 token of the app's HTTP push settings")
	case tok != "" && (len(tok) > 64 || strings.ContainsAny(tok, " \t\r\n")):
		bad("token", "", "must be the console's token: at most 64 letters and digits, no spaces")
	}
	switch {
	case key == "" && tok != "":
		bad("aes_key", "", "is required with token: the 43-character 数据加密密钥 of the app's HTTP push settings")
	case key != "" && !isAESKey(key):
		bad("aes_key", "", fmt.Sprintf("must be 43 letters and digits (got %d characters): copy the 数据加密密钥 from the developer console", len(key)))
	}
	if strings.ContainsAny(c.OwnerKey, " \t/") {
		bad("owner_key", c.OwnerKey, "must be the app key (app-level subscription) or the corp id (organization-level), without spaces")
	}
	return errs
}

func isAESKey(k string) bool {
	if len(k) != 43 {
		return false
	}
	for _, r := range k {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// validateApprovals checks the process codes and the leave-type mapping;
// the inbound mapping they join is checked when it is compiled.
func (c Config) validateApprovals() []error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	owner := map[string]string{}
	types := c.Approvals.byType()
	names := make([]string, 0, len(types))
	for typ := range types {
		names = append(names, typ)
	}
	sort.Strings(names)
	for _, typ := range names {
		for i, code := range types[typ] {
			path := fmt.Sprintf("approvals.%s[%d]", typ, i)
			switch {
			case strings.TrimSpace(code) == "" || strings.ContainsAny(code, " \t"):
				bad(path, code, "must be a process code such as PROC-EF6YJQ2L-...: open the template in the approval admin console and copy it from the URL")
			case owner[code] != "":
				bad(path, code, "is already listed under approvals."+owner[code]+"; a template has one meaning")
			default:
				owner[code] = typ
			}
		}
	}
	keys := make([]string, 0, len(c.LeaveTypes))
	for k := range c.LeaveTypes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.TrimSpace(c.LeaveTypes[k]) == "" {
			bad("leave_types."+k, "", "must be the HR code for this leave type, e.g. SICK")
		}
	}
	return errs
}
