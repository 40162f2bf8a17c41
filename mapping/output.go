package mapping

import (
	"strings"
)

// outNode is one object key of the output; a leaf holds a field.
type outNode struct {
	key   string
	field int // index of the field at this key, -1 for an object
	kids  []*outNode
}

// outputs builds the tree of plain output paths; the others (array
// indexes, escapes: sjson's full syntax) are listed for sjson.
func (c *compiler) outputs(fields []field) (*outNode, []int) {
	root := &outNode{field: -1}
	var viaSJSON []int
	for i, f := range fields {
		segs, plain := plainOut(f.out)
		if !plain {
			if f.out == "" || strings.HasPrefix(f.out, ".") || strings.HasSuffix(f.out, ".") || strings.Contains(f.out, "..") {
				c.errorf(f.line, "fields.%s: the output path must not be empty or start, end or double a dot", f.out)
				continue
			}
			viaSJSON = append(viaSJSON, i)
			continue
		}
		n := root
		for j, seg := range segs {
			var kid *outNode
			for _, k := range n.kids {
				if k.key == seg {
					kid = k
				}
			}
			last := j == len(segs)-1
			other := -1
			switch {
			case kid == nil:
				kid = &outNode{key: seg, field: -1}
				n.kids = append(n.kids, kid)
			case kid.field >= 0:
				other = kid.field
			case last:
				other = kid.firstLeaf()
			}
			if other >= 0 {
				c.errorf(f.line, "fields.%s: conflicts with fields.%s: one output path cannot be both a value and an object", f.out, fields[other].out)
				break
			}
			if last {
				kid.field = i
			}
			n = kid
		}
	}
	return root, viaSJSON
}

func (n *outNode) firstLeaf() int {
	for _, k := range n.kids {
		if k.field >= 0 {
			return k.field
		}
		if i := k.firstLeaf(); i >= 0 {
			return i
		}
	}
	return -1
}

// plainOut splits an output path of plain object keys; false when it
// needs sjson (an array index, a wildcard, an escape).
func plainOut(p string) ([]string, bool) {
	if p == "" || strings.ContainsAny(p, `\*?|#@:`) {
		return nil, false
	}
	segs := strings.Split(p, ".")
	for _, s := range segs {
		if s == "" || s == "-1" || isIndex(s) {
			return nil, false
		}
	}
	return segs, true
}

// write writes the object n with every present value below it.
func (n *outNode) write(b []byte, vals []mval) []byte {
	b = append(b, '{')
	first := true
	for _, k := range n.kids {
		if !k.present(vals) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k.key, false)
		b = append(b, ':')
		if k.field >= 0 {
			b = vals[k.field].appendJSON(b)
		} else {
			b = k.write(b, vals)
		}
	}
	return append(b, '}')
}

// present reports whether anything is written at n: an object with no
// value below it is left out, like an absent field.
func (n *outNode) present(vals []mval) bool {
	if n.field >= 0 {
		return vals[n.field].k != vNone
	}
	for _, k := range n.kids {
		if k.present(vals) {
			return true
		}
	}
	return false
}
