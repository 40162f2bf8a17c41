package mapping

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// pairs lists a mapping's key/value nodes and reports keys that are not
// plain words or that repeat.
func (p *parser) pairs(n *yaml.Node, prefix string) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			p.errorf(k.Line, "%skeys must be plain names, found %s", prefix, describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			p.errorf(k.Line, "%s%s: repeated (first at line %d); remove one", prefix, k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

func (p *parser) text(n *yaml.Node, key string) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		p.errorf(lineOf(n), "%s: want a text value, found %s", key, describe(n))
		return ""
	}
	return n.Value
}

func (p *parser) unknown(k *yaml.Node, prefix string, known []string) {
	msg := fmt.Sprintf("%s%s: unknown key", prefix, k.Value)
	if near := nearest(k.Value, known); near != "" {
		msg += fmt.Sprintf("; did you mean %s?", near)
	} else {
		msg += "; known keys: " + strings.Join(known, ", ")
	}
	p.errorf(k.Line, "%s", msg)
}

// deref steps through documents and aliases; nil for an empty document.
func deref(n *yaml.Node) *yaml.Node {
	for range 8 {
		switch {
		case n == nil || n.Kind == 0:
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

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func describe(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

// yamlErrorLine splits yaml.v3's "yaml: line N: msg".
func yamlErrorLine(msg string) (int, string) {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return n, rest[i+2:]
			}
		}
	}
	return 0, msg
}

// nearest returns the candidate within two edits of s, or "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
