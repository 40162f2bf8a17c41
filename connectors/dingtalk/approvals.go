package dingtalk

import (
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/mapping"
)

// This file is the declarative extraction of an approval's facts from its
// form: which components hold the leave type, the time range, the
// duration and, for a make-up, the corrected punch. It reads the instance
// only through gjson, so that the mapping engine can replace it.

// DefaultLeaveTypes maps the leave names of DingTalk's standard leave
// component to HR codes. Config leave_types entries replace or add to
// them; a name neither knows becomes the leave type as it is.
var DefaultLeaveTypes = map[string]string{
	"年假":  "ANNUAL",
	"病假":  "SICK",
	"事假":  "PERSONAL",
	"调休":  "COMP_OFF",
	"婚假":  "MARRIAGE",
	"产假":  "MATERNITY",
	"陪产假": "PATERNITY",
	"丧假":  "BEREAVEMENT",
	"哺乳假": "NURSING",
	"产检假": "PRENATAL",
}

// Default component names, tried after the configured one: the bizAlias
// that DingTalk's attendance suites give their children (startTime,
// finishTime, duration, userCheckTime), then the labels of its standard
// templates.
var (
	defaultStart      = []string{"startTime", "开始时间"}
	defaultEnd        = []string{"finishTime", "结束时间"}
	defaultDuration   = []string{"duration", "时长"}
	defaultLeaveType  = []string{"请假类型", "type"}
	defaultMakeupTime = []string{"userCheckTime", "补卡时间"}
	defaultReason     = []string{"reason", "补卡理由"}
)

// holidayComponent is the component type of the standard leave form.
const holidayComponent = "DDHolidayField"

// formReader extracts facts from an instance's form.
type formReader struct {
	form       FormFields // the configured components, tried first
	leaveTypes map[string]string
}

func newFormReader(cfg Config) *formReader {
	types := map[string]string{}
	for k, v := range DefaultLeaveTypes {
		types[k] = v
	}
	for k, v := range cfg.LeaveTypes {
		types[k] = v
	}
	return &formReader{form: cfg.Form, leaveTypes: types}
}

// approvalFacts is what a form says about an approval.
type approvalFacts struct {
	start, end time.Time
	minutes    int    // 0 when unknown or given in days
	leaveName  string // the platform's leave name, e.g. 年假
	leaveType  string // the HR code
}

// makeupFacts is what a make-up (补卡) form says.
type makeupFacts struct {
	at        time.Time
	direction mapping.Direction
	reason    string
}

// field returns the first value the refs find in the instance's form: a
// "path:" ref is a gjson path into the instance; any other is matched
// against each component's id, then bizAlias, then name.
func (f *formReader) field(inst []byte, refs []string) (value, ext string, ok bool) {
	comps := gjson.GetBytes(inst, "formComponentValues")
	for _, ref := range refs {
		if p, isPath := strings.CutPrefix(ref, "path:"); isPath {
			if r := gjson.GetBytes(inst, p); r.Exists() && r.String() != "" {
				return r.String(), "", true
			}
			continue
		}
		for _, key := range []string{"id", "bizAlias", "name"} {
			var found gjson.Result
			comps.ForEach(func(_, c gjson.Result) bool {
				if c.Get(key).String() == ref && c.Get("value").String() != "" {
					found = c
					return false
				}
				return true
			})
			if found.Exists() {
				return found.Get("value").String(), found.Get("extValue").String(), true
			}
		}
	}
	return "", "", false
}

// holiday returns the standard leave component's value, a JSON array
// [start, end, duration, unit, leave name, label] (a layout the official
// docs do not show; it is what the platform's own tooling writes).
func holiday(inst []byte) (gjson.Result, bool) {
	var v gjson.Result
	gjson.GetBytes(inst, "formComponentValues").ForEach(func(_, c gjson.Result) bool {
		if c.Get("componentType").String() == holidayComponent || strings.HasPrefix(c.Get("id").String(), holidayComponent) {
			v = gjson.Parse(c.Get("value").String())
			return false
		}
		return true
	})
	return v, v.IsArray()
}

