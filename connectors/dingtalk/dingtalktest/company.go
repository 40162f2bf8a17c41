package dingtalktest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Shanghai is the platform's time zone. China has had no daylight saving
// time since 1991, so a fixed UTC+8 zone is exact and needs no tzdata.
var Shanghai = time.FixedZone("CST", 8*60*60)

// DefaultCorpID is the corp id of a generated company unless WithCorpID says
// otherwise.
const DefaultCorpID = "dingfake0corp"

// RootDept is the id of the root department, as on DingTalk.
const RootDept int64 = 1

// Company is what the fake serves: a department tree, its users and their
// punches.
type Company struct {
	CorpID string
	// From and To bound the generated calendar days, [From, To), at
	// midnight Asia/Shanghai.
	From, To time.Time
	// WorkDays lists the generated Monday–Friday dates as YYYY-MM-DD.
	WorkDays []string
	// Depts is the tree as a flat list; the root has ID RootDept and
	// Parent 0.
	Depts   []Dept
	Users   []User
	Records []Record
	// Instances are the approval instances: leave, overtime and make-up
	// (补卡) requests with their forms and states.
	Instances []Instance
}

// Dept is one department.
type Dept struct {
	ID     int64
	Name   string
	Parent int64
}

// User is one member of the directory. A user may sit in several
// departments; Depts[0] is the main one.
type User struct {
	UserID    string
	Name      string
	JobNumber string // empty for a user HR cannot map
	Mobile    string
	Email     string
	Depts     []int64
}

// Record is one raw punch as attendance/listRecord reports it. Zero values
// are left out of the wire form, as the platform leaves out fields that do
// not apply (no coordinates for a machine punch, no checkType on an invalid
// record).
type Record struct {
	ID        int64
	UserID    string
	CheckTime time.Time // userCheckTime
	// BaseCheckTime is the scheduled time the result was judged against.
	BaseCheckTime     time.Time
	WorkDate          time.Time
	CheckType         string // OnDuty | OffDuty
	TimeResult        string // Normal | Late | SeriousLate | Early | Absenteeism | NotSigned
	LocationResult    string // Normal | Outside | NotSigned
	SourceType        string // USER | ATM | DING_ATM | BEACON | BOSS | APPROVE | SYSTEM | AUTO_CHECK
	LocationMethod    string // MAP | WIFI | ATM | BEACON
	IsLegal           string // Y | N
	InvalidRecordType string // Security | Other
	InvalidRecordMsg  string
	HasLocation       bool
	Lat, Lng          float64
	Accuracy          float64
	Address           string
	DeviceID          string
	DeviceSN          string
	SSID              string
	MacAddr           string
	GroupID, PlanID   int64
}

// GenOption adjusts GenerateCompany.
type GenOption func(*genConfig)

type genConfig struct {
	corpID   string
	unmapped int
}

// WithCorpID sets the generated company's corp id.
func WithCorpID(id string) GenOption { return func(g *genConfig) { g.corpID = id } }

// WithUnmappedUsers gives the last n users an empty job number, so that
// identity mapping by job number cannot place them.
func WithUnmappedUsers(n int) GenOption { return func(g *genConfig) { g.unmapped = n } }

// GenerateCompany builds a company of employees users and their punches on
// every Monday to Friday of the days calendar days starting at from's date
// (Asia/Shanghai). The same arguments always give the same company.
//
// Per user and work day it produces an OnDuty punch near 09:00 and an
// OffDuty punch near 18:00, with roughly 3% missing in, 12% late (2% of them
// seriously), 3% missing out, 7% early leaving, 4% of phone punches out of
// range, and 1% of user-days with an extra punch the platform flags invalid.
//
// Pick from so that the whole range lies in the past of the clocks that
// read it: the server refuses queries older than 180 days (WithClock), and
// punch validation refuses punches in the future of their arrival.
func GenerateCompany(seed int64, employees int, from time.Time, days int, opts ...GenOption) Company {
	var recs []Record
	c := generateCompany(seed, employees, from, days, opts, func(userDays int) { recs = make([]Record, 0, recordsCap(userDays)) },
		func(r Record) { recs = append(recs, r) })
	c.Records = recs
	return c
}

