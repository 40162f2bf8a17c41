package wecomtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"
)

// GenOption adjusts GenerateCompany.
type GenOption func(*genConfig)

type genConfig struct {
	corpID   string
	unmapped int
}

// WithCorpID sets the generated company's corp id.
func WithCorpID(id string) GenOption { return func(g *genConfig) { g.corpID = id } }

// WithUnmappedUsers gives the last n users no 工号, so that identity
// mapping by job number cannot place them.
func WithUnmappedUsers(n int) GenOption { return func(g *genConfig) { g.unmapped = n } }

// Office of the generated company: the coordinates (GCJ-02) and address of
// the check-in page's own example.
const (
	officeLat    = 30.547645
	officeLng    = 104.063236
	officeTitle  = "依澜府"
	officeDetail = "四川省成都市武侯区益州大道中段784号附近"
	officeWifi   = "办公一区"
	officeMac    = "3c:46:d8:0c:7a:70"
)

// Leave types of the generated company's 请假 form: selector key and name.
var leaveTypes = [][2]string{{"1", "年假"}, {"2", "事假"}, {"3", "病假"}, {"4", "调休"}}

// GenerateCompany builds a company of employees users and their punches
// and approvals on every Monday to Friday of the days calendar days
// starting at from's date (Asia/Shanghai). The same arguments always give
// the same company.
//
// Per user and work day it makes a 上班打卡 near 09:00 and a 下班打卡 near
// 18:00: 3% of each missing (a 未打卡 marker instead), 8% late and 7% early
// (时间异常), and by how the user punches — by phone location, by Wi-Fi or
// on an attendance machine — 3% 地点异常 or wifi异常 and 1% 非常用设备 on top.
// Machine punches are uploaded within seconds, but 2% of them three days
// late (their 未打卡 markers show until then), and 1% of machine users'
// days carry a lunchtime punch that broke a rule and exists only on the
// device. 2% of phone users' days have a 外出打卡 field punch. About 2% of
// user-days are on leave (a whole-day 请假 approval, no punches), 1% on a
// business trip (出差, no punches), 1% have an 外出 and 1% an overtime
// (加班) approval; 40% of missing punches get a 补卡 approval; and some
// expense (报销) approvals, which the connector filters out, exist too.
// Approval statuses are 70% approved, 10% pending, 8% rejected and 12%
// revoked (4, 6 or 7).
//
// Pick from so that the whole range lies in the past of the clocks that
// read it: the server shows a row only once it exists by its clock.
func GenerateCompany(seed int64, employees int, from time.Time, days int, opts ...GenOption) Company {
	g := genConfig{corpID: DefaultCorpID}
	for _, o := range opts {
		o(&g)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)*0x9e3779b97f4a7c15+1))
	y, m, d := from.In(Shanghai).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, Shanghai)
	c := Company{CorpID: g.corpID, From: start, To: start.AddDate(0, 0, days)}
	gen := &generator{rng: rng, c: &c, seq: map[string]int{}}
	for i := 0; i < employees; i++ {
		gen.user(i, i >= employees-g.unmapped)
	}
	for day := start; day.Before(c.To); day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		c.WorkDays = append(c.WorkDays, day.Format(time.DateOnly))
		for i := range c.Users {
			gen.day(i, day)
		}
	}
	return c
}

var (
	surnames  = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given     = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英")
	positions = []string{"工程师", "销售", "会计", "运营", "客服", "产品经理"}
)

// Ways a user punches.
const (
	byPhone = iota
	byWifi
	byMachine
)

type generator struct {
	rng   *rand.Rand
	c     *Company
	kinds []int
	seq   map[string]int // sp_no sequence per date
}

func (g *generator) user(i int, unmapped bool) {
	u := User{
		UserID:      fmt.Sprintf("user%05d", i+1),
		Name:        string(surnames[g.rng.IntN(len(surnames))]) + string(given[g.rng.IntN(len(given))]) + string(given[g.rng.IntN(len(given))]),
		Position:    positions[g.rng.IntN(len(positions))],
		Departments: []int64{int64(2 + g.rng.IntN(6))},
		JobNumber:   fmt.Sprintf("E%04d", 1001+i),
	}
	if i%40 == 39 {
		u.Departments = append(u.Departments, 1) // also in the root department
	}
	if unmapped {
		u.JobNumber = ""
	}
	g.c.Users = append(g.c.Users, u)
	kind := byPhone
	switch r := g.rng.Float64(); {
	case r < 0.15:
		kind = byWifi
	case r < 0.40:
		kind = byMachine
	}
	g.kinds = append(g.kinds, kind)
}

