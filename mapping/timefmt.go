package mapping

import (
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Named layouts a format transform accepts besides Go layouts.
var namedLayouts = map[string]string{
	"RFC3339":     time.RFC3339,
	"RFC3339Nano": time.RFC3339Nano,
	"DateTime":    time.DateTime,
	"DateOnly":    time.DateOnly,
	"TimeOnly":    time.TimeOnly,
	"rfc3339":     time.RFC3339Nano, // parsing: accepts fractions too
}

// Layout kinds: a Go layout, or a Unix time in seconds or milliseconds.
const (
	layoutGo = iota
	layoutUnix
	layoutUnixMs
)

type timeLayout struct {
	kind     int
	layout   string
	dateOnly bool // no time of day: the value names a whole day
	hasZone  bool // the layout carries an offset or zone
}

// timeFormat is a compiled format transform: read a time in one of the
// from layouts, write it in the out layout, in zone.
type timeFormat struct {
	from     []timeLayout
	out      timeLayout
	zone     *time.Location // nil: keep the offset the time was written with
	parseLoc *time.Location // for from layouts without an offset
	endOfDay bool
}

// refTime is Go's reference time, used to check layouts.
var refTime = time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("MST", -7*3600))

// layoutTokens are the date notations of other languages; a layout with
// them is a common mistake, since Go writes the reference time instead.
var layoutTokens = []string{"YYYY", "yyyy", "YY", "MM", "DD", "dd", "HH", "hh", "mm", "ss", "SSS", "%Y", "%m", "%d", "%H", "%M", "%S"}

// compileLayout checks one layout and returns it compiled, or a reason.
func compileLayout(s string) (timeLayout, string) {
	switch s {
	case "unix":
		return timeLayout{kind: layoutUnix, hasZone: true}, ""
	case "unix_ms":
		return timeLayout{kind: layoutUnixMs, hasZone: true}, ""
	}
	layout := s
	if named, ok := namedLayouts[s]; ok {
		layout = named
	}
	for _, tok := range layoutTokens {
		if strings.Contains(layout, tok) {
			return timeLayout{}, "is not a Go layout: Go writes the reference time 2006-01-02 15:04:05 (Jan 2 2006, 3:04:05 PM), not " + tok + "; e.g. 2006-01-02 15:04:05, or a name: RFC3339, DateOnly, DateTime, unix, unix_ms"
		}
	}
	if time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC).Format(layout) == layout {
		return timeLayout{}, "has no element of the reference time 2006-01-02 15:04:05; write e.g. 2006-01-02 15:04:05, or a name: RFC3339, DateOnly, DateTime, unix, unix_ms"
	}
	if _, err := time.Parse(layout, refTime.Format(layout)); err != nil {
		return timeLayout{}, "cannot read back what it writes (" + err.Error() + "); check the layout"
	}
	// Same wall clock, other zone: differs only where the layout writes
	// the zone. Same day, other clock: differs only where it writes a
	// time of day.
	otherZone := time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("IST", 5*3600+1800))
	otherClock := refTime.Add(3*time.Hour + 17*time.Minute + 13*time.Second)
	return timeLayout{
		kind:     layoutGo,
		layout:   layout,
		dateOnly: refTime.Format(layout) == otherClock.Format(layout),
		hasZone:  refTime.Format(layout) != otherZone.Format(layout),
	}, ""
}

