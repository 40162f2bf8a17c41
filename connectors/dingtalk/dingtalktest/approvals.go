package dingtalktest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Component ids of the generated forms, in the shape of DingTalk's: the
// component type, a dash and a short random suffix.
const (
	holidayFieldID = "DDHolidayField-J2BWEN12"
	supplyTimeID   = "DDDateField-JYNRW51O"
)

// LeaveForm is the form of a standard leave template: a DDHolidayField
// whose value is [start, end, duration, unit, leave name, label] (the
// layout the platform's own tooling writes; the official docs do not show
// it). unit "hour" writes minutes, "day" bare dates, "halfDay" dates with
// 上午/下午.
func LeaveForm(start, end time.Time, amount float64, unit, leaveName string) []FormValue {
	f := func(t time.Time) string {
		t = t.In(Shanghai)
		switch unit {
		case "day":
			return t.Format(time.DateOnly)
		case "halfDay":
			if t.Hour() < 12 {
				return t.Format(time.DateOnly) + " 上午"
			}
			return t.Format(time.DateOnly) + " 下午"
		}
		return t.Format("2006-01-02 15:04")
	}
	value, _ := json.Marshal([]any{f(start), f(end), amount, unit, leaveName, "请假类型"})
	ext, _ := json.Marshal(map[string]any{"unit": unit, "extension": `{"tag":"请假"}`, "durationInHour": amount})
	return []FormValue{
		{ID: holidayFieldID, Name: `["开始时间","结束时间"]`, Value: string(value), ExtValue: string(ext), ComponentType: "DDHolidayField"},
		{ID: "TextareaField-1", Name: "请假事由", Value: "个人事务", ComponentType: "TextareaField"},
	}
}

// SuiteForm is the flattened form of an attendance suite (overtime
// attendance.batchovertime, out attendance.goout, trip alitrip.business):
// children with bizAlias startTime, finishTime and duration in hours.
func SuiteForm(start, end time.Time, hours float64) []FormValue {
	return []FormValue{
		{ID: "DDDateField_START", Name: "开始时间", Value: start.In(Shanghai).Format("2006-01-02 15:04"), ComponentType: "DDDateField", BizAlias: "startTime"},
		{ID: "DDDateField_FINISH", Name: "结束时间", Value: end.In(Shanghai).Format("2006-01-02 15:04"), ComponentType: "DDDateField", BizAlias: "finishTime"},
		{ID: "NumberField_DURATION", Name: "时长", Value: strconv.FormatFloat(hours, 'f', -1, 64), ComponentType: "NumberField", BizAlias: "duration"},
	}
}

// MakeupForm is the form of a 补卡 (attendance.supply) template: the
// corrected time as a DDDateField with bizAlias userCheckTime, whose
// extValue holds it in milliseconds and a planTip naming the shift point
// (上班 for checkType OnDuty, 下班 for OffDuty), and the reason.
func MakeupForm(at time.Time, checkType, reason string) []FormValue {
	at = at.In(Shanghai)
	point := "上班"
	if checkType == "OffDuty" {
		point = "下班"
	}
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, Shanghai)
	ext, _ := json.Marshal(map[string]any{
		"timeStamp": day.UnixMilli(), "workDate": day.UnixMilli(), "userCheckTime": at.UnixMilli(),
		"planText": at.Format("2006-01-02 15:04"),
		"planTip":  fmt.Sprintf("%s ( %s %s) 补卡", weekdays[at.Weekday()], at.Format("01.02"), point),
	})
	return []FormValue{
		{ID: supplyTimeID, Name: "补卡时间", Value: at.Format("2006-01-02 15:04"), ExtValue: string(ext), ComponentType: "DDDateField", BizAlias: "userCheckTime"},
		{ID: "TextareaField-REASON", Name: "补卡理由", Value: reason, ComponentType: "TextareaField", BizAlias: "reason"},
	}
}

var weekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

var leaveNames = []string{"年假", "病假", "事假", "调休"}

// generateInstances adds approvals to c from their own random stream, so
// that the punches stay what they were: about one leave per user per 20
// work days, an overtime request per 25, and a make-up for half of the
// missing punches, each created a day or more after the fact. Most are
// approved; some are refused, still running, withdrawn (TERMINATED), or
// approved and later revoked (an attached REVOKE instance).
func generateInstances(seed int64, c *Company, have map[punchKey]bool) {
	rng := rand.New(rand.NewPCG(uint64(seed)^0x5eed, uint64(seed)*0x2545f4914f6cdd1d+7))
	n := 0
	add := func(code, user, title string, created time.Time, form []FormValue) {
		n++
		in := Instance{
			ID: fmt.Sprintf("fakeinst-%06d", n), ProcessCode: code, Title: title, Originator: user,
			Created: created, Form: form, BizAction: ActionNone,
		}
		decided := created.Add(time.Duration(2+rng.IntN(46)) * time.Hour)
		switch r := rng.Float64(); {
		case r < 0.80:
			in.Status, in.Result, in.Finished = StatusCompleted, ResultAgree, decided
		case r < 0.88:
			in.Status, in.Result, in.Finished = StatusCompleted, ResultRefuse, decided
		case r < 0.93:
			in.Status = StatusRunning
		case r < 0.97:
			in.Status, in.Finished = StatusTerminated, decided
		default:
			in.Status, in.Result, in.Finished = StatusCompleted, ResultAgree, decided
			rev := Instance{
				ID: in.ID + "-revoke", ProcessCode: code, Title: "撤销: " + title, Originator: user,
				Status: StatusCompleted, Result: ResultAgree, BizAction: ActionRevoke, MainID: in.ID,
				Created: decided.Add(24 * time.Hour), Finished: decided.Add(26 * time.Hour), Form: form,
			}
			in.Attached = []string{rev.ID}
			c.Instances = append(c.Instances, rev)
		}
		c.Instances = append(c.Instances, in)
	}
	for _, d := range c.WorkDays {
		day, _ := time.ParseInLocation(time.DateOnly, d, Shanghai)
		for _, u := range c.Users {
			switch r := rng.Float64(); {
			case r < 0.05:
				name := leaveNames[rng.IntN(len(leaveNames))]
				if rng.IntN(2) == 0 {
					form := LeaveForm(day.Add(9*time.Hour), day.Add(18*time.Hour), 8, "hour", name)
					add(ProcLeave, u.UserID, u.Name+"提交的"+name+"申请", day.AddDate(0, 0, -2).Add(10*time.Hour), form)
				} else {
					form := LeaveForm(day, day, 1, "day", name)
					add(ProcLeave, u.UserID, u.Name+"提交的"+name+"申请", day.AddDate(0, 0, -3).Add(15*time.Hour), form)
				}
			case r < 0.09:
				form := SuiteForm(day.Add(18*time.Hour+30*time.Minute), day.Add(21*time.Hour), 2.5)
				add(ProcOvertime, u.UserID, u.Name+"提交的加班申请", day.Add(17*time.Hour), form)
			}
			for _, ct := range []string{"OnDuty", "OffDuty"} {
				if have[punchKey{u.UserID, ct, day.Unix()}] || rng.IntN(2) == 0 {
					continue
				}
				at := day.Add(9 * time.Hour)
				if ct == "OffDuty" {
					at = day.Add(18 * time.Hour)
				}
				add(ProcMakeup, u.UserID, u.Name+"提交的补卡申请", day.AddDate(0, 0, 1+rng.IntN(4)).Add(10*time.Hour), MakeupForm(at, ct, "忘记打卡"))
			}
		}
	}
}
