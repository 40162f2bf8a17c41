package presets

import (
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/mapping"
)

//go:embed *.yaml
var files embed.FS

// Prefix marks a preset in a mapping reference: preset:frappe-checkin.
const Prefix = "preset:"

// Inbound preset names, by platform.
var inbound = map[string]string{
	"dingtalk": "dingtalk-approval",
	"wecom":    "wecom-approval",
}

// Names lists every preset, sorted.
func Names() []string {
	entries, _ := fs.Glob(files, "*.yaml") // the pattern is valid
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e, ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Source returns a preset's file text, for IT to copy and change.
func Source(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("unknown preset %q; presets: %s", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Load compiles an outbound preset.
func Load(name string, opts ...mapping.Option) (*mapping.Mapping, error) {
	src, err := Source(name)
	if err != nil {
		return nil, err
	}
	opts = append([]mapping.Option{mapping.WithName(Prefix + name)}, opts...)
	return mapping.Parse(src, Prefix+name, opts...)
}

// Inbound compiles the built-in inbound mapping of a platform ("dingtalk"
// or "wecom") with the given overrides laid over it, in order: a
// connector's inbound: block, or files.
func Inbound(platform string, overrides ...mapping.Layer) (*mapping.Inbound, error) {
	name, ok := inbound[platform]
	if !ok {
		return nil, fmt.Errorf("no built-in inbound mapping for platform %q; there are: dingtalk, wecom", platform)
	}
	src, err := Source(name)
	if err != nil {
		return nil, err
	}
	layers := append([]mapping.Layer{{File: Prefix + name, Data: src}}, overrides...)
	return mapping.CompileInbound(layers)
}

// Resolve compiles the mapping a config refers to. n is the value of a
// mapping: key in file: a scalar preset:NAME, or a path relative to
// file's directory; or a mapping written inline. Errors carry file:line.
func Resolve(n *yaml.Node, file string, opts ...mapping.Option) (*mapping.Mapping, error) {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch {
	case n == nil:
		return nil, mapping.LoadErrors{{File: file, Msg: "mapping: is empty"}}
	case n.Kind == yaml.MappingNode:
		return mapping.ParseNode(n, file, opts...)
	case n.Kind != yaml.ScalarNode || n.Value == "":
		return nil, mapping.LoadErrors{{File: file, Line: n.Line, Msg: "mapping: want preset:NAME, a file path, or the mapping itself"}}
	}
	return ResolveRef(n.Value, filepath.Dir(file), n.Line, file, opts...)
}

// ResolveRef compiles preset:NAME or the mapping file at ref (relative to
// dir). line and file place an error about the reference itself.
func ResolveRef(ref, dir string, line int, file string, opts ...mapping.Option) (*mapping.Mapping, error) {
	if name, ok := strings.CutPrefix(ref, Prefix); ok {
		m, err := Load(name, opts...)
		if err != nil {
			if _, isLoad := err.(mapping.LoadErrors); isLoad {
				return nil, err
			}
			return nil, mapping.LoadErrors{{File: file, Line: line, Msg: "mapping: " + err.Error()}}
		}
		return m, nil
	}
	path := ref
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	m, err := mapping.Load(path, opts...)
	if err != nil {
		var le mapping.LoadErrors
		if errs, ok := err.(mapping.LoadErrors); ok && len(errs) == 1 && errs[0].Line == 0 {
			// The file itself could not be read: say so where it is named.
			le = mapping.LoadErrors{{File: file, Line: line, Msg: "mapping " + ref + ": " + errs[0].Msg}}
			return nil, le
		}
		return nil, err
	}
	return m, nil
}
