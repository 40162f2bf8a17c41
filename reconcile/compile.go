package reconcile

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// RuleError is one problem in a rules file; Path is the dotted YAML path
// (e.g. "shifts.night.start", "assign.dated[0].from") and Msg names the
// offending value and the fix.
type RuleError struct{ Path, Msg string }

// Error returns "path: msg", e.g.
// `shifts.night.start: "25:00" must be HH:MM (00:00–23:59)`.
func (e *RuleError) Error() string { return e.Path + ": " + e.Msg }

// Anomaly defaults, applied when the rules leave a value at zero.
const (
	DefaultOfflineAfter = time.Hour
	DefaultMaxSpeedKmh  = 120.0
	DefaultDriftKm      = 1.0
	DefaultLookback     = 12 * time.Hour
)

// maxWindowMargin bounds checkin_opens_before and checkout_closes_after: a
// window reaching further than a day into its neighbours is a typo, and the
// bound keeps EventSpan and DatesFor small.
const maxWindowMargin = 24 * time.Hour

// shiftDef is a compiled Shift; all durations in seconds.
type shiftDef struct {
	name                 string
	startMin, endMin     int  // minutes since local midnight
	overnight            bool // endMin <= startMin: the shift ends on D+1
	open, close          int64
	lateGrace            int64
	earlyGrace           int64
	halfDayBelow         int64
	absentBelow          int64
	strict               bool
	everyPair            bool
	otAfter              int64
	otRequiresApproval   bool
	minOffset, maxOffset int64 // window edges relative to local midnight of D (nominal, no DST)
}

// Engine is a compiled rules file. It is safe for concurrent use, and every
// method is pure: the only state it keeps is a cache of date strings.
type Engine struct {
	loc       *time.Location
	shifts    []shiftDef
	def       []int32
	employees map[string][]int32
	dated     map[string][]datedRange // per employee, sorted by from
	restDays  [7]bool                 // by time.Weekday
	holidays  map[day]bool
	settle    int64

	offlineAfter int64
	maxSpeedKmh  float64
	driftKm      float64
	lookback     int64
	disabled     map[string]bool

	// minOff and maxOff bound every window relative to local midnight of
	// its date D, in seconds; spanBefore/After are the same in whole days
	// (rounded up, plus one for a DST day).
	minOff, maxOff        int64
	spanBefore, spanAfter int

	// dates caches day.String: the same dates recur in every employee's
	// records. It is the one mutable part, safe for concurrent use.
	dates sync.Map // day → string
}

// dateString is d.String(), cached.
func (e *Engine) dateString(d day) string {
	if s, ok := e.dates.Load(d); ok {
		return s.(string)
	}
	s := d.String()
	e.dates.Store(d, s)
	return s
}

// Location is the rules' time zone, in which dates and shift times are read.
func (e *Engine) Location() *time.Location { return e.loc }

// Compile validates rules and prepares them for Employee. It reports every
// problem at once, as an errors.Join of *RuleError, each naming the dotted
// path, the value and the fix.
func Compile(r Rules) (*Engine, error) {
	c := compiler{e: &Engine{
		employees: map[string][]int32{},
		dated:     map[string][]datedRange{},
		holidays:  map[day]bool{},
		disabled:  map[string]bool{},
	}}
	c.timezone(r.Timezone)
	c.compileShifts(r.Shifts)
	c.assign(r.Assign)
	c.holidays(r.Holidays)
	if r.Settle < 0 {
		c.add("settle", "%q must not be negative; use 0m to finalize as soon as a window closes", r.Settle)
	}
	c.e.settle = secs(r.Settle)
	c.anomalies(r.Anomalies)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	c.bounds()
	return c.e, nil
}

type compiler struct {
	e     *Engine
	errs  []error
	index map[string]int32
}