func (c *compiler) timeFormat(n *yaml.Node, where string) *timeFormat {
	tf := &timeFormat{}
	var out, zone string
	var fromNode *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		out = n.Value // shorthand: format: "2006-01-02"
	case yaml.MappingNode:
		for _, kv := range c.p.pairs(n, where+".") {
			k, v := kv[0], deref(kv[1])
			switch k.Value {
			case "layout":
				out = c.p.text(v, where+".layout")
			case "zone":
				zone = c.p.text(v, where+".zone")
			case "from":
				fromNode = kv[1]
			case "end_of_day":
				if v == nil || v.ShortTag() != "!!bool" {
					c.errorf(k.Line, "%s.end_of_day: want true or false", where)
					continue
				}
				_ = v.Decode(&tf.endOfDay)
			default:
				c.p.unknown(k, where+".", []string{"layout", "zone", "from", "end_of_day"})
			}
		}
	default:
		c.errorf(n.Line, "%s: want a layout, or {layout: ..., zone: ..., from: ...}, found %s", where, describe(n))
		return nil
	}
	if out == "" {
		c.errorf(n.Line, "%s: needs layout:, the Go layout to write, e.g. \"2006-01-02 15:04:05\" or RFC3339", where)
		return nil
	}
	var reason string
	if tf.out, reason = compileLayout(out); reason != "" {
		c.errorf(n.Line, "%s: layout %q %s", where, out, reason)
	}
	if zone != "" {
		loc, err := loadZone(zone)
		if err != nil {
			c.errorf(n.Line, "%s: zone %q: %s", where, zone, err)
		}
		tf.zone = loc
	} else {
		tf.zone = c.zone // the mapping's (or the caller's) time zone, or nil
	}
	tf.parseLoc = tf.zone
	froms := []string{"rfc3339"}
	if fromNode != nil {
		froms = c.p.paths(fromNode, where+".from")
	}
	for _, f := range froms {
		l, reason := compileLayout(f)
		if reason != "" {
			c.errorf(lineOf(fromNode), "%s: from %q %s", where, f, reason)
			continue
		}
		if l.kind == layoutGo && !l.hasZone && tf.parseLoc == nil {
			c.errorf(lineOf(fromNode), "%s: from %q has no UTC offset, so the time zone it is read in must be given: set zone: here or timezone: at the top of the mapping", where, f)
		}
		tf.from = append(tf.from, l)
	}
	return tf
}

// loadZone loads an IANA zone name; Local is refused because the result
// would depend on the machine.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" || name == "" {
		return nil, errString("name an IANA time zone such as Asia/Shanghai or UTC, not the machine's local zone")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errString("unknown time zone; use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC")
	}
	return loc, nil
}

type errString string

func (e errString) Error() string { return string(e) }

func (tf *timeFormat) apply(v mval) (mval, bool, string) {
	t, l, ok := tf.parse(v)
	if !ok {
		return v, keep, "is not a time in " + tf.expected()
	}
	if tf.endOfDay && l.dateOnly {
		t = t.AddDate(0, 0, 1)
	}
	if tf.zone != nil {
		t = t.In(tf.zone)
	}
	switch tf.out.kind {
	case layoutUnix:
		return numberVal(float64(t.Unix()), 0), keep, ""
	case layoutUnixMs:
		return numberVal(float64(t.UnixMilli()), 0), keep, ""
	}
	return mval{k: vString, s: t.Format(tf.out.layout)}, keep, ""
}

func (tf *timeFormat) parse(v mval) (time.Time, timeLayout, bool) {
	for _, l := range tf.from {
		switch l.kind {
		case layoutUnix, layoutUnixMs:
			var n int64
			switch v.k {
			case vNumber:
				n = int64(v.n)
			case vString:
				var err error
				if n, err = strconv.ParseInt(strings.TrimSpace(v.s), 10, 64); err != nil {
					continue
				}
			default:
				continue
			}
			if l.kind == layoutUnix {
				return time.Unix(n, 0), l, true
			}
			return time.UnixMilli(n), l, true
		default:
			if v.k != vString {
				continue
			}
			loc := tf.parseLoc
			if loc == nil {
				loc = time.UTC
			}
			if t, err := time.ParseInLocation(l.layout, strings.TrimSpace(v.s), loc); err == nil {
				return t, l, true
			}
		}
	}
	return time.Time{}, timeLayout{}, false
}

func (tf *timeFormat) expected() string {
	names := make([]string, len(tf.from))
	for i, l := range tf.from {
		switch l.kind {
		case layoutUnix:
			names[i] = "unix seconds"
		case layoutUnixMs:
			names[i] = "unix milliseconds"
		default:
			names[i] = strconv.Quote(l.layout)
		}
	}
	return "the layout " + strings.Join(names, " or ") + " (set format's from: to the layout the input uses)"
}
