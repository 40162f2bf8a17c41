package config

import (
	"encoding"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxSecretFile bounds a *_file secret; credentials are short.
const maxSecretFile = 64 << 10

// maxSteps bounds the nodes one strict decode visits, so that a document
// built from nested aliases (a "billion laughs") fails instead of hanging.
const maxSteps = 1_000_000

// DecodeNode strictly decodes the YAML node n, read from file, into the
// struct (or other value) v points to. Unlike yaml's own decoding it
// reports unknown keys, repeated keys, values of the wrong type, bad
// durations and missing `required:"true"` fields, every one of them as a
// file:line *Error, all collected in the returned Errors. A Secret field x
// may be given as x_file: PATH instead (read relative to file's
// directory). Types implementing yaml.Unmarshaler decode themselves and
// their errors are reported at their line.
//
// The node is not modified. It returns a plain error, not Errors, when v is
// not a non-nil pointer.
func DecodeNode(n *yaml.Node, file string, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: decode %s: want a non-nil pointer, got %T", file, v)
	}
	if n == nil {
		return nil
	}
	memo := map[*yaml.Node]*yaml.Node{}
	n = copyTree(n, memo)
	d := newDecoder(file, "", nil)
	d.decode(n, v, "")
	return d.errs.err()
}

// decoder is one strict decode: where the node came from, how to label its
// messages, and the problems found so far.
type decoder struct {
	file  string
	dir   string // *_file paths are relative to it
	label string // prefix of every message, e.g. `connector "dingtalk-hq"`
	// written maps scalars whose ${ENV} references were expanded to the
	// text as written, so that messages quote "${NAME}", never its value.
	written map[*yaml.Node]string
	errs    Errors
	lines   map[int]bool // lines that already have a problem
	// failed holds the value nodes already reported as wrong, so that
	// later checks of what they decoded to stay quiet.
	failed map[*yaml.Node]bool
	active map[*yaml.Node]bool
	steps  int
}

func newDecoder(file, label string, written map[*yaml.Node]string) *decoder {
	if written == nil {
		written = map[*yaml.Node]string{}
	}
	return &decoder{
		file:    file,
		dir:     filepath.Dir(file),
		label:   label,
		written: written,
		lines:   map[int]bool{},
		failed:  map[*yaml.Node]bool{},
		active:  map[*yaml.Node]bool{},
	}
}

func (d *decoder) errorf(line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if d.label != "" {
		msg = d.label + ": " + msg
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: msg})
	d.lines[line] = true
}

// decode checks n against v's type, then lets yaml.v3 fill v. yaml.v3's own
// complaints are kept only where the check found nothing: on other lines,
// or, for those without a line, when the check found no problem at all.
func (d *decoder) decode(n *yaml.Node, v any, path string) {
	d.walk(n, reflect.TypeOf(v).Elem(), path)
	err := n.Decode(v)
	if err == nil {
		return
	}
	found := len(d.errs) > 0
	for _, m := range yamlMessages(err) {
		line, msg := splitYAMLLine(m)
		switch {
		case line > 0 && !d.lines[line]:
			d.errorf(line, "%s", d.redact(msg))
		case line == 0 && !found:
			d.errorf(n.Line, "%s", d.redact(msg))
		}
	}
}

// redact replaces, in a message written by other code (yaml.v3, a type's
// UnmarshalYAML or Validate), every value that came from ${NAME} or a
// *_file by the text as written, because such code quotes values freely.
// Values under 4 bytes are left: replacing them would garble the message
// more than they could reveal.
func (d *decoder) redact(msg string) string {
	for n, text := range d.written {
		if len(n.Value) >= 4 && strings.Contains(msg, n.Value) {
			msg = strings.ReplaceAll(msg, n.Value, text)
		}
	}
	return msg
}

// shown is the text of scalar n as the user wrote it.
func (d *decoder) shown(n *yaml.Node) string {
	if w, ok := d.written[n]; ok {
		return w
	}
	return n.Value
}

// describe names what n is, for "found ..." in messages.
func (d *decoder) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", d.shown(n))
	}
	return "an alias"
}

