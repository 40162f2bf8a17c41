package mapping

import (
	"gopkg.in/yaml.v3"
)

// condition is when's test: the path has a value (one of equals, when
// given), or every condition of all holds, or some condition of any.
type condition struct {
	path   path
	equals []string
	all    []*condition
	any    []*condition
}

func (c *condition) holds(d *doc) bool {
	switch {
	case c.all != nil:
		for _, s := range c.all {
			if !s.holds(d) {
				return false
			}
		}
		return true
	case c.any != nil:
		for _, s := range c.any {
			if s.holds(d) {
				return true
			}
		}
		return false
	}
	v := fromResult(d.get(&c.path))
	if !v.present() {
		return false
	}
	if c.equals == nil {
		return true
	}
	t := v.text()
	for _, e := range c.equals {
		if t == e {
			return true
		}
	}
	return false
}

// condition reads when:'s argument: a path; {path: ..., equals: ...};
// a list, all of which must hold; or {any: [...]}.
func (c *compiler) condition(n *yaml.Node, where string) *condition {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			break
		}
		return &condition{path: c.sourcePath(n.Value, n.Line, where)}
	case yaml.SequenceNode:
		return &condition{all: c.conditions(n, where)}
	case yaml.MappingNode:
		cond := &condition{}
		hasPath := false
		for _, kv := range c.p.pairs(n, where+".") {
			k, v := kv[0], deref(kv[1])
			switch k.Value {
			case "path":
				if v == nil || v.Kind != yaml.ScalarNode || v.Value == "" {
					c.errorf(k.Line, "%s.path: want a gjson path", where)
					continue
				}
				hasPath = true
				cond.path = c.sourcePath(v.Value, v.Line, where)
			case "equals":
				cond.equals = c.scalars(v, k.Line, where+".equals")
			case "any":
				if v == nil || v.Kind != yaml.SequenceNode {
					c.errorf(k.Line, "%s.any: want a list of conditions, one of which must hold", where)
					continue
				}
				cond.any = c.conditions(v, where+".any")
			default:
				c.p.unknown(k, where+".", []string{"path", "equals", "any"})
			}
		}
		switch {
		case cond.any != nil && (hasPath || cond.equals != nil):
			c.errorf(n.Line, "%s: give any: alone, or path: with equals:", where)
		case cond.any == nil && !hasPath:
			c.errorf(n.Line, "%s: needs path:, the input path that must have a value", where)
			return nil
		}
		return cond
	}
	c.errorf(n.Line, "%s: want a path, {path: ..., equals: ...}, a list of conditions that must all hold, or {any: [...]}, found %s", where, describe(n))
	return nil
}

func (c *compiler) conditions(n *yaml.Node, where string) []*condition {
	if len(n.Content) == 0 {
		c.errorf(n.Line, "%s: the list of conditions is empty", where)
	}
	out := make([]*condition, 0, len(n.Content))
	for _, item := range n.Content {
		if item = deref(item); item == nil {
			continue
		}
		if sub := c.condition(item, where); sub != nil {
			out = append(out, sub)
		}
	}
	return out
}

// scalars reads one scalar or a list of them as text.
func (c *compiler) scalars(n *yaml.Node, line int, where string) []string {
	switch {
	case n != nil && n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	case n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		out := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item = deref(item); item == nil || item.Kind != yaml.ScalarNode {
				c.errorf(lineOf(item), "%s: each entry is a value, found %s", where, describe(item))
				continue
			}
			out = append(out, item.Value)
		}
		return out
	}
	c.errorf(line, "%s: want a value or a list of values, found %s", where, describe(n))
	return nil
}
