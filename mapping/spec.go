package mapping

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// maxMappingFile bounds a mapping file; a large one is a mistake (a
// payload given where the mapping belongs).
const maxMappingFile = 1 << 20

// spec is a mapping file as written, with the line of everything in it.
// It is what Compile checks and turns into a Mapping.
type spec struct {
	file      string
	line      int // of the document
	input     string
	inputLine int
	desc      string
	timezone  string
	tzLine    int
	when      *transformSpec // record filter; its name is "when"
	fields    []fieldSpec

	// Inbound mappings only.
	template      string
	templateLine  int
	templates     map[string][]string
	templateLines map[string]int
	leaveTables   []fileNode // leave_types: of each layer, in order
	inbound       bool       // any of the inbound keys was written
	problems      LoadErrors // found while parsing
}

// fileNode is a YAML node with the file it was read from.
type fileNode struct {
	file string
	node *yaml.Node
}

// fieldSpec is one output field.
type fieldSpec struct {
	out        string
	line       int
	from       []string
	fromLine   int
	value      *yaml.Node // a constant, when set
	transforms []transformSpec
}

// transformSpec is one transform as written: its name and its argument
// (nil for the bare-word transforms such as trim).
type transformSpec struct {
	name string
	line int
	arg  *yaml.Node
}

// Top-level and field keys, for "did you mean".
var (
	topKeys     = []string{"input", "description", "timezone", "when", "fields", "template", "templates", "leave_types"}
	fieldKeys   = []string{"from", "value", "transforms"}
	inboundKeys = map[string]bool{"template": true, "templates": true, "leave_types": true}
)

// parser collects the problems of one file.
type parser struct {
	file string
	errs LoadErrors
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &LoadError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// readSpec reads and parses a mapping file.
func readSpec(path string) (*spec, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, LoadErrors{{File: path, Msg: err.Error()}}
	}
	return parseSpec(data, path)
}

func readLimited(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxMappingFile {
		return nil, fmt.Errorf("%s is larger than %d bytes; is it the mapping file?", path, maxMappingFile)
	}
	return os.ReadFile(path)
}

// parseSpec parses the YAML text of a mapping file named file.
func parseSpec(data []byte, file string) (*spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlErrorLine(err.Error())
		return nil, LoadErrors{{File: file, Line: line, Msg: msg}}
	}
	return parseSpecNode(&doc, file)
}

// parseSpecNode reads a mapping from a YAML node (a whole document or the
// mapping node of an inline mapping inside a config file). The spec is
// returned with the problems found, so that compiling it reports the rest
// in the same pass.
func parseSpecNode(n *yaml.Node, file string) (*spec, error) {
	p := &parser{file: file}
	s := p.spec(n)
	s.problems = p.errs
	return s, nil
}

func (p *parser) spec(n *yaml.Node) *spec {
	s := &spec{file: p.file}
	n = deref(n)
	if n == nil {
		p.errorf(0, "the mapping is empty; it needs input: and fields:")
		return s
	}
	s.line = n.Line
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "a mapping file is a YAML mapping with input: and fields:, found %s", describe(n))
		return s
	}
	for _, kv := range p.pairs(n, "") {
		k, v := kv[0], kv[1]
		if inboundKeys[k.Value] {
			s.inbound = true
		}
		switch k.Value {
		case "input":
			s.input, s.inputLine = p.text(v, "input"), k.Line
		case "description":
			s.desc = p.text(v, "description")
		case "timezone":
			s.timezone, s.tzLine = p.text(v, "timezone"), k.Line
		case "when":
			s.when = &transformSpec{name: "when", line: k.Line, arg: v}
		case "fields":
			s.fields = p.fields(v)
		case "template":
			s.template, s.templateLine = p.text(v, "template"), k.Line
		case "templates":
			s.templates, s.templateLines = p.templates(v)
		case "leave_types":
			s.leaveTables = []fileNode{{file: p.file, node: v}}
		default:
			p.unknown(k, "", topKeys)
		}
	}
	return s
}

func (p *parser) fields(n *yaml.Node) []fieldSpec {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(lineOf(n), "fields: want a mapping of output path to field, found %s", describe(n))
		return nil
	}
	var out []fieldSpec
	for _, kv := range p.pairs(n, "fields.") {
		k, v := kv[0], kv[1]
		f := fieldSpec{out: k.Value, line: k.Line}
		v = deref(v)
		switch {
		case v == nil:
			p.errorf(k.Line, "fields.%s: give a source path (from:) or a constant (value:)", k.Value)
		case v.Kind == yaml.ScalarNode:
			// Shorthand: `out: source.path`.
			f.from, f.fromLine = []string{v.Value}, v.Line
		case v.Kind == yaml.MappingNode:
			p.field(&f, v)
		default:
			p.errorf(v.Line, "fields.%s: want a source path or a mapping with from:, value: and transforms:, found %s", k.Value, describe(v))
		}
		out = append(out, f)
	}
	return out
}

