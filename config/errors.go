package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a config or rules file, at a line.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem has no line (an unreadable file)
	Msg  string
}

// Error formats the problem as file:line: msg, the form editors jump to.
func (e *Error) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Errors is every problem found in one load, sorted by file then line.
// Loading never stops at the first problem so that a user fixes a file in
// one pass.
type Errors []*Error

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted returns es ordered by file then line; problems on one line keep
// the order in which they were found.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].File != es[j].File {
			return es[i].File < es[j].File
		}
		return es[i].Line < es[j].Line
	})
	return es
}

// err returns es as an error, or nil when there is none, avoiding the
// typed-nil trap of returning an empty Errors as an error.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}

// FieldError is what a component's Validate method returns for a bad
// setting. Path is the YAML key path relative to the component ("base_url",
// "users[2]", "retry.max"); Component.Decode turns it into a file:line
// error at that key. Value is shown quoted in the message; never put a
// secret in it.
type FieldError struct {
	Path  string
	Value string
	Msg   string
}

// Error formats the problem as `path "value": msg`.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return e.Path + ": " + e.Msg
	}
	return fmt.Sprintf("%s %q: %s", e.Path, e.Value, e.Msg)
}

// yamlLine matches the "line N: " that yaml.v3 puts at the front of its
// messages (after an optional "yaml: ").
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// splitYAMLLine returns the line number yaml.v3 put in msg (0 if none) and
// the message without it.
func splitYAMLLine(msg string) (int, string) {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, msg[len(m[0]):]
}

// yamlMessages lists the individual messages inside an error from yaml.v3:
// one per entry of a *yaml.TypeError, or the error's text.
func yamlMessages(err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return te.Errors
	}
	return []string{err.Error()}
}