// generateCompany generates the company without its Records: it hands
// them to keep one by one, in order, after telling size how many
// user-days they cover, so that a server can store them its own way.
func generateCompany(seed int64, employees int, from time.Time, days int, opts []GenOption, size func(userDays int), keep func(Record)) Company {
	g := genConfig{corpID: DefaultCorpID}
	for _, o := range opts {
		o(&g)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)*0x9e3779b97f4a7c15+1))
	y, m, d := from.In(Shanghai).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, Shanghai)
	c := Company{CorpID: g.corpID, From: start, To: start.AddDate(0, 0, days)}
	c.Depts = generateDepts(rng, employees)
	c.Users = generateUsers(rng, employees, c.Depts, g.unmapped)
	gen := recordGen{rng: rng, nextID: 43000000001, profiles: make([]profile, len(c.Users))}
	for i := range c.Users {
		gen.profiles[i] = newProfile(rng, i)
	}
	var workDays []time.Time
	for day := start; day.Before(c.To); day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			workDays = append(workDays, day)
			c.WorkDays = append(c.WorkDays, day.Format(time.DateOnly))
		}
	}
	size(len(c.Users) * len(workDays))
	// The punches approvals may refer to, keyed by fields the records
	// already hold, so that the set costs no string per record.
	have := make(map[punchKey]bool, 2*len(c.Users)*len(workDays))
	var scratch []Record
	for _, day := range workDays {
		for i, u := range c.Users {
			scratch = gen.day(scratch[:0], u.UserID, gen.profiles[i], day)
			for _, r := range scratch {
				if r.CheckType != "" {
					have[punchKey{r.UserID, r.CheckType, r.WorkDate.Unix()}] = true
				}
				keep(r)
			}
		}
	}
	generateInstances(seed, &c, have)
	return c
}

// punchKey names a user's punch of one check type on one work day.
type punchKey struct {
	user, checkType string
	workDate        int64 // Unix seconds
}

// recordsCap bounds the records of userDays user-days. A user-day has 1.95
// punches on average (97% in, 97% out, 1% an extra invalid one), with a
// standard deviation of 0.26; 2 per user-day plus 64 lies at least 13
// standard deviations above the mean total for any company size, and
// leaves under 3% of a large company's capacity unused. Should a total
// still exceed it, append grows the slice as usual.
func recordsCap(userDays int) int { return 2*userDays + 64 }

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英")
	units    = []string{"研发", "销售", "市场", "财务", "人事", "运营", "客服", "供应链"}
)

// generateDepts builds root → divisions → teams → squads: at least three
// levels below the root for any company size.
func generateDepts(rng *rand.Rand, employees int) []Dept {
	depts := []Dept{{ID: RootDept, Name: "总公司"}}
	next := int64(100)
	add := func(parent int64, name string) int64 {
		next++
		depts = append(depts, Dept{ID: next, Name: name, Parent: parent})
		return next
	}
	divisions := 2 + employees/80
	if divisions > len(units) {
		divisions = len(units)
	}
	for i := 0; i < divisions; i++ {
		div := add(RootDept, units[i]+"中心")
		teams := 2 + rng.IntN(2)
		for t := 0; t < teams; t++ {
			team := add(div, fmt.Sprintf("%s%d部", units[i], t+1))
			add(team, fmt.Sprintf("%s%d部一组", units[i], t+1))
		}
	}
	return depts
}

// generateUsers places users in departments other than the root (the root
// keeps a few, as real companies do) and every 40th user in a second one.
func generateUsers(rng *rand.Rand, n int, depts []Dept, unmapped int) []User {
	users := make([]User, n)
	for i := range users {
		u := User{
			UserID:    fmt.Sprintf("user%05d", i+1),
			Name:      string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))]) + string(given[rng.IntN(len(given))]),
			JobNumber: fmt.Sprintf("E%04d", 1001+i),
			Mobile:    fmt.Sprintf("1380000%04d", i+1),
			Email:     fmt.Sprintf("user%05d@example.com", i+1),
		}
		if i%50 == 0 {
			u.Depts = []int64{RootDept}
		} else {
			u.Depts = []int64{depts[1+rng.IntN(len(depts)-1)].ID}
		}
		if i%40 == 39 {
			second := depts[1+rng.IntN(len(depts)-1)].ID
			if second != u.Depts[0] {
				u.Depts = append(u.Depts, second)
			}
		}
		if i >= n-unmapped {
			u.JobNumber = ""
		}
		users[i] = u
	}
	return users
}

// profile is how one user usually punches.
type profile struct {
	source   string
	device   string
	wifi     bool
	deviceSN string
}

func newProfile(rng *rand.Rand, i int) profile {
	p := profile{}
	switch r := rng.Float64(); {
	case r < 0.70:
		p.source = "USER"
		p.device = fmt.Sprintf("%08x%02x", rng.Uint32(), i%256)
		p.wifi = rng.IntN(2) == 0
	case r < 0.82:
		p.source = "ATM"
		p.deviceSN = fmt.Sprintf("AT%06d", 1+rng.IntN(3))
	case r < 0.94:
		p.source = "DING_ATM"
		p.deviceSN = fmt.Sprintf("DA%06d", 1+rng.IntN(3))
	default:
		p.source = "BEACON"
		p.device = fmt.Sprintf("%08x%02x", rng.Uint32(), i%256)
	}
	return p
}