var (
	componentType   = reflect.TypeFor[Component]()
	secretType      = reflect.TypeFor[Secret]()
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	oldUnmarshaler  = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *decoder) walk(n *yaml.Node, t reflect.Type, path string) {
	if d.steps++; d.steps > maxSteps {
		if d.steps == maxSteps+1 {
			d.errorf(n.Line, "%s: document too large or too deeply aliased; simplify it", orTop(path))
		}
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.walk(n.Content[0], t, path)
		}
		return
	case yaml.AliasNode:
		if n.Alias == nil {
			return
		}
		if d.active[n.Alias] {
			d.errorf(n.Line, "%s: alias *%s contains itself; break the cycle", orTop(path), n.Value)
			return
		}
		d.active[n.Alias] = true
		d.walk(n.Alias, t, path)
		delete(d.active, n.Alias)
		return
	}
	if t == componentType {
		d.component(n, path)
		return
	}
	if isNull(n) {
		return // yaml decodes null as the zero value
	}
	if t == secretType {
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, "%s: want a text value, found %s", orTop(path), d.describe(n))
		}
		return
	}
	if d.custom(n, t, path) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		d.walk(n, t.Elem(), path)
	case reflect.Interface:
		// Anything decodes into an interface.
	case reflect.Struct:
		if n.Kind == yaml.ScalarNode && reflect.PointerTo(t).Implements(textType) {
			d.leaf(n, t, path)
			return
		}
		d.structure(n, t, path)
	case reflect.Map:
		d.mapping(n, t, path)
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.ScalarNode && t.Elem().Kind() == reflect.Uint8 {
			d.leaf(n, t, path)
			return
		}
		d.sequence(n, t, path)
	default:
		d.leaf(n, t, path)
	}
}

// custom runs a type's own UnmarshalYAML on a scratch value and reports
// its error at the line it names (or the node's). It returns false when t
// does not decode itself.
func (d *decoder) custom(n *yaml.Node, t reflect.Type, path string) bool {
	var err error
	switch pt := reflect.PointerTo(t); {
	case pt.Implements(unmarshalerType):
		err = reflect.New(t).Interface().(yaml.Unmarshaler).UnmarshalYAML(n)
	case pt.Implements(oldUnmarshaler):
		u := reflect.New(t).Interface().(interface{ UnmarshalYAML(func(any) error) error })
		err = u.UnmarshalYAML(func(v any) error { return n.Decode(v) })
	default:
		return false
	}
	if err != nil {
		d.failed[n] = true
		for _, m := range yamlMessages(err) {
			line, msg := splitYAMLLine(m)
			if line == 0 {
				line = n.Line
			}
			d.errorf(line, "%s: %s", orTop(path), d.redact(msg))
		}
	}
	return true
}

// leaf checks a scalar against a scalar type by letting yaml decode it.
func (d *decoder) leaf(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, "%s: want %s, found %s", orTop(path), want(t), d.describe(n))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err == nil {
		return
	}
	d.failed[n] = true
	if t == durationType {
		d.errorf(n.Line, "%s %q: bad duration; write a number with a unit, such as 90s, 60m or 72h", orTop(path), d.shown(n))
		return
	}
	d.errorf(n.Line, "%s %q: want %s", orTop(path), d.shown(n), want(t))
}

// want describes the values of type t.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == durationType {
			return "a duration such as 90s, 60m or 72h"
		}
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a text value"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	}
	return "a " + t.String() + " value"
}

func (d *decoder) sequence(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, "%s: want a list, found %s", orTop(path), d.describe(n))
		return
	}
	for i, item := range n.Content {
		d.walk(item, t.Elem(), indexPath(path, i))
	}
}

func (d *decoder) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, "%s: want a mapping, found %s", orTop(path), d.describe(n))
		return
	}
	for _, p := range d.pairs(n, path) {
		kpath := joinPath(path, p.key.Value)
		if t.Key().Kind() != reflect.String {
			d.leaf(p.key, t.Key(), kpath)
		}
		d.walk(p.val, t.Elem(), kpath)
	}
}

// pair is one key: value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs lists a mapping's entries, its own and those merged in with <<
// (own keys win), and reports keys that are not scalars or that repeat.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var own, merged []pair
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			merged = append(merged, d.merged(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, "%s: keys must be plain names, found %s", orTop(path), d.describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.errorf(k.Line, "%s: key repeated (first at line %d); remove one", joinPath(path, k.Value), line)
			continue
		}
		first[k.Value] = k.Line
		own = append(own, pair{k, v})
	}
	for _, p := range merged {
		if _, dup := first[p.key.Value]; !dup {
			first[p.key.Value] = p.key.Line
			own = append(own, p)
		}
	}
	return own
}

// merged lists the entries that a merge key (<<: *anchor or a list of
// anchors) brings in.
func (d *decoder) merged(v *yaml.Node, path string) []pair {
	if v.Kind == yaml.AliasNode {
		if v.Alias == nil || d.active[v.Alias] {
			d.errorf(v.Line, "%s: merge of *%s contains itself; break the cycle", orTop(path), v.Value)
			return nil
		}
		d.active[v.Alias] = true
		defer delete(d.active, v.Alias)
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			out = append(out, d.merged(item, path)...)
		}
		return out
	}
	d.errorf(v.Line, "%s: <<: want a mapping or an alias of one, found %s", orTop(path), d.describe(v))
	return nil
}

// orTop names the document's top level in messages about it.
func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// trimSecret removes the newline that editors and `echo` leave at the end
// of a secret file.
func trimSecret(b []byte) string { return strings.TrimRight(string(b), "\r\n") }