// day makes one user's rows and approvals of one work day.
func (g *generator) day(i int, day time.Time) {
	u, kind := g.c.Users[i].UserID, g.kinds[i]
	switch r := g.rng.Float64(); {
	case r < 0.02:
		g.leave(u, day)
		return
	case r < 0.03:
		g.attendance(u, 3, day, day.Add(24*time.Hour), "halfday", 24*time.Hour)
		return
	case r < 0.04:
		g.attendance(u, 4, day.Add(14*time.Hour), day.Add(16*time.Hour), "hour", 2*time.Hour)
	case r < 0.05:
		g.attendance(u, 5, day.Add(18*time.Hour), day.Add(21*time.Hour), "hour", 3*time.Hour)
	case r < 0.055:
		g.expense(u, day)
	}
	sec := func(lo, hi int) time.Duration { return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Second }
	on, off := day.Add(9*time.Hour), day.Add(18*time.Hour)
	switch r := g.rng.Float64(); {
	case r < 0.03:
		g.missing(u, TypeOn, on)
	case r < 0.11:
		g.punch(u, kind, TypeOn, on, on.Add(sec(60, 3600)), "时间异常")
	default:
		g.punch(u, kind, TypeOn, on, on.Add(-sec(0, 2400)), "")
	}
	if kind == byPhone && g.rng.Float64() < 0.02 {
		at := day.Add(13*time.Hour + sec(0, 7200))
		g.c.Checkins = append(g.c.Checkins, Checkin{
			UserID: u, Type: TypeField, Time: at, LocationTitle: "客户现场", LocationDetail: "四川省成都市高新区天府大道北段1700号",
			Lat: officeLat + 0.05 + g.rng.Float64()*0.01, Lng: officeLng - 0.03 - g.rng.Float64()*0.01,
			DeviceID: deviceID(u), Notes: "拜访客户",
		})
	}
	if kind == byMachine && g.rng.Float64() < 0.01 {
		at := day.Add(12*time.Hour + 30*time.Minute + sec(0, 1200))
		g.c.Devices = append(g.c.Devices, DevicePunch{UserID: u, Time: at, Uploaded: at.Add(uploadLag), DeviceSN: machineSN(u), DeviceName: "前台考勤机"})
	}
	switch r := g.rng.Float64(); {
	case r < 0.03:
		g.missing(u, TypeOff, off)
	case r < 0.10:
		g.punch(u, kind, TypeOff, off, off.Add(-sec(60, 5400)), "时间异常")
	default:
		g.punch(u, kind, TypeOff, off, off.Add(sec(0, 5400)), "")
	}
}

// punch adds one 上班/下班 punch made by the user's usual means.
func (g *generator) punch(u string, kind int, typ string, sched, at time.Time, exception string) {
	add := func(e string) {
		if exception == "" {
			exception = e
		} else {
			exception += ";" + e
		}
	}
	if kind == byMachine {
		if g.rng.Float64() < 0.01 {
			add("非常用设备")
		}
		uploaded := at.Add(uploadLag)
		if g.rng.Float64() < 0.02 {
			uploaded = at.Add(lateUpload + time.Duration(g.rng.IntN(4*3600))*time.Second)
			g.c.Checkins = append(g.c.Checkins, Checkin{
				UserID: u, Type: typ, Exception: NotSigned, Time: sched, Scheduled: sched,
				VisibleFrom: sched.Add(markerLag), HiddenFrom: uploaded,
			})
		}
		// The marker, if any, was made above with its end: no need for
		// addDevicePunch's search for it.
		g.c.Devices = append(g.c.Devices, DevicePunch{UserID: u, Time: at, Uploaded: uploaded, DeviceSN: machineSN(u), DeviceName: "前台考勤机",
			Recorded: true, Type: typ, Scheduled: sched, Exception: exception})
		g.c.Checkins = append(g.c.Checkins, Checkin{UserID: u, Type: typ, Exception: exception, Time: at, Scheduled: sched,
			LocationTitle: "前台考勤机", VisibleFrom: uploaded})
		return
	}
	row := Checkin{UserID: u, Type: typ, Time: at, Scheduled: sched, DeviceID: deviceID(u)}
	switch kind {
	case byWifi:
		row.WifiName, row.WifiMac, row.LocationTitle = officeWifi, officeMac, officeTitle
		if g.rng.Float64() < 0.03 {
			add("wifi异常")
			row.WifiName, row.WifiMac = "Home-5G", "a4:1b:c0:22:9e:01"
		}
	default:
		row.LocationTitle, row.LocationDetail = officeTitle, officeDetail
		row.Lat = officeLat + (g.rng.Float64()-0.5)*0.001
		row.Lng = officeLng + (g.rng.Float64()-0.5)*0.001
		if g.rng.Float64() < 0.03 {
			add("地点异常")
			row.Lat += 0.02 + g.rng.Float64()*0.03
			row.LocationTitle, row.LocationDetail = "锦江宾馆", "四川省成都市锦江区人民南路二段80号"
		}
	}
	if g.rng.Float64() < 0.01 {
		add("非常用设备")
		row.DeviceID = "NEW-" + deviceID(u)
	}
	row.Exception = exception
	g.c.Checkins = append(g.c.Checkins, row)
}

