package wecom

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

// Validate checks every setting and returns one *config.FieldError per
// problem (joined), each naming the key, the value and the fix. Secrets
// are never put in a message.
func (c Config) Validate() error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	switch {
	case strings.TrimSpace(c.CorpID) == "":
		bad("corp_id", c.CorpID, "is required: the corp's 企业ID (starts with ww), from 我的企业 - 企业信息")
	case strings.ContainsAny(c.CorpID, "/ \t"):
		bad("corp_id", c.CorpID, "must not contain '/' or spaces: it becomes part of every event id")
	}
	if strings.TrimSpace(c.CheckinSecret.Reveal()) == "" {
		bad("checkin_secret", "", "is required: the secret of an app listed in 打卡 - 可调用接口的应用, e.g. checkin_secret: ${WECOM_CHECKIN_SECRET}")
	}
	if strings.TrimSpace(c.ContactsSecret.Reveal()) == "" {
		bad("contacts_secret", "", "is required: the 通讯录同步 secret (管理工具 - 通讯录同步), e.g. contacts_secret: ${WECOM_CONTACTS_SECRET}")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("base_url", c.BaseURL, "must be an http(s) URL without a query, e.g. https://qyapi.weixin.qq.com")
		}
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		switch {
		case strings.TrimSpace(u) == "":
			bad(path, u, "must be a WeCom userid; remove the empty entry")
		case seen[strings.ToLower(u)]:
			bad(path, u, "is listed twice (userids are case-insensitive); remove the repeat")
		}
		seen[strings.ToLower(u)] = true
	}
	if c.EmployeeField != "" {
		if _, _, err := parseEmployeeField(c.EmployeeField); err != nil {
			bad("employee_field", c.EmployeeField, err.Error())
		}
	}
	errs = append(errs, c.validateCallback()...)
	errs = append(errs, c.validateLimits()...)
	if c.Concurrency < 0 || c.Concurrency > 64 {
		bad("concurrency", strconv.Itoa(c.Concurrency), "must be between 1 and 64, e.g. 4")
	}
	for i, id := range c.ApprovalTemplates {
		if strings.TrimSpace(id) == "" {
			bad(fmt.Sprintf("approval_templates[%d]", i), id, "must be a template id; remove the empty entry")
		}
	}
	if c.ApprovalLookback != nil && *c.ApprovalLookback < 0 {
		bad("approval_lookback", c.ApprovalLookback.String(), "must not be negative, e.g. 168h")
	}
	for _, name := range sortedKeys(c.LeaveTypes) {
		if strings.TrimSpace(c.LeaveTypes[name]) == "" {
			bad("leave_types."+name, "", "needs the HR code of the leave type, e.g. 病假: SICK")
		}
	}
	if c.Timeout < 0 {
		bad("timeout", c.Timeout.String(), "must be positive, e.g. 10s")
	}
	if c.RetryWait < 0 {
		bad("retry_wait", c.RetryWait.String(), "must be positive, e.g. 1s")
	}
	return errors.Join(errs...)
}

// validateCallback checks the callback settings: all or nothing, a key
// msgcrypt accepts, and an approval secret to fetch the details with.
func (c Config) validateCallback() []error {
	var errs []error
	bad := func(path, value, msg string) {
		errs = append(errs, &config.FieldError{Path: path, Value: value, Msg: msg})
	}
	token, key := c.CallbackToken.Reveal(), c.CallbackAESKey.Reveal()
	switch {
	case token == "" && key == "":
	case token == "":
		bad("callback_token", "", "is required with callback_aes_key: the Token of the app's 接收事件服务器 settings")
	case key == "":
		bad("callback_aes_key", "", "is required with callback_token: the EncodingAESKey (43 characters) of the app's 接收事件服务器 settings")
	default:
		if _, err := msgcrypt.New(token, key, c.CorpID); err != nil {
			path := "callback_aes_key"
			if _, terr := msgcrypt.New(token, strings.Repeat("a", 43), ""); terr != nil {
				path = "callback_token"
			}
			bad(path, "", err.Error())
		}
		if strings.TrimSpace(c.ApprovalSecret.Reveal()) == "" {
			bad("approval_secret", "", "is required with callbacks: sys_approval_change carries no form values, so each approval's details are fetched with the approval app's token")
		}
	}
	if c.CallbackWindow < 0 {
		bad("callback_window", c.CallbackWindow.String(), "must be positive, e.g. 10m")
	}
	if c.CallbackQueue < 0 {
		bad("callback_queue", strconv.Itoa(c.CallbackQueue), "must be positive, e.g. 1000")
	}
	return errs
}

// validateLimits checks rate_limits: known APIs, positive numbers.
func (c Config) validateLimits() []error {
	var errs []error
	for _, k := range sortedKeys(c.RateLimits) {
		path := "rate_limits." + k
		if _, ok := limitKey(k); !ok {
			errs = append(errs, &config.FieldError{Path: path, Value: k,
				Msg: "is not an API this connector limits; use one of " + strings.Join(sortedKeys(DefaultRateLimits()), ", ")})
			continue
		}
		if n := c.RateLimits[k]; n <= 0 {
			errs = append(errs, &config.FieldError{Path: path, Value: strconv.Itoa(n), Msg: "must be the calls per minute, 1 or more"})
		}
	}
	return errs
}

// limitKey returns the DefaultRateLimits key that names the API k names
// (by last path segment or by path).
func limitKey(k string) (string, bool) {
	if _, ok := DefaultRateLimits()[k]; ok {
		return k, true
	}
	for _, api := range limitedAPIs {
		if api == k {
			return limitName(api), true
		}
	}
	return "", false
}

// employeeSource says where the employee number is read.
type employeeSource int

const (
	fromExtattr employeeSource = iota
	fromHR
)

// parseEmployeeField reads extattr:<name> or hr:<fieldid>.
func parseEmployeeField(s string) (employeeSource, string, error) {
	kind, name, ok := strings.Cut(s, ":")
	switch {
	case !ok || strings.TrimSpace(name) == "":
	case kind == "extattr":
		return fromExtattr, name, nil
	case kind == "hr":
		if n, err := strconv.ParseUint(name, 10, 32); err != nil || n == 0 {
			return 0, "", fmt.Errorf("hr: needs the numeric field id from hr/get_fields, e.g. hr:12024")
		}
		return fromHR, name, nil
	}
	return 0, "", fmt.Errorf("must be extattr:<attribute name> (e.g. extattr:工号) or hr:<roster field id> (e.g. hr:12024)")
}
