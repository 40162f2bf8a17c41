package mapping

import (
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Option tunes how a mapping is compiled.
type Option func(*options)

type options struct {
	zone *time.Location
	name string
}

// WithTimezone sets the zone that format transforms without a zone: of
// their own write times in, over the file's timezone: (a sink's timezone
// setting uses it).
func WithTimezone(loc *time.Location) Option { return func(o *options) { o.zone = loc } }

// WithName names the mapping in errors instead of its file, e.g.
// "preset frappe-checkin".
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Mapping is a compiled field mapping: it turns one JSON input (an event,
// a day record or a platform payload) into one JSON output. It is
// immutable and safe for concurrent use.
//
// The file names its input and lists output fields in order; each field
// reads a gjson path (or a list, the first with a value winning) or is a
// constant, then runs its transforms in order. Every path is compiled
// once: a path whose first key is plain is read from the values one pass
// over the input's top level collected, and plain output paths are
// written by a tree built at load (sjson writes the others), so that
// mapping a record costs a few microseconds and no reflection. Checks
// that need no input (unknown transform, bad layout, unknown zone, a
// required field whose table has no default, a misspelt schema path) fail
// the load with file:line.
type Mapping struct {
	name   string
	input  string
	desc   string
	when   *condition
	fields []field
	r      *reader
	root   *outNode
	sjson  []int // fields whose output path needs sjson
}

// field is one compiled output field.
type field struct {
	out      string
	line     int
	from     []path // tried in order; the first with a value wins
	constant bool
	value    mval
	steps    []*transform
}

// Load reads and compiles the mapping file at path.
func Load(path string, opts ...Option) (*Mapping, error) {
	s, err := readSpec(path)
	if err != nil {
		return nil, err
	}
	return compile(s, opts, false)
}

// Parse compiles the mapping in data; file names it in errors.
func Parse(data []byte, file string, opts ...Option) (*Mapping, error) {
	s, err := parseSpec(data, file)
	if err != nil {
		return nil, err
	}
	return compile(s, opts, false)
}

// ParseNode compiles a mapping written inline in another YAML file (a
// sink's mapping: block); file is that file, and errors carry its lines.
func ParseNode(n *yaml.Node, file string, opts ...Option) (*Mapping, error) {
	s, err := parseSpecNode(n, file)
	if err != nil {
		return nil, err
	}
	return compile(s, opts, false)
}

// compiler checks a spec and builds its parts.
type compiler struct {
	p     *parser
	input string
	zone  *time.Location
	r     *reader
}

func (c *compiler) errorf(line int, format string, args ...any) { c.p.errorf(line, format, args...) }

// sourcePath compiles a source path and, for the Punchbridge schemas,
// checks that it names a real field.
func (c *compiler) sourcePath(p string, line int, where string) path {
	if msg := schemaPathProblem(c.input, p); msg != "" {
		c.errorf(line, "%s: path %q: %s", where, p, msg)
	}
	return c.r.compile(p)
}

func compile(s *spec, opts []Option, inbound bool) (*Mapping, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	c := &compiler{p: &parser{file: s.file, errs: append(LoadErrors(nil), s.problems...)}, input: s.input, r: newReader()}
	m := &Mapping{name: s.file, input: s.input, desc: s.desc, r: c.r}
	if o.name != "" {
		m.name = o.name
	}
	switch {
	case s.input == "":
		c.errorf(s.line, "input: is required; name what the mapping reads: %s", strings.Join(inputs, ", "))
	case !contains(inputs, s.input):
		c.errorf(s.inputLine, "input %q: unknown; use one of %s", s.input, strings.Join(inputs, ", "))
	}
	if s.inbound && !inbound {
		c.errorf(s.line, "template:, templates: and leave_types: belong to inbound mappings, which connectors load; this file is used as an outbound mapping")
	}
	if s.timezone != "" {
		loc, err := loadZone(s.timezone)
		if err != nil {
			c.errorf(s.tzLine, "timezone %q: %s", s.timezone, err)
		}
		c.zone = loc
	}
	if o.zone != nil {
		c.zone = o.zone
	}
	if s.when != nil {
		if arg := deref(s.when.arg); arg != nil {
			m.when = c.condition(arg, "when")
		} else {
			c.errorf(s.when.line, "when: want a path, or {path: ..., equals: ...}")
		}
	}
	if len(s.fields) == 0 && !inbound {
		c.errorf(s.line, "fields: is required and lists the output fields, e.g. fields: {employee: employee_id}")
	}
	for _, fs := range s.fields {
		m.fields = append(m.fields, c.field(fs))
	}
	m.root, m.sjson = c.outputs(m.fields)
	if err := c.p.errs.err(); err != nil {
		return nil, err
	}
	return m, nil
}

func (c *compiler) field(fs fieldSpec) field {
	f := field{out: fs.out, line: fs.line}
	where := "fields." + fs.out
	for _, p := range fs.from {
		f.from = append(f.from, c.sourcePath(p, fs.fromLine, where))
	}
	if fs.value != nil {
		v, ok := fromYAML(fs.value)
		if !ok {
			c.errorf(fs.value.Line, "%s: value %q does not read as a number or true/false; quote it to make it text", where, fs.value.Value)
		}
		f.constant, f.value = true, v
	}
	required := false
	for _, ts := range fs.transforms {
		t := c.compileTransform(ts, fs.out)
		if t == nil {
			continue
		}
		required = required || t.op == opRequired
		f.steps = append(f.steps, t)
	}
	if required {
		for _, t := range f.steps {
			if (t.op == opMap || t.op == opContains) && !t.hasDefault {
				c.errorf(t.line, "%s: the field is required, but this table has no default:, so a value it does not list would fail every record; add default: <value>", where)
			}
		}
	}
	return f
}

// Name is the mapping's file (or the name given WithName).
func (m *Mapping) Name() string { return m.name }

// Input is the input the mapping declares it reads.
func (m *Mapping) Input() string { return m.input }

// Description is the file's description: text.
func (m *Mapping) Description() string { return m.desc }

// Fields lists the output paths in file order: the columns of a CSV.
func (m *Mapping) Fields() []string {
	out := make([]string, len(m.fields))
	for i, f := range m.fields {
		out[i] = f.out
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}
