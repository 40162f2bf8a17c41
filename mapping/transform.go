package mapping

import (
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// op is a transform's kind.
type op uint8

const (
	opMap op = iota
	opFormat
	opUnit
	opTrim
	opLower
	opUpper
	opRequired
	opWhen
	opDefault
	opReplace
	opNumber
	opString
	opJoin
	opContains
)

// transformNames lists every transform by the name a file uses.
var transformNames = map[string]op{
	"map": opMap, "format": opFormat, "unit": opUnit, "trim": opTrim, "lower": opLower, "upper": opUpper,
	"required": opRequired, "when": opWhen, "default": opDefault, "replace": opReplace,
	"number": opNumber, "string": opString, "join": opJoin, "contains": opContains,
}

// bareTransforms take no settings.
var bareTransforms = map[op]bool{opTrim: true, opLower: true, opUpper: true, opRequired: true, opNumber: true, opString: true}

// transform is one compiled step of a field. Only the members of its op
// are set.
type transform struct {
	op   op
	line int

	table      map[string]mval // map
	hasDefault bool            // map
	def        mval            // map: the default; default: the value
	tf         *timeFormat     // format
	conv       *unitConv       // unit
	cond       *condition      // when
	replacer   *strings.Replacer
	sep        string   // join
	needles    []string // contains, in table order; table holds their values
}

// keep is the step outcome "go on with the next transform"; false leaves
// the field out of the output.
const keep = true

// apply runs one transform. It returns the new value, whether the field
// is still emitted, and a failure reason ("" when none).
func (t *transform) apply(v mval, d *doc) (mval, bool, string) {
	switch t.op {
	case opWhen:
		return v, t.cond.holds(d), ""
	case opDefault:
		if !v.present() {
			return t.def, keep, ""
		}
		return v, keep, ""
	case opRequired:
		if !v.present() {
			return v, keep, "is required but has no value"
		}
		return v, keep, ""
	}
	if v.k == vNone {
		return v, keep, "" // nothing to transform
	}
	switch t.op {
	case opMap:
		if out, ok := t.table[v.text()]; ok {
			return out, keep, ""
		}
		if t.hasDefault {
			return t.def, keep, ""
		}
		return mval{}, keep, ""
	case opFormat:
		return t.tf.apply(v)
	case opUnit:
		return t.conv.apply(v)
	case opTrim:
		if v.k == vString {
			v.s = strings.TrimSpace(v.s)
		}
	case opLower:
		if v.k == vString {
			v.s = strings.ToLower(v.s)
		}
	case opUpper:
		if v.k == vString {
			v.s = strings.ToUpper(v.s)
		}
	case opReplace:
		if v.k == vString {
			v.s = t.replacer.Replace(v.s)
		}
	case opString:
		if v.k != vString {
			v = mval{k: vString, s: v.text()}
		}
	case opNumber:
		return toNumber(v)
	case opJoin:
		return join(v, t.sep), keep, ""
	case opContains:
		s := v.text()
		for _, n := range t.needles {
			if strings.Contains(s, n) {
				return t.table[n], keep, ""
			}
		}
		if t.hasDefault {
			return t.def, keep, ""
		}
		return mval{}, keep, ""
	}
	return v, keep, ""
}

func toNumber(v mval) (mval, bool, string) {
	switch v.k {
	case vNumber:
		return v, keep, ""
	case vString:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return mval{}, keep, ""
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return v, keep, "is not a number"
		}
		return numberVal(f, -1), keep, ""
	}
	return v, keep, "is not a number"
}

// join turns a JSON array of scalars into text joined by sep, skipping
// empty items; any other value becomes its text.
func join(v mval, sep string) mval {
	if v.k != vRaw || !strings.HasPrefix(v.s, "[") {
		return mval{k: vString, s: v.text()}
	}
	var b strings.Builder
	for _, item := range parseArray(v.s) {
		t := item.text()
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(t)
	}
	return mval{k: vString, s: b.String()}
}

