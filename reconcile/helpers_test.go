package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// Test fixtures: a builder of rules and events, and a one-line summary of
// a day record that tables compare against.

var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at parses "2006-01-02 15:04" or "2006-01-02 15:04:05" in Asia/Shanghai.
func at(s string) time.Time {
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	t, err := time.ParseInLocation(layout, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func standardShift() Shift {
	return Shift{
		Start: "09:00", End: "18:00",
		CheckinOpensBefore: time.Hour, CheckoutClosesAfter: time.Hour,
		LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute,
		HalfDayBelow: 4 * time.Hour, AbsentBelow: 2 * time.Hour,
		Directions: "alternate", WorkingHours: "first_last",
		Overtime: Overtime{After: 30 * time.Minute},
	}
}

// testRules is one standard shift for everyone, weekends off.
func testRules() Rules {
	return Rules{
		Timezone: "Asia/Shanghai",
		Shifts:   map[string]Shift{"standard": standardShift()},
		Assign:   Assign{Default: ShiftList{"standard"}, RestDays: []string{"sat", "sun"}},
	}
}

func compile(t testing.TB, r Rules) *Engine {
	t.Helper()
	e, err := Compile(r)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

// evb builds events for one employee with sequential ids.
type evb struct {
	emp string
	n   int
}

func (b *evb) id(kind string) string {
	b.n++
	return fmt.Sprintf("dingtalk/ding5f3a/%s/%s-%03d", kind, b.emp, b.n)
}

func (b *evb) punch(when string, dir mapping.Direction) mapping.Event {
	tm := at(when)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: b.id("punch"), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u-" + b.emp, EmployeeID: b.emp,
		Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaWebhook,
		Punch: &mapping.Punch{Direction: dir, Method: mapping.MethodApp, PlatformResult: "normal"},
	}
}

// punches builds alternating-direction punches at the given times.
func (b *evb) punches(whens ...string) []mapping.Event {
	out := make([]mapping.Event, len(whens))
	for i, w := range whens {
		dir := mapping.DirIn
		if i%2 == 1 {
			dir = mapping.DirOut
		}
		out[i] = b.punch(w, dir)
	}
	return out
}

func (b *evb) approval(typ string, status mapping.Status, from, to, approvalID string) mapping.Event {
	s, e := at(from), at(to)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: b.id("approval"), Kind: mapping.KindApproval,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u-" + b.emp, EmployeeID: b.emp,
		Time: s.Add(-24 * time.Hour), ReceivedAt: s.Add(-24 * time.Hour), Via: mapping.ViaPull,
		Approval: &mapping.Approval{Type: typ, Status: status, Start: s, End: e, ApprovalID: approvalID},
	}
}

func (b *evb) makeup(when string, dir mapping.Direction, status mapping.Status) mapping.Event {
	tm := at(when)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: b.id("makeup"), Kind: mapping.KindMakeup,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u-" + b.emp, EmployeeID: b.emp,
		Time: tm, ReceivedAt: tm.Add(48 * time.Hour), Via: mapping.ViaPull,
		Makeup: &mapping.Makeup{Direction: dir, Status: status, ApprovalID: "mk-" + tm.Format("0102150405")},
	}
}

func cat(groups ...[]mapping.Event) []mapping.Event {
	var out []mapping.Event
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func one(e mapping.Event) []mapping.Event { return []mapping.Event{e} }

// summary renders a record on one line, times as MM-DD HH:MM(:SS) in the
// rules' zone, e.g.
// "11-20 standard present in=09:02 out=18:05 w=543 late=- early=- ot=0 lv=0 miss=[] an=[]".
func summary(r mapping.DayRecord) string {
	tm := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		if t.Second() != 0 {
			return t.In(shanghai).Format("01-02 15:04:05")
		}
		return t.In(shanghai).Format("01-02 15:04")
	}
	flag := func(on bool, n int) string {
		if !on {
			if n != 0 {
				return fmt.Sprintf("BAD(%d)", n)
			}
			return "-"
		}
		return fmt.Sprint(n)
	}
	var an []string
	for _, a := range r.Anomalies {
		an = append(an, a.Type)
	}
	return fmt.Sprintf("%s %s %s in=%s out=%s w=%d late=%s early=%s ot=%d lv=%d miss=[%s] an=[%s]",
		r.Date[5:], r.Shift, r.Status, tm(r.FirstIn), tm(r.LastOut), r.WorkedMinutes,
		flag(r.Late, r.LateMinutes), flag(r.EarlyExit, r.EarlyExitMinutes), r.OvertimeMinutes, r.LeaveMinutes,
		strings.Join(r.Missing, ","), strings.Join(an, ","))
}

func summaries(rs []mapping.DayRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = summary(r)
	}
	return out
}

// farFuture is a watermark after every test day.
var farFuture = at("2027-01-01 00:00")
