package mapping

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Layer is one part of an inbound mapping: the built-in default for a
// platform, then a config's override. Give Data (a file's text) or Node
// (a block inside another YAML file), or neither to read File from disk.
type Layer struct {
	File string
	Data []byte
	Node *yaml.Node
}

// LoadInbound reads the inbound mapping files at paths, each overriding
// the ones before it, and compiles them.
func LoadInbound(paths ...string) (*Inbound, error) {
	layers := make([]Layer, len(paths))
	for i, p := range paths {
		layers[i] = Layer{File: p}
	}
	return CompileInbound(layers)
}

// CompileInbound merges layers in order and compiles the result. A later
// layer replaces a field, a templates: type list, the timezone:, when:
// and template: of the earlier ones, and adds to or replaces entries of
// leave_types:. Every problem of every layer is reported with its file
// and line.
func CompileInbound(layers []Layer, opts ...Option) (*Inbound, error) {
	if len(layers) == 0 {
		return nil, LoadErrors{{File: "(inbound mapping)", Msg: "no mapping given"}}
	}
	var errs LoadErrors
	var merged *spec
	for _, l := range layers {
		s, err := l.spec()
		if err != nil {
			errs = append(errs, err.(LoadErrors)...)
			continue
		}
		if merged != nil && s.input == "" {
			s.input, s.inputLine = merged.input, s.line
		}
		// Each layer is compiled alone first, so that its problems carry
		// its own file name.
		if _, err := compileInbound(s, opts); err != nil {
			errs = append(errs, err.(LoadErrors)...)
			continue
		}
		merged = mergeSpecs(merged, s, &errs)
	}
	if len(errs) > 0 {
		return nil, errs.err()
	}
	return compileInbound(merged, opts)
}

func (l Layer) spec() (*spec, error) {
	switch {
	case l.Node != nil:
		return parseSpecNode(l.Node, l.File)
	case l.Data != nil:
		return parseSpec(l.Data, l.File)
	}
	return readSpec(l.File)
}

// mergeSpecs lays over on top of base (nil for the first layer).
func mergeSpecs(base, over *spec, errs *LoadErrors) *spec {
	if base == nil {
		return over
	}
	if over.input != base.input {
		*errs = append(*errs, &LoadError{File: over.file, Line: over.inputLine,
			Msg: "input " + strconv.Quote(over.input) + ": the mapping it overrides reads " + strconv.Quote(base.input)})
	}
	m := *base
	m.file = over.file
	if over.timezone != "" {
		m.timezone, m.tzLine = over.timezone, over.tzLine
	}
	if over.when != nil {
		m.when = over.when
	}
	if over.templateLine != 0 {
		m.template, m.templateLine = over.template, over.templateLine
	}
	m.templates = map[string][]string{}
	for k, v := range base.templates {
		m.templates[k] = v
	}
	for k, v := range over.templates {
		m.templates[k] = v
	}
	m.leaveTables = append(append([]fileNode(nil), base.leaveTables...), over.leaveTables...)
	m.fields = append([]fieldSpec(nil), base.fields...)
	for _, f := range over.fields {
		replaced := false
		for i := range m.fields {
			if m.fields[i].out == f.out {
				m.fields[i], replaced = f, true
			}
		}
		if !replaced {
			m.fields = append(m.fields, f)
		}
	}
	return &m
}

func compileInbound(s *spec, opts []Option) (*Inbound, error) {
	s2 := *s
	s2.fields = append([]fieldSpec(nil), s.fields...)
	p := &parser{file: s.file}
	for _, f := range s.fields {
		if !contains(inboundFields, f.out) {
			p.errorf(f.line, "fields.%s: an inbound mapping fills only %s", f.out, quoteList(inboundFields))
		}
	}
	if s.template != "" {
		s2.fields = append(s2.fields, fieldSpec{out: templateField, line: s.templateLine, from: []string{s.template}, fromLine: s.templateLine})
	}
	in := &Inbound{idx: map[string]int{}, templates: map[string]string{}, leaveTypes: map[string]string{}}
	seen := map[string]string{}
	for _, typ := range sortedKeys(templateTypes) {
		for _, id := range s.templates[typ] {
			if other, dup := seen[id]; dup && other != typ {
				p.errorf(s.templateLines[typ], "templates.%s: %q is also listed under %s; a template has one meaning", typ, id, other)
				continue
			}
			seen[id] = typ
			in.templates[id] = typ
		}
	}
	for _, t := range s.leaveTables {
		p.leaveTable(t, in)
	}
	m, err := compile(&s2, opts, true)
	if err != nil {
		p.errs = append(p.errs, err.(LoadErrors)...)
	}
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	in.m = m
	for i, f := range m.fields {
		in.idx[f.out] = i
	}
	return in, nil
}

// leaveTable reads one leave_types: table into in.
func (p *parser) leaveTable(t fileNode, in *Inbound) {
	p.file = t.file
	n := deref(t.node)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(lineOf(n), "leave_types: want a table of platform leave name: HR code (and default: ...), found %s", describe(n))
		return
	}
	for _, kv := range p.pairs(n, "leave_types.") {
		k, v := kv[0], deref(kv[1])
		if v == nil || v.Kind != yaml.ScalarNode || v.Value == "" {
			p.errorf(k.Line, "leave_types.%s: want the HR leave code, found %s", k.Value, describe(v))
			continue
		}
		if k.Value == "default" {
			in.leaveDefault, in.hasDefault = v.Value, true
			continue
		}
		in.leaveTypes[k.Value] = v.Value
	}
}

// IsInbound reports whether the YAML mapping file text is an inbound
// mapping (it has template:, templates: or leave_types:), for tools that
// take either kind.
func IsInbound(data []byte) bool {
	var probe map[string]yaml.Node
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return false
	}
	for k := range inboundKeys {
		if _, ok := probe[k]; ok {
			return true
		}
	}
	return false
}

// quoteList quotes each item, for messages.
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// SettingsLayer builds a layer from settings a connector already has in
// Go: template ids by type (leave, overtime, trip, out, makeup) and leave
// names to HR codes. name labels it in errors, e.g. `connector
// "dingtalk-hq"`. An empty list or table leaves the layer below as it is.
func SettingsLayer(name string, templates map[string][]string, leaveTypes map[string]string) Layer {
	doc := map[string]any{}
	t := map[string][]string{}
	for typ, ids := range templates {
		if len(ids) > 0 {
			t[typ] = ids
		}
	}
	if len(t) > 0 {
		doc["templates"] = t
	}
	if len(leaveTypes) > 0 {
		doc["leave_types"] = leaveTypes
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		// Maps of strings always marshal.
		panic("mapping: marshal settings layer: " + err.Error())
	}
	return Layer{File: name, Data: data}
}
