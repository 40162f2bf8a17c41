package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// componentMeta is what Load records about a connector or sink entry.
type componentMeta struct {
	kind string // "connector" or "sink"
	// raw is the entry as written, before ${ENV} expansion; it is what the
	// config prints, so that printing never shows an environment secret.
	raw *yaml.Node
	// written maps expanded scalars of Node to the text as written.
	written map[*yaml.Node]string
}

// UnmarshalYAML keeps the whole entry and reads its name and type; the
// strict checks happen in Load and in Decode.
func (c *Component) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a mapping with name and type", n.Line)}}
	}
	*c = Component{Line: n.Line, Node: n}
	if _, v := lookup(n, "name"); v != nil && resolve(v) != nil {
		c.Name = resolve(v).Value
	}
	if _, v := lookup(n, "type"); v != nil && resolve(v) != nil {
		c.Type = resolve(v).Value
	}
	return nil
}

// label names the component in messages: connector "dingtalk-hq".
func (c Component) label() string {
	kind := "component"
	if c.meta != nil {
		kind = c.meta.kind
	}
	return fmt.Sprintf("%s %q", kind, c.Name)
}

// Decode strictly decodes the component's settings into the struct v
// points to, ignoring the name and type keys. Unknown keys, values of the
// wrong type, bad durations, missing `required:"true"` fields and Secret
// x_file twins are handled as by DecodeNode, every problem reported with
// file:line.
//
// When the settings decode cleanly and v has a Validate() error method,
// Decode calls it. A *FieldError from Validate (also inside errors.Join or
// wrapped with %w) is reported at the line of its Path; any other error at
// the component's line. The error returned is Errors, except for a v that
// is not a non-nil pointer, a programming error.
func (c Component) Decode(v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: decode %s: want a non-nil pointer, got %T", c.label(), v)
	}
	root := resolve(c.Node)
	if root == nil {
		return Errors{{File: c.File, Line: c.Line, Msg: c.label() + ": no settings to decode"}}
	}
	memo := map[*yaml.Node]*yaml.Node{}
	n := copyTree(root, memo)
	var written map[*yaml.Node]string
	if c.meta != nil {
		written = map[*yaml.Node]string{}
		for orig, text := range c.meta.written {
			if cp, ok := memo[orig]; ok {
				written[cp] = text
			}
		}
	}
	d := newDecoder(c.File, c.label(), written)
	if n.Kind == yaml.MappingNode {
		n.Content = withoutKeys(n.Content, "name", "type", "delivery", "privacy")
	}
	d.decode(n, v, "")
	if len(d.errs) == 0 {
		if val, ok := v.(interface{ Validate() error }); ok {
			if err := val.Validate(); err != nil {
				c.addValidation(d, err)
			}
		}
	}
	return d.errs.err()
}

// withoutKeys returns the mapping entries whose key is none of keys.
func withoutKeys(content []*yaml.Node, keys ...string) []*yaml.Node {
	out := make([]*yaml.Node, 0, len(content))
	for i := 0; i+1 < len(content); i += 2 {
		k := content[i]
		skip := false
		for _, key := range keys {
			if k.Kind == yaml.ScalarNode && k.Value == key {
				skip = true
			}
		}
		if !skip {
			out = append(out, content[i], content[i+1])
		}
	}
	return out
}

// addValidation reports what a component's Validate returned, one problem
// per error in an errors.Join or Errors, each at the line of its path.
func (c Component) addValidation(d *decoder, err error) {
	var (
		fe *FieldError
		ce *Error
	)
	switch {
	case err == nil:
	case isMulti(err):
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			c.addValidation(d, e)
		}
	case errors.As(err, &fe):
		line, n := locate(c.Node, fe.Path)
		if n == nil {
			// A secret given as x_file: report at that key.
			if l, n := locate(c.Node, fe.Path+"_file"); n != nil {
				line = l
			}
		}
		if line == 0 {
			line = c.Line
		}
		d.errorf(line, "%s", d.redact(fe.Error()))
	case errors.As(err, &ce):
		d.errs = append(d.errs, ce)
	default:
		d.errorf(c.Line, "%s", d.redact(err.Error()))
	}
}

func isMulti(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	return ok
}

// MarshalYAML prints the entry as written, before ${ENV} expansion, with
// the values of keys that look like credentials replaced by "<secret>", so
// that a printed config never shows a secret.
func (c Component) MarshalYAML() (any, error) {
	return c.printable(), nil
}

// MarshalJSON redacts as MarshalYAML does.
func (c Component) MarshalJSON() ([]byte, error) {
	return json.Marshal(toPlain(c.printable()))
}

func (c Component) printable() *yaml.Node {
	src := c.Node
	if c.meta != nil && c.meta.raw != nil {
		src = c.meta.raw
	}
	if src == nil {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			scalar("name"), scalar(c.Name), scalar("type"), scalar(c.Type),
		}}
	}
	n := copyTree(resolve(src), map[*yaml.Node]*yaml.Node{})
	redactTree(n, 0)
	return n
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// secretWords mark keys whose values are credentials even when written
// inline rather than as ${ENV}.
var secretWords = []string{"secret", "token", "password", "passwd", "credential", "private", "aes", "api_key", "dsn"}

func looksSecret(key string) bool {
	key = strings.ToLower(key)
	if strings.HasSuffix(key, "_file") {
		return false // a path, not the secret
	}
	for _, w := range secretWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}

// onlyRefs matches a value made only of ${NAME} references: it shows where
// a secret comes from, not the secret.
var onlyRefs = regexp.MustCompile(`^(\$\{[A-Za-z_][A-Za-z0-9_]*\})+$`)

// redactTree replaces, in place, the scalar values under secret-looking
// keys (unless they are only ${NAME} references), and drops aliases (their
// anchors are printed where defined).
func redactTree(n *yaml.Node, depth int) {
	if n == nil || depth > 64 {
		return
	}
	n.Anchor = ""
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; looksSecret(n.Content[i].Value) && !(v.Kind == yaml.ScalarNode && onlyRefs.MatchString(v.Value)) {
				n.Content[i+1] = scalar(redacted)
			}
		}
	}
	for i, child := range n.Content {
		if child.Kind == yaml.AliasNode {
			n.Content[i] = scalar("*" + child.Value)
			continue
		}
		redactTree(child, depth+1)
	}
}

// toPlain turns a node into maps, slices and scalars for encoding/json.
func toPlain(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = toPlain(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, child := range n.Content {
			s[i] = toPlain(child)
		}
		return s
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err == nil {
			return v
		}
		return n.Value
	}
	return nil
}
