package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// expandEnv replaces ${NAME} in every scalar value below n (mapping keys
// are left alone) with getenv(NAME); $${ writes a literal ${. A variable
// that is unset or empty is an error at the scalar's line. written records
// the text of each changed scalar as written.
//
// An expanded plain scalar has its YAML type resolved again, so that
// port: ${PORT} decodes as a number; a quoted one stays text.
func expandEnv(n *yaml.Node, path string, getenv func(string) string, d *decoder) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			expandEnv(c, path, getenv, d)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandEnv(c, indexPath(path, i), getenv, d)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			expandEnv(n.Content[i+1], joinPath(path, n.Content[i].Value), getenv, d)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		out, ok := expandString(n.Value, getenv, func(format string, args ...any) {
			d.errorf(n.Line, orTop(path)+": "+format, args...)
		})
		if !ok {
			d.failed[n] = true
			return
		}
		if out == n.Value {
			return
		}
		d.written[n] = n.Value
		n.Value = out
		if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			n.Tag = ""
			if n.ShortTag() == "!!null" {
				n.Tag = "!!str" // a value that spells null is still the value
			}
		}
	}
}

// expandString expands one scalar, calling fail for each bad or unset
// reference; ok is false when there was any.
func expandString(s string, getenv func(string) string, fail func(format string, args ...any)) (string, bool) {
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), ok
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 || !validEnvName(s[i+2:i+end]) {
			fail("bad reference %q; write ${NAME} with letters, digits and _ (or $${ for a literal ${)", cut(s[i:], end))
			return "", false
		}
		name := s[i+2 : i+end]
		val := ""
		if getenv != nil {
			val = getenv(name)
		}
		if val == "" {
			fail("environment variable %s is not set; export %s=... before running punchbridge", name, name)
			ok = false
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

// cut shortens a bad reference for its message.
func cut(s string, end int) string {
	if end >= 0 && end < 40 {
		return s[:end+1]
	}
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