func (c *compiler) add(path, format string, args ...any) {
	c.errs = append(c.errs, &RuleError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

func (c *compiler) timezone(tz string) {
	if tz == "" {
		c.add("timezone", "is required: an IANA zone such as Asia/Shanghai")
		c.e.loc = time.UTC
		return
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		c.add("timezone", "%q is not a known IANA zone; use a name such as Asia/Shanghai", tz)
		c.e.loc = time.UTC
		return
	}
	c.e.loc = loc
}

// parseHHMM reads "HH:MM" (00:00–23:59) as minutes since midnight.
func parseHHMM(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

func (c *compiler) compileShifts(shifts map[string]Shift) {
	c.index = map[string]int32{}
	if len(shifts) == 0 {
		c.add("shifts", "is empty: define at least one shift, e.g. standard: {start: \"09:00\", end: \"18:00\"}")
		return
	}
	names := make([]string, 0, len(shifts))
	for n := range shifts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		c.index[name] = int32(len(c.e.shifts))
		c.e.shifts = append(c.e.shifts, c.shift(name, shifts[name]))
	}
}

func (c *compiler) shift(name string, s Shift) shiftDef {
	p := "shifts." + name
	d := shiftDef{name: name}
	if strings.TrimSpace(name) == "" {
		c.add("shifts", "a shift has an empty name; give every shift a name")
	}
	var ok bool
	if d.startMin, ok = parseHHMM(s.Start); !ok {
		c.add(p+".start", "%q must be HH:MM (00:00–23:59)", s.Start)
	}
	if d.endMin, ok = parseHHMM(s.End); !ok {
		c.add(p+".end", "%q must be HH:MM (00:00–23:59); an end at or before the start means the next day", s.End)
	}
	d.overnight = d.endMin <= d.startMin
	for _, f := range []struct {
		key string
		v   time.Duration
		dst *int64
	}{
		{"checkin_opens_before", s.CheckinOpensBefore, &d.open},
		{"checkout_closes_after", s.CheckoutClosesAfter, &d.close},
		{"late_grace", s.LateGrace, &d.lateGrace},
		{"early_exit_grace", s.EarlyExitGrace, &d.earlyGrace},
		{"half_day_below", s.HalfDayBelow, &d.halfDayBelow},
		{"absent_below", s.AbsentBelow, &d.absentBelow},
		{"overtime.after", s.Overtime.After, &d.otAfter},
	} {
		if f.v < 0 {
			c.add(p+"."+f.key, "%q must not be negative", f.v)
		}
		*f.dst = secs(f.v)
	}
	if s.CheckinOpensBefore > maxWindowMargin {
		c.add(p+".checkin_opens_before", "%q is longer than %s; a window may open at most a day before the start", s.CheckinOpensBefore, maxWindowMargin)
	}
	if s.CheckoutClosesAfter > maxWindowMargin {
		c.add(p+".checkout_closes_after", "%q is longer than %s; a window may close at most a day after the end", s.CheckoutClosesAfter, maxWindowMargin)
	}
	if s.AbsentBelow > 0 && s.HalfDayBelow > 0 && s.AbsentBelow > s.HalfDayBelow {
		c.add(p+".absent_below", "%q is above half_day_below %q, so half_day could never apply; make absent_below at most half_day_below", s.AbsentBelow, s.HalfDayBelow)
	}
	switch s.Directions {
	case "", "alternate":
	case "strict":
		d.strict = true
	default:
		c.add(p+".directions", "%q must be alternate or strict", s.Directions)
	}
	switch s.WorkingHours {
	case "", "first_last":
	case "every_pair":
		d.everyPair = true
	default:
		c.add(p+".working_hours", "%q must be first_last or every_pair", s.WorkingHours)
	}
	d.otRequiresApproval = s.Overtime.RequiresApproval
	end := int64(d.endMin) * 60
	if d.overnight {
		end += 86400
	}
	d.minOffset = int64(d.startMin)*60 - d.open
	d.maxOffset = end + d.close
	return d
}

func (c *compiler) holidays(hs []string) {
	for i, h := range hs {
		d, ok := parseDay(h)
		if !ok {
			c.add(fmt.Sprintf("holidays[%d]", i), "%q must be a date YYYY-MM-DD", h)
			continue
		}
		c.e.holidays[d] = true
	}
}

func (c *compiler) anomalies(a AnomalyRules) {
	e := c.e
	e.offlineAfter, e.maxSpeedKmh, e.driftKm, e.lookback = secs(DefaultOfflineAfter), DefaultMaxSpeedKmh, DefaultDriftKm, secs(DefaultLookback)
	switch {
	case a.OfflineAfter < 0:
		c.add("anomalies.offline_after", "%q must not be negative; to turn the check off, list offline_upload under anomalies.disabled", a.OfflineAfter)
	case a.OfflineAfter > 0:
		e.offlineAfter = secs(a.OfflineAfter)
	}
	switch {
	case a.MaxSpeedKmh < 0 || math.IsNaN(a.MaxSpeedKmh) || math.IsInf(a.MaxSpeedKmh, 0):
		c.add("anomalies.max_speed_kmh", "%v must be a positive speed in km/h (default 120)", a.MaxSpeedKmh)
	case a.MaxSpeedKmh > 0:
		e.maxSpeedKmh = a.MaxSpeedKmh
	}
	switch {
	case a.DriftKm < 0 || math.IsNaN(a.DriftKm) || math.IsInf(a.DriftKm, 0):
		c.add("anomalies.drift_km", "%v must be a positive distance in km (default 1)", a.DriftKm)
	case a.DriftKm > 0:
		e.driftKm = a.DriftKm
	}
	switch {
	case a.Lookback < 0 || a.Lookback > 7*24*time.Hour:
		c.add("anomalies.lookback", "%q must be between 0s and 168h (default 12h)", a.Lookback)
	case a.Lookback > 0:
		e.lookback = secs(a.Lookback)
	}
	for i, t := range a.Disabled {
		if !slices.Contains(AnomalyTypes(), t) {
			c.add(fmt.Sprintf("anomalies.disabled[%d]", i), "%q is not an anomaly type; use one of: %s", t, strings.Join(AnomalyTypes(), ", "))
			continue
		}
		e.disabled[t] = true
	}
}

// bounds computes how far windows reach around their date.
func (c *compiler) bounds() {
	e := c.e
	e.minOff, e.maxOff = math.MaxInt64, math.MinInt64
	for _, s := range e.shifts {
		e.minOff = min(e.minOff, s.minOffset)
		e.maxOff = max(e.maxOff, s.maxOffset)
	}
	const daySec = 86400
	before := int64(0)
	if e.minOff < 0 {
		before = -e.minOff
	}
	e.spanBefore = int((before+daySec-1)/daySec) + 1
	e.spanAfter = int((e.maxOff+daySec-1)/daySec) + 1
}
