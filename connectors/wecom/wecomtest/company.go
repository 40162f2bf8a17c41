package wecomtest

import (
	"sort"
	"strings"
	"time"
)

// Shanghai is the platform's time zone. China has had no daylight saving
// time since 1991, so a fixed UTC+8 zone is exact and needs no tzdata.
var Shanghai = time.FixedZone("CST", 8*60*60)

// Identifiers of the generated corp.
const (
	// DefaultCorpID is the corp id of a generated company unless
	// WithCorpID says otherwise (corp ids are "ww" and 16 hex digits).
	DefaultCorpID = "ww5823bf96d3bd0001"
	// DefaultAgentID is the approval app's AgentID in callbacks.
	DefaultAgentID = 3010040
	// EmployeeAttr is the custom attribute (extattr) holding the 工号.
	EmployeeAttr = "工号"
	// RosterFieldJobNumber is the 人事助手 roster field holding the 工号
	// (the id the roster page's example shows).
	RosterFieldJobNumber = 12024
)

// Check-in types and the exception of a missing punch (B2.1).
const (
	TypeOn     = "上班打卡"
	TypeOff    = "下班打卡"
	TypeField  = "外出打卡"
	NotSigned  = "未打卡"
	markerLag  = 4 * time.Hour // a 未打卡 marker appears this long after its scheduled time
	uploadLag  = 30 * time.Second
	lateUpload = 3 * 24 * time.Hour
)

// Company is what the fake serves.
type Company struct {
	CorpID string
	// From and To bound the generated calendar days, [From, To), at
	// midnight Asia/Shanghai.
	From, To time.Time
	// WorkDays lists the generated Monday–Friday dates as YYYY-MM-DD.
	WorkDays  []string
	Users     []User
	Checkins  []Checkin
	Devices   []DevicePunch
	Approvals []Approval
}

// User is one member. JobNumber is both the 工号 custom attribute and the
// roster field; empty for a member HR cannot map.
type User struct {
	UserID      string
	Name        string
	Position    string
	Departments []int64
	JobNumber   string
}

// Checkin is one row of getcheckindata. Lat and Lng are degrees (the wire
// form multiplies them by 1,000,000); 0, 0 means no location.
type Checkin struct {
	UserID         string
	Type           string // 上班打卡 | 下班打卡 | 外出打卡
	Exception      string // "" | 时间异常 | 地点异常 | 未打卡 | wifi异常 | 非常用设备, ";"-joined
	Time           time.Time
	Scheduled      time.Time // zero for 外出打卡
	LocationTitle  string
	LocationDetail string
	WifiName       string
	WifiMac        string
	DeviceID       string
	Notes          string
	Lat, Lng       float64
	// VisibleFrom is when the row appears (zero: at Time); HiddenFrom
	// when it disappears (zero: never), as a 未打卡 marker does once a
	// late upload brings the punch.
	VisibleFrom, HiddenFrom time.Time
}

// Marker reports whether the row marks a missing punch.
func (c Checkin) Marker() bool { return strings.Contains(c.Exception, NotSigned) }

// visibleAt reports whether the row exists at now.
func (c Checkin) visibleAt(now time.Time) bool {
	from := c.VisibleFrom
	if from.IsZero() {
		from = c.Time
	}
	return !now.Before(from) && (c.HiddenFrom.IsZero() || now.Before(c.HiddenFrom))
}

// DevicePunch is a raw attendance-machine punch. One that obeys the punch
// rules (Recorded) is also a check-in row of type Type, visible from
// Uploaded; one that does not exists only on the device API.
type DevicePunch struct {
	UserID     string
	Time       time.Time
	Uploaded   time.Time
	DeviceSN   string
	DeviceName string
	Recorded   bool
	Type       string    // of its check-in row
	Scheduled  time.Time // of its check-in row
	Exception  string    // of its check-in row
}

// Controls of an approval form.
const (
	ControlVacation   = "Vacation"
	ControlAttendance = "Attendance"
	ControlCorrection = "PunchCorrection"
	ControlText       = "Text"
)