// missing adds a 未打卡 marker and, 40% of the time, a 补卡 approval.
func (g *generator) missing(u, typ string, sched time.Time) {
	g.c.Checkins = append(g.c.Checkins, Checkin{UserID: u, Type: typ, Exception: NotSigned, Time: sched, Scheduled: sched, VisibleFrom: sched.Add(markerLag)})
	if g.rng.Float64() >= 0.4 {
		return
	}
	state := "上班-未打卡"
	if typ == TypeOff {
		state = "下班-未打卡"
	}
	g.approval(Approval{
		Name: "打卡补卡", RecordType: 2, Applyer: u, Control: ControlCorrection,
		CorrectionState: state, CorrectionTime: sched,
	}, sched.Add(20*time.Hour))
}

func (g *generator) leave(u string, day time.Time) {
	lt := leaveTypes[g.rng.IntN(len(leaveTypes))]
	g.approval(Approval{
		Name: "请假", RecordType: 1, Applyer: u, Control: ControlVacation, LeaveKey: lt[0], LeaveName: lt[1],
		AttendanceType: 1, RangeType: "halfday", Begin: day, End: day.Add(12 * time.Hour), Duration: 24 * time.Hour,
	}, day.Add(-14*time.Hour))
}

func (g *generator) attendance(u string, typ int, begin, end time.Time, rangeType string, d time.Duration) {
	names := map[int]string{3: "出差", 4: "外出", 5: "加班"}
	stored := end
	if rangeType == "halfday" {
		stored = end.Add(-12 * time.Hour) // the start of the last half-day
	}
	g.approval(Approval{
		Name: names[typ], RecordType: typ, Applyer: u, Control: ControlAttendance,
		AttendanceType: typ, RangeType: rangeType, Begin: begin, End: stored, Duration: d,
	}, begin.Add(-6*time.Hour))
}

func (g *generator) expense(u string, day time.Time) {
	g.approval(Approval{Name: "报销", RecordType: 9, Applyer: u, Control: ControlText, Text: "差旅费报销"}, day.Add(11*time.Hour))
}

// approval numbers a and gives it a status, submitted at applied plus up to
// an hour and decided up to eight hours later.
func (g *generator) approval(a Approval, applied time.Time) {
	a.ApplyTime = applied.Add(time.Duration(g.rng.IntN(3600)) * time.Second)
	date := a.ApplyTime.In(Shanghai).Format("20060102")
	g.seq[date]++
	a.SpNo = fmt.Sprintf("%s%04d", date, g.seq[date])
	a.TemplateID = templateID(a.Name)
	a.Party = "2"
	switch r := g.rng.Float64(); {
	case r < 0.70:
		a.Status = 2
	case r < 0.80:
		a.Status = 1
	case r < 0.88:
		a.Status = 3
	case r < 0.94:
		a.Status = 4
	case r < 0.97:
		a.Status = 6
	default:
		a.Status = 7
	}
	if a.Status != 1 {
		a.DecidedAt = a.ApplyTime.Add(time.Duration(600+g.rng.IntN(8*3600)) * time.Second)
	}
	g.c.Approvals = append(g.c.Approvals, a)
}

// templateID is a stable template id per form name, shaped like WeCom's.
func templateID(name string) string {
	sum := sha256.Sum256([]byte("template/" + name))
	return "3Tka" + hex.EncodeToString(sum[:19])
}

func deviceID(user string) string {
	sum := sha256.Sum256([]byte("phone/" + user))
	h := hex.EncodeToString(sum[:16])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

func machineSN(user string) string {
	sum := sha256.Sum256([]byte("machine/" + user))
	return fmt.Sprintf("KQJ%06d", 1+int(sum[0])%3) // three machines
}