// Office coordinates of the generated company (Hangzhou).
const (
	officeLat = 30.285413
	officeLng = 120.017139
	// officeAddress is the office's, where its punches are made.
	officeAddress = "浙江省杭州市余杭区文一西路"
)

type recordGen struct {
	rng      *rand.Rand
	nextID   int64
	profiles []profile
}

// day appends one user's punches of one work day.
func (g *recordGen) day(recs []Record, user string, p profile, day time.Time) []Record {
	on := day.Add(9 * time.Hour)
	off := day.Add(18 * time.Hour)
	sec := func(lo, hi int) time.Duration { return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Second }

	switch r := g.rng.Float64(); {
	case r < 0.03: // forgot to punch in
	case r < 0.13:
		recs = append(recs, g.punch(user, p, day, on, on.Add(sec(60, 29*60)), "OnDuty", "Late"))
	case r < 0.15:
		recs = append(recs, g.punch(user, p, day, on, on.Add(sec(31*60, 90*60)), "OnDuty", "SeriousLate"))
	default:
		recs = append(recs, g.punch(user, p, day, on, on.Add(-sec(0, 40*60)), "OnDuty", "Normal"))
	}
	if g.rng.Float64() < 0.01 {
		recs = append(recs, g.invalid(user, p, day, day.Add(12*time.Hour+sec(0, 3600))))
	}
	switch r := g.rng.Float64(); {
	case r < 0.03: // forgot to punch out
	case r < 0.10:
		recs = append(recs, g.punch(user, p, day, off, off.Add(-sec(60, 90*60)), "OffDuty", "Early"))
	default:
		recs = append(recs, g.punch(user, p, day, off, off.Add(sec(0, 90*60)), "OffDuty", "Normal"))
	}
	return recs
}

func (g *recordGen) punch(user string, p profile, day, base, at time.Time, checkType, timeResult string) Record {
	r := g.base(user, p, day, at)
	r.BaseCheckTime = base
	r.CheckType = checkType
	r.TimeResult = timeResult
	r.LocationResult = "Normal"
	if p.source == "USER" && g.rng.Float64() < 0.04 {
		r.LocationResult = "Outside"
		r.Lat += 0.02 + g.rng.Float64()*0.05
		r.Lng += 0.02 + g.rng.Float64()*0.05
		r.Address = "浙江省杭州市西湖区"
		r.LocationMethod = "MAP"
		r.SSID, r.MacAddr = "", ""
	}
	r.IsLegal = "N"
	if r.TimeResult == "Normal" && r.LocationResult == "Normal" {
		r.IsLegal = "Y"
	}
	return r
}

// invalid is an extra punch the platform keeps but flags: no check type and
// no results, as in the platform's own example.
func (g *recordGen) invalid(user string, p profile, day, at time.Time) Record {
	r := g.base(user, p, day, at)
	r.IsLegal = "N"
	r.InvalidRecordType = "Other"
	if g.rng.IntN(4) == 0 {
		r.InvalidRecordType = "Security"
	}
	r.InvalidRecordMsg = "需要二次确认"
	return r
}

func (g *recordGen) base(user string, p profile, day, at time.Time) Record {
	r := Record{
		ID:         g.nextID,
		UserID:     user,
		CheckTime:  at.Add(time.Duration(g.rng.IntN(1000)) * time.Millisecond),
		WorkDate:   day,
		SourceType: p.source,
		GroupID:    685935028,
		PlanID:     144872188720 + g.nextID%1000,
	}
	g.nextID++
	switch p.source {
	case "USER", "BEACON":
		r.HasLocation = true
		r.Lat = officeLat + (g.rng.Float64()-0.5)*0.001
		r.Lng = officeLng + (g.rng.Float64()-0.5)*0.001
		r.Accuracy = float64(10 + g.rng.IntN(56))
		r.Address = officeAddress
		r.DeviceID = p.device
		r.LocationMethod = "MAP"
		if p.source == "BEACON" {
			r.LocationMethod = "BEACON"
		} else if p.wifi {
			r.LocationMethod = "WIFI"
			r.SSID = "Office-5G"
			r.MacAddr = "00:27:19:48:58:4c"
		}
	default:
		r.DeviceSN = p.deviceSN
		r.Address = "前台考勤机"
		r.LocationMethod = "ATM"
	}
	return r
}

// clone returns a copy of c that shares no slices with it.
func (c Company) clone() Company {
	out := c
	out.WorkDays = append([]string(nil), c.WorkDays...)
	out.Depts = append([]Dept(nil), c.Depts...)
	out.Records = append([]Record(nil), c.Records...)
	out.Instances = make([]Instance, len(c.Instances))
	for i, in := range c.Instances {
		out.Instances[i] = in.clone()
	}
	out.Users = make([]User, len(c.Users))
	for i, u := range c.Users {
		u.Depts = append([]int64(nil), u.Depts...)
		out.Users[i] = u
	}
	return out
}