// Approval is one approval form with one control that matters.
type Approval struct {
	SpNo       string
	Name       string // sp_name, the template's name
	TemplateID string
	RecordType int // 1 请假, 2 补卡, 3 出差, 4 外出, 5 加班, 9 报销
	Status     int // 1, 2, 3, 4, 6, 7 (B3); pending until DecidedAt
	Applyer    string
	Party      string
	ApplyTime  time.Time
	DecidedAt  time.Time
	Control    string
	// Vacation and Attendance controls.
	LeaveKey, LeaveName string
	AttendanceType      int    // 1 请假, 3 出差, 4 外出, 5 加班
	RangeType           string // hour | halfday
	Begin, End          time.Time
	Duration            time.Duration
	// PunchCorrection control.
	CorrectionState string // 上班-未打卡 | 下班-未打卡
	CorrectionTime  time.Time
	// Text control.
	Text string
}

// statusAt is the approval's status as the platform shows it at now:
// pending until it is decided.
func (a Approval) statusAt(now time.Time) int {
	if a.Status != 1 && (a.DecidedAt.IsZero() || now.Before(a.DecidedAt)) {
		return 1
	}
	return a.Status
}

// addDevicePunch adds p, and its check-in row when it obeys the rules; a
// marker for the same punch point disappears when p is uploaded.
func (c *Company) addDevicePunch(p DevicePunch) {
	c.Devices = append(c.Devices, p)
	if !p.Recorded {
		return
	}
	for i := range c.Checkins {
		m := &c.Checkins[i]
		if m.Marker() && m.UserID == p.UserID && m.Type == p.Type && m.Scheduled.Equal(p.Scheduled) &&
			(m.HiddenFrom.IsZero() || p.Uploaded.Before(m.HiddenFrom)) {
			m.HiddenFrom = p.Uploaded
		}
	}
	c.Checkins = append(c.Checkins, Checkin{
		UserID: p.UserID, Type: p.Type, Exception: p.Exception, Time: p.Time, Scheduled: p.Scheduled,
		LocationTitle: p.DeviceName, VisibleFrom: p.Uploaded,
	})
}

// clone returns a copy of c that shares no slices with it.
func (c Company) clone() Company {
	out := c
	out.WorkDays = append([]string(nil), c.WorkDays...)
	out.Checkins = append([]Checkin(nil), c.Checkins...)
	out.Devices = append([]DevicePunch(nil), c.Devices...)
	out.Approvals = append([]Approval(nil), c.Approvals...)
	out.Users = make([]User, len(c.Users))
	for i, u := range c.Users {
		u.Departments = append([]int64(nil), u.Departments...)
		out.Users[i] = u
	}
	return out
}

// index is how the server finds rows quickly.
type index struct {
	users     map[string]int       // lower-case userid → position in Users
	checkins  map[string][]Checkin // by user, sorted by Time
	devices   map[string][]DevicePunch
	approvals map[string]int // sp_no → position in Approvals
	byApply   []int          // positions in Approvals, by ApplyTime
}

// reindex rebuilds the index; the caller holds mu (or owns s).
func (s *Server) reindex() {
	c := &s.company
	idx := index{users: map[string]int{}, checkins: map[string][]Checkin{}, devices: map[string][]DevicePunch{}, approvals: map[string]int{}}
	for i, u := range c.Users {
		idx.users[strings.ToLower(u.UserID)] = i
	}
	for _, r := range c.Checkins {
		k := strings.ToLower(r.UserID)
		idx.checkins[k] = append(idx.checkins[k], r)
	}
	for _, rows := range idx.checkins {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time.Before(rows[j].Time) })
	}
	for _, d := range c.Devices {
		k := strings.ToLower(d.UserID)
		idx.devices[k] = append(idx.devices[k], d)
	}
	for i, a := range c.Approvals {
		idx.approvals[a.SpNo] = i
		idx.byApply = append(idx.byApply, i)
	}
	sort.SliceStable(idx.byApply, func(i, j int) bool {
		return c.Approvals[idx.byApply[i]].ApplyTime.Before(c.Approvals[idx.byApply[j]].ApplyTime)
	})
	s.idx = idx
}
