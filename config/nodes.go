package config

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// LineOf returns the line of the YAML key or list item that path names
// below root, or the line of the nearest parent that exists when the path
// does not. path is dotted keys with [i] indexes, relative to root:
// "shifts.night.start", "assign.dated[0].from", "users[2]". It returns 0
// only when root is nil.
func LineOf(root *yaml.Node, path string) int {
	line, _ := locate(root, path)
	return line
}

// locate walks path down from root. It returns the line of the deepest key
// or item reached and, when the whole path exists, the value node there.
func locate(root *yaml.Node, path string) (int, *yaml.Node) {
	n := resolve(root)
	if n == nil {
		return 0, nil
	}
	line := n.Line
	segs, ok := splitPath(path)
	if !ok {
		return line, nil
	}
	for _, s := range segs {
		n = resolve(n)
		if n == nil {
			return line, nil
		}
		if s.index >= 0 {
			if n.Kind != yaml.SequenceNode || s.index >= len(n.Content) {
				return line, nil
			}
			n = n.Content[s.index]
			line = n.Line
			continue
		}
		if n.Kind != yaml.MappingNode {
			return line, nil
		}
		k, v := lookup(n, s.key)
		if k == nil {
			return line, nil
		}
		line, n = k.Line, v
	}
	return line, n
}

type pathSeg struct {
	key   string
	index int // >= 0 for a list index, -1 for a key
}

// splitPath parses "a.b[2].c" into segments; ok is false when the path is
// malformed (an unclosed bracket, a non-numeric index).
func splitPath(path string) ([]pathSeg, bool) {
	var segs []pathSeg
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return segs, false
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil || i < 0 {
				return segs, false
			}
			segs = append(segs, pathSeg{index: i})
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			segs = append(segs, pathSeg{key: path[:end], index: -1})
			path = path[end:]
		}
	}
	return segs, true
}

// resolve steps through a document node to its content and through an
// alias to its anchor, at most a few times so that a cyclic alias cannot
// loop.
func resolve(n *yaml.Node) *yaml.Node {
	for range 8 {
		switch {
		case n == nil, n.Kind == 0: // 0: the document of an empty file
			return nil
		case n.Kind == yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// lookup returns the key and value nodes of key in mapping m, looking
// through merge keys (<<) when the mapping has no such key of its own.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	return lookupDepth(m, key, 0)
}

func lookupDepth(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode || depth > 8 {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMerge(m.Content[i]) {
			merges = append(merges, m.Content[i+1])
			continue
		}
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	for _, mv := range merges {
		mv = resolve(mv)
		if mv == nil {
			continue
		}
		sources := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			sources = mv.Content
		}
		for _, s := range sources {
			if k, v := lookupDepth(resolve(s), key, depth+1); k != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// isNull reports whether n is an explicit or empty YAML null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isMerge reports whether k is the merge key <<.
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// isEmpty reports whether n is absent, null or an empty scalar: a key that
// was written but given no value counts as missing.
func isEmpty(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || isNull(n) || (n.Kind == yaml.ScalarNode && n.Value == "")
}

// copyTree deep-copies n. memo maps each original node to its copy, so
// that aliases keep pointing at their (copied) anchors and a cyclic alias
// is copied once.
func copyTree(n *yaml.Node, memo map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := memo[n]; ok {
		return c
	}
	c := *n
	memo[n] = &c
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = copyTree(child, memo)
		}
	}
	c.Alias = copyTree(n.Alias, memo)
	return &c
}

// joinPath appends a key to a dotted path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// readSmallFile reads a regular file of at most limit bytes. Secret and
// rules files are small; refusing devices and huge files keeps a typo such
// as /dev/zero from hanging the load.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