// approval extracts the facts of a leave, overtime, trip or out approval.
// A configured component wins; then the standard leave component; then
// the default names. A fact not found stays zero, and validation reports
// the event with the missing field instead of it vanishing.
func (f *formReader) approval(inst []byte) approvalFacts {
	var a approvalFacts
	hol, hasHol := holiday(inst)
	// text returns the configured component's value, else the leave
	// component's element i, else the first default found.
	text := func(configured string, i int, defaults []string) string {
		if configured != "" {
			if v, _, ok := f.field(inst, []string{configured}); ok {
				return v
			}
		}
		if hasHol && i >= 0 {
			return hol.Get(strconv.Itoa(i)).String()
		}
		v, _, _ := f.field(inst, defaults)
		return v
	}
	a.start = parseFormTime(text(f.form.Start, 0, defaultStart), false)
	a.end = parseFormTime(text(f.form.End, 1, defaultEnd), true)
	if f.form.Duration == "" && hasHol {
		a.minutes = durationMinutes(hol.Get("2").Float(), hol.Get("3").String())
	} else if v := text(f.form.Duration, -1, defaultDuration); v != "" {
		// A configured or suite duration is in hours, the unit of the
		// overtime and out-of-office suites.
		if h, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && h > 0 {
			a.minutes = int(h*60 + 0.5)
		}
	}
	a.leaveName = strings.TrimSpace(text(f.form.LeaveType, 4, defaultLeaveType))
	if a.leaveName != "" {
		a.leaveType = a.leaveName
		if code, ok := f.leaveTypes[a.leaveName]; ok {
			a.leaveType = code
		}
	}
	return a
}

// makeup extracts a make-up's corrected punch: the time component's
// extValue carries userCheckTime in milliseconds and a planTip naming the
// shift point (上班 in, 下班 out); its value is the same time in minutes.
func (f *formReader) makeup(inst []byte) makeupFacts {
	var m makeupFacts
	m.direction = mapping.DirUnknown
	if v, ext, ok := f.field(inst, withConfigured(f.form.MakeupTime, defaultMakeupTime)); ok {
		e := gjson.Parse(ext)
		if ms := e.Get("userCheckTime").Int(); ms > 0 {
			m.at = time.UnixMilli(ms).In(shanghai)
		} else {
			m.at = parseFormTime(v, false)
		}
		tip := e.Get("planTip").String() + " " + e.Get("planText").String()
		switch {
		case strings.Contains(tip, "上班"):
			m.direction = mapping.DirIn
		case strings.Contains(tip, "下班"):
			m.direction = mapping.DirOut
		}
	}
	if v, _, ok := f.field(inst, withConfigured(f.form.Reason, defaultReason)); ok {
		m.reason = v
	}
	return m
}

// withConfigured puts a configured component before the defaults.
func withConfigured(configured string, defaults []string) []string {
	if configured == "" {
		return defaults
	}
	return append([]string{configured}, defaults...)
}

// durationMinutes turns a leave duration into minutes when its unit is
// hours; day units stay 0 (their length depends on the shift).
func durationMinutes(v float64, unit string) int {
	switch strings.ToLower(unit) {
	case "hour", "halfhour", "limithour":
		if v > 0 {
			return int(v*60 + 0.5)
		}
	}
	return 0
}

// Form time layouts: the unit of a leave decides the layout (hour:
// minutes; day: a date; halfDay: a date with 上午 or 下午).
var formLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04Z07:00", "2006/01/02 15:04"}

// parseFormTime reads a form time in Asia/Shanghai. A bare date is the
// start of that day, or for an end the start of the next one (the day is
// included); 上午 is the morning (to 12:00), 下午 the afternoon. A number
// is milliseconds. Unreadable text is the zero time.
func parseFormTime(s string, end bool) time.Time {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 1e11 {
		return time.UnixMilli(ms).In(shanghai)
	}
	for _, l := range formLayouts {
		if t, err := time.ParseInLocation(l, s, shanghai); err == nil {
			return t
		}
	}
	date, half, _ := strings.Cut(s, " ")
	d, err := time.ParseInLocation(time.DateOnly, date, shanghai)
	if err != nil {
		return time.Time{}
	}
	switch {
	case half == "上午" || strings.EqualFold(half, "AM"):
		if end {
			return d.Add(12 * time.Hour)
		}
		return d
	case half == "下午" || strings.EqualFold(half, "PM"):
		if end {
			return d.AddDate(0, 0, 1)
		}
		return d.Add(12 * time.Hour)
	case half == "" && end:
		return d.AddDate(0, 0, 1)
	case half == "":
		return d
	}
	return time.Time{}
}

// instanceTime reads createTime/finishTime: the v1.0 API writes ISO-like
// strings such as 2022-08-31T11:52Z (read with their zone), the old one
// "2006-01-02 15:04:05" in Asia/Shanghai or milliseconds.
func instanceTime(s string) time.Time {
	return parseFormTime(s, false)
}