func (p *parser) field(f *fieldSpec, n *yaml.Node) {
	prefix := "fields." + f.out + "."
	hasFrom := false
	for _, kv := range p.pairs(n, prefix) {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "from":
			hasFrom = true
			f.fromLine = k.Line
			f.from = p.paths(v, prefix+"from")
		case "value":
			f.value = deref(v)
			if f.value == nil {
				f.value = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: k.Line}
			}
			if f.value.Kind != yaml.ScalarNode {
				p.errorf(k.Line, "%svalue: want a text, number or true/false, found %s", prefix, describe(f.value))
			}
		case "transforms":
			f.transforms = p.transforms(v, prefix+"transforms")
		default:
			p.unknown(k, prefix, fieldKeys)
		}
	}
	switch {
	case hasFrom && f.value != nil:
		p.errorf(f.line, "fields.%s: has both from: and value:; a field copies a source path or is a constant, not both", f.out)
	case !hasFrom && f.value == nil:
		p.errorf(f.line, "fields.%s: give a source path (from:) or a constant (value:)", f.out)
	}
}

// paths reads from: one gjson path, or a list tried in order.
func (p *parser) paths(n *yaml.Node, key string) []string {
	n = deref(n)
	switch {
	case n == nil:
	case n.Kind == yaml.ScalarNode && n.Value != "":
		return []string{n.Value}
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		var out []string
		for _, item := range n.Content {
			item = deref(item)
			if item == nil || item.Kind != yaml.ScalarNode || item.Value == "" {
				p.errorf(lineOf(item), "%s: each entry is a gjson path, found %s", key, describe(item))
				continue
			}
			out = append(out, item.Value)
		}
		return out
	}
	p.errorf(lineOf(n), "%s: want a gjson path or a list of paths tried in order, found %s", key, describe(n))
	return nil
}

// transforms reads the ordered transform list: bare words (trim) or
// one-key mappings (map: {...}).
func (p *parser) transforms(n *yaml.Node, key string) []transformSpec {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(lineOf(n), "%s: want a list, such as [trim, upper] or - map: {...}, found %s", key, describe(n))
		return nil
	}
	var out []transformSpec
	for _, item := range n.Content {
		item = deref(item)
		switch {
		case item != nil && item.Kind == yaml.ScalarNode && item.Value != "":
			out = append(out, transformSpec{name: item.Value, line: item.Line})
		case item != nil && item.Kind == yaml.MappingNode && len(item.Content) == 2:
			out = append(out, transformSpec{name: item.Content[0].Value, line: item.Content[0].Line, arg: item.Content[1]})
		default:
			p.errorf(lineOf(item), "%s: each transform is a name (trim) or a name with settings (map: {...}) on its own list item, found %s", key, describe(item))
		}
	}
	return out
}

func (p *parser) templates(n *yaml.Node) (map[string][]string, map[string]int) {
	n = deref(n)
	out, lines := map[string][]string{}, map[string]int{}
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(lineOf(n), "templates: want a mapping of type (leave, overtime, trip, out, makeup) to template ids, found %s", describe(n))
		return out, lines
	}
	for _, kv := range p.pairs(n, "templates.") {
		k, v := kv[0], kv[1]
		if !templateTypes[k.Value] {
			p.unknown(k, "templates.", sortedKeys(templateTypes))
			continue
		}
		lines[k.Value] = k.Line
		v = deref(v)
		switch {
		case v == nil:
			out[k.Value] = []string{}
		case v.Kind == yaml.ScalarNode:
			out[k.Value] = []string{v.Value}
		case v.Kind == yaml.SequenceNode:
			ids := []string{}
			for _, item := range v.Content {
				item = deref(item)
				if item == nil || item.Kind != yaml.ScalarNode || item.Value == "" {
					p.errorf(lineOf(item), "templates.%s: each entry is a template id or process code, found %s", k.Value, describe(item))
					continue
				}
				ids = append(ids, item.Value)
			}
			out[k.Value] = ids
		default:
			p.errorf(v.Line, "templates.%s: want a list of template ids, found %s", k.Value, describe(v))
		}
	}
	return out, lines
}
