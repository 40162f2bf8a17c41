package presets

import (
	"errors"
	"fmt"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/mapping"
)

// Ref is a sink's mapping: setting as written in the config (preset:NAME,
// a file path, or the mapping inline), or a mapping compiled by code
// (Use). The zero value means no mapping.
type Ref struct {
	node     *yaml.Node
	compiled *mapping.Mapping
}

// Use returns a Ref holding an already compiled mapping.
func Use(m *mapping.Mapping) Ref { return Ref{compiled: m} }

// UnmarshalYAML keeps the node; Compile reads it with the config file's
// name, so that its errors carry file:line.
func (r *Ref) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		*r = Ref{}
		return nil
	}
	if n.Kind != yaml.ScalarNode && n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want preset:NAME, a mapping file or the mapping itself", n.Line)
	}
	*r = Ref{node: n}
	return nil
}

// IsZero reports whether no mapping is set.
func (r Ref) IsZero() bool { return r.node == nil && r.compiled == nil }

// Compile returns the mapping (nil for none), compiling a written one as
// part of file: a relative path is read from file's directory. Problems
// are config.Errors, each with its file:line, so that check-config prints
// them with the config's own.
func (r Ref) Compile(file string, opts ...mapping.Option) (*mapping.Mapping, error) {
	switch {
	case r.compiled != nil:
		return r.compiled, nil
	case r.node == nil:
		return nil, nil
	}
	m, err := Resolve(r.node, file, opts...)
	if err != nil {
		return nil, ConfigErrors(err)
	}
	return m, nil
}

// ConfigErrors turns mapping load errors into config errors; any other
// error is returned as it is.
func ConfigErrors(err error) error {
	var le mapping.LoadErrors
	if !errors.As(err, &le) {
		return err
	}
	out := make(config.Errors, len(le))
	for i, e := range le {
		out[i] = &config.Error{File: e.File, Line: e.Line, Msg: e.Msg}
	}
	return out
}

// InboundRef is a connector's inbound: setting: a mapping file laid over
// the platform's built-in inbound mapping (a path relative to the config
// file), or the override written inline. The zero value means none.
type InboundRef struct {
	node *yaml.Node
}

// UnmarshalYAML keeps the node; Layer turns it into a mapping layer.
func (r *InboundRef) UnmarshalYAML(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		*r = InboundRef{}
	case n.Kind == yaml.MappingNode || (n.Kind == yaml.ScalarNode && n.Value != ""):
		*r = InboundRef{node: n}
	default:
		return fmt.Errorf("line %d: want an inbound mapping file, or the override itself", n.Line)
	}
	return nil
}

// Layers returns the override as layers for Inbound: none, the inline
// block (as part of file), or the file it names (relative to file's
// directory).
func (r InboundRef) Layers(file string) []mapping.Layer {
	switch {
	case r.node == nil:
		return nil
	case r.node.Kind == yaml.MappingNode:
		return []mapping.Layer{{File: file, Node: r.node}}
	}
	path := r.node.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(file), path)
	}
	return []mapping.Layer{{File: path}}
}

// InboundErrors turns an error compiling a connector's inbound mapping
// into config errors at their lines; an inbound: file that cannot be read
// (an error with no line in that file) is placed at line, the config line
// that names it. override is the connector's inbound: layers, file the
// config file.
func InboundErrors(err error, override []mapping.Layer, file string, line int) error {
	err = ConfigErrors(err)
	errs, ok := err.(config.Errors)
	if !ok || line == 0 {
		return err
	}
	for i, e := range errs {
		for _, l := range override {
			if e.Line == 0 && l.Node == nil && l.Data == nil && e.File == l.File {
				errs[i] = &config.Error{File: file, Line: line, Msg: "inbound: " + e.Msg}
			}
		}
	}
	return errs
}