// compileTransform checks one transform's settings. c reports problems
// and compiles paths.
func (c *compiler) compileTransform(ts transformSpec, field string) *transform {
	o, ok := transformNames[ts.name]
	if !ok {
		msg := "fields." + field + ": unknown transform " + strconv.Quote(ts.name)
		if near := nearest(ts.name, transformList()); near != "" {
			msg += "; did you mean " + near + "?"
		} else {
			msg += "; known transforms: " + strings.Join(transformList(), ", ")
		}
		c.errorf(ts.line, "%s", msg)
		return nil
	}
	t := &transform{op: o, line: ts.line}
	where := "fields." + field + ": " + ts.name
	arg := deref(ts.arg)
	if bareTransforms[o] {
		if ts.arg != nil {
			c.errorf(ts.line, "%s takes no settings; write it as a plain list item: - %s", where, ts.name)
		}
		return t
	}
	if arg == nil {
		c.errorf(ts.line, "%s needs settings; see docs/MAPPINGS.md for an example", where)
		return nil
	}
	switch o {
	case opMap:
		t.table, t.def, t.hasDefault, _ = c.table(arg, where)
	case opContains:
		t.table, t.def, t.hasDefault, t.needles = c.table(arg, where)
	case opFormat:
		t.tf = c.timeFormat(arg, where)
	case opUnit:
		t.conv = c.unitConv(arg, where)
	case opWhen:
		t.cond = c.condition(arg, where)
	case opDefault:
		if arg.Kind != yaml.ScalarNode {
			c.errorf(arg.Line, "%s: want a text, number or true/false, found %s", where, describe(arg))
			return nil
		}
		t.def, _ = fromYAML(arg)
	case opReplace:
		t.replacer = c.replacer(arg, where)
	case opJoin:
		if arg.Kind != yaml.ScalarNode || arg.Value == "" {
			c.errorf(arg.Line, "%s: want the separator text, such as %q, found %s", where, ",", describe(arg))
			return nil
		}
		t.sep = arg.Value
	}
	return t
}

func transformList() []string {
	out := make([]string, 0, len(transformNames))
	for name := range transformNames {
		out = append(out, name)
	}
	return sortStrings(out)
}

// table reads a map: or contains: table; the key "default" is the value
// for anything not listed. keys lists the other keys in file order.
func (c *compiler) table(n *yaml.Node, where string) (table map[string]mval, def mval, hasDefault bool, keys []string) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		c.errorf(n.Line, "%s: want a table of value: new value (and default: ...), found %s", where, describe(n))
		return nil, mval{}, false, nil
	}
	table = map[string]mval{}
	for _, kv := range c.p.pairs(n, where+".") {
		k, v := kv[0], deref(kv[1])
		if v == nil {
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
		}
		if v.Kind != yaml.ScalarNode {
			c.errorf(k.Line, "%s.%s: want a text, number or true/false, found %s", where, k.Value, describe(v))
			continue
		}
		out, _ := fromYAML(v)
		if k.Value == "default" {
			def, hasDefault = out, true
			continue
		}
		if k.Value == "" {
			c.errorf(k.Line, "%s: an empty key matches nothing useful; remove it or use default:", where)
			continue
		}
		table[k.Value] = out
		keys = append(keys, k.Value)
	}
	return table, def, hasDefault, keys
}

func (c *compiler) replacer(n *yaml.Node, where string) *strings.Replacer {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		c.errorf(n.Line, "%s: want a table of text: replacement, found %s", where, describe(n))
		return nil
	}
	var args []string
	for _, kv := range c.p.pairs(n, where+".") {
		k, v := kv[0], deref(kv[1])
		switch {
		case k.Value == "":
			c.errorf(k.Line, "%s: cannot replace the empty text", where)
		case v == nil:
			args = append(args, k.Value, "")
		case v.Kind != yaml.ScalarNode:
			c.errorf(k.Line, "%s.%s: want the replacement text, found %s", where, k.Value, describe(v))
		default:
			args = append(args, k.Value, v.Value)
		}
	}
	return strings.NewReplacer(args...)
}
