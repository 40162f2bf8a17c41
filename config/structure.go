package config

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// field is one YAML key of a struct.
type field struct {
	typ      reflect.Type
	required bool
}

// fieldSet is the keys a struct accepts, with yaml.v3's rules: the yaml tag
// names the key (default: the lower-cased field name), "-" skips a field,
// ",inline" merges an embedded struct's keys or collects unknown keys in a
// map.
type fieldSet struct {
	byKey     map[string]field
	inlineMap reflect.Type
}

func fieldsOf(t reflect.Type) fieldSet {
	fs := fieldSet{byKey: map[string]field{}}
	fs.add(t, 0)
	return fs
}

func (fs *fieldSet) add(t reflect.Type, depth int) {
	if depth > 8 {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				fs.add(ft, depth+1)
			case reflect.Map:
				fs.inlineMap = ft
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs.byKey[name] = field{typ: f.Type, required: f.Tag.Get("required") == "true"}
	}
}

// keys lists the accepted keys, with the x_file twin of every Secret x.
func (fs fieldSet) keys() []string {
	var out []string
	for k, f := range fs.byKey {
		out = append(out, k)
		if f.typ == secretType {
			out = append(out, k+"_file")
		}
	}
	sort.Strings(out)
	return out
}

// secretTwin returns the Secret key that key is the _file twin of.
func (fs fieldSet) secretTwin(key string) (string, bool) {
	base, ok := strings.CutSuffix(key, "_file")
	if !ok {
		return "", false
	}
	if f, ok := fs.byKey[base]; ok && f.typ == secretType {
		return base, true
	}
	return "", false
}

// structure checks a mapping against a struct: every key known, no secret
// given twice, every required key present.
func (d *decoder) structure(n *yaml.Node, t reflect.Type, path string) {
	fs := fieldsOf(t)
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, "%s: want a mapping with keys %s, found %s", orTop(path), strings.Join(fs.keys(), ", "), d.describe(n))
		return
	}
	ps := d.pairs(n, path)
	has := map[string]*yaml.Node{}
	for _, p := range ps {
		has[p.key.Value] = p.key
	}
	for _, p := range ps {
		key := p.key.Value
		kpath := joinPath(path, key)
		if f, ok := fs.byKey[key]; ok {
			d.walk(p.val, f.typ, kpath)
			continue
		}
		if base, ok := fs.secretTwin(key); ok {
			if has[base] != nil {
				d.errorf(p.key.Line, "%s: both %s and %s are set; keep one", kpath, base, key)
				continue
			}
			d.secretFile(p, base, kpath)
			continue
		}
		if fs.inlineMap != nil {
			d.walk(p.val, fs.inlineMap.Elem(), kpath)
			continue
		}
		d.unknown(p.key, kpath, fs)
	}
	for _, key := range sortedRequired(fs) {
		kn := has[key]
		if fs.byKey[key].typ == secretType && kn == nil {
			kn = has[key+"_file"]
		}
		if kn == nil {
			d.errorf(n.Line, "%s: missing required key; add %s: <value>", joinPath(path, key), key)
			continue
		}
		if _, v := lookup(n, kn.Value); isEmpty(v) {
			d.errorf(kn.Line, "%s: required, but empty; give it a value", joinPath(path, kn.Value))
		}
	}
}

func sortedRequired(fs fieldSet) []string {
	var out []string
	for k, f := range fs.byKey {
		if f.required {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// secretFile replaces x_file: PATH by x: <the file's content> so that the
// yaml decode that follows fills the Secret. The value then counts as
// written as the path, so no message can quote the secret.
func (d *decoder) secretFile(p pair, base, kpath string) {
	v := resolve(p.val)
	if v == nil || v.Kind != yaml.ScalarNode || isEmpty(v) {
		d.errorf(p.key.Line, "%s: want the path of a file that holds the secret", kpath)
		return
	}
	name := v.Value
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.dir, name)
	}
	data, err := readSmallFile(name, maxSecretFile)
	if err != nil {
		d.errorf(v.Line, "%s %q: cannot read the secret: %v; give a readable file (a relative path starts at the config file's directory)", kpath, d.shown(v), err)
		return
	}
	d.written[v] = d.shown(v)
	p.key.Value = base
	v.Value = trimSecret(data)
	v.Tag = "!!str"
	v.Style = yaml.DoubleQuotedStyle
}

// unknown reports a key the struct does not have, suggesting the nearest
// known key when one is close.
func (d *decoder) unknown(k *yaml.Node, kpath string, fs fieldSet) {
	keys := fs.keys()
	if s := nearest(k.Value, keys); s != "" {
		d.errorf(k.Line, "%s: unknown key; did you mean %q?", kpath, s)
		return
	}
	if len(keys) == 0 {
		d.errorf(k.Line, "%s: unknown key; this section takes no keys", kpath)
		return
	}
	d.errorf(k.Line, "%s: unknown key; known keys: %s", kpath, strings.Join(keys, ", "))
}

// nearest returns the candidate within a small edit distance of s, or "".
func nearest(s string, candidates []string) string {
	best, bestDist := "", 3
	if len(s) <= 3 {
		bestDist = 2
	}
	for _, c := range candidates {
		if dist := editDistance(s, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 10 // not worth a suggestion
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// component checks a connector or sink entry: a mapping with a name and a
// type. Its other keys belong to the component's own package, which checks
// them in Component.Decode.
func (d *decoder) component(n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, "%s: want a mapping with name, type and the type's settings, e.g. {name: dingtalk-hq, type: dingtalk, ...}, found %s", orTop(path), d.describe(n))
		return
	}
	d.pairs(n, path) // reports repeated keys
	for _, key := range []string{"name", "type"} {
		k, v := lookup(n, key)
		switch {
		case k == nil:
			d.errorf(n.Line, "%s: missing required key; add %s: <value>", joinPath(path, key), key)
		case resolve(v) == nil || resolve(v).Kind != yaml.ScalarNode:
			d.errorf(k.Line, "%s: want a text value, found %s", joinPath(path, key), d.describe(v))
		case isEmpty(v):
			d.errorf(k.Line, "%s: required, but empty; give it a value", joinPath(path, key))
		}
	}
}
