package mapping

import (
	"sort"
	"strconv"
	"strings"
)

// LoadError is one problem in a mapping file, at a line.
type LoadError struct {
	File string
	Line int // 1-based; 0 when the problem has no line (an unreadable file)
	Msg  string
}

// Error formats the problem as file:line: msg, the form editors jump to.
func (e *LoadError) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// LoadErrors is every problem found in one mapping, sorted by file then
// line: a mapping is checked whole, so that IT fixes it in one pass.
type LoadErrors []*LoadError

// Error prints one problem per line.
func (es LoadErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.As.
func (es LoadErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es LoadErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			return es[i].File < es[j].File
		}
		return es[i].Line < es[j].Line
	})
	return es
}
