package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// ErrMapping is matched (errors.Is) by every error a mapping raises for
// one input: a field it could not fill. Sinks treat it as permanent.
var ErrMapping = errors.New("mapping failed")

// ErrSkip is returned for an input the mapping's top-level when: leaves
// out, or that an inbound mapping does not recognise as attendance. It is
// not a failure: there is nothing to send.
var ErrSkip = errors.New("skipped by the mapping")

// ApplyError lists every field a mapping could not fill for one input,
// each with the value it met and why it failed.
type ApplyError struct {
	Mapping string // the mapping's name (its file)
	Errors  []FieldError
}

func (e *ApplyError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Error()
	}
	return "mapping " + e.Mapping + ": " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrMapping) true.
func (e *ApplyError) Is(target error) bool { return target == ErrMapping }

// Apply maps one JSON object. It returns the output object, ErrSkip when
// the mapping's when: leaves the input out, or an *ApplyError naming every
// field that failed, with its value and the reason.
func (m *Mapping) Apply(in []byte) ([]byte, error) {
	return m.AppendApply(make([]byte, 0, 64+len(in)/2), in)
}

// AppendApply is Apply writing into dst, which it returns extended.
func (m *Mapping) AppendApply(dst, in []byte) ([]byte, error) {
	vals, err := m.eval(in)
	if err != nil {
		return dst, err
	}
	dst = m.root.write(dst, vals)
	if len(m.sjson) == 0 {
		return dst, nil
	}
	var errs []FieldError
	for _, i := range m.sjson {
		if vals[i].k == vNone {
			continue
		}
		out, err := sjson.SetRawBytes(dst, m.fields[i].out, vals[i].appendJSON(nil))
		if err != nil {
			errs = append(errs, FieldError{Field: m.fields[i].out, Value: vals[i].shown(), Reason: "cannot be written at this output path: " + err.Error()})
			continue
		}
		dst = out
	}
	if len(errs) > 0 {
		return dst, &ApplyError{Mapping: m.name, Errors: errs}
	}
	return dst, nil
}

// Row maps one JSON object to text cells, one per field in file order
// (see Fields): text as is, numbers as written, true/false, and arrays or
// objects as JSON; an absent field is "".
func (m *Mapping) Row(in []byte) ([]string, error) {
	vals, err := m.eval(in)
	if err != nil {
		return nil, err
	}
	row := make([]string, len(vals))
	for i, v := range vals {
		row[i] = v.text()
	}
	return row, nil
}

// Values maps one JSON object to typed cells, one per field in file order:
// a string, a float64, a bool, or nil for an absent field; an object or
// array is its JSON text. A spreadsheet writes numbers as numbers with it.
func (m *Mapping) Values(in []byte) ([]any, error) {
	vals, err := m.eval(in)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		switch v.k {
		case vString, vRaw:
			out[i] = v.s
		case vNumber:
			out[i] = v.n
		case vBool:
			out[i] = v.b
		}
	}
	return out, nil
}

// eval computes every field's value; any field failure is an
// *ApplyError.
func (m *Mapping) eval(in []byte) ([]mval, error) {
	vals, errs, err := m.evalAll(in)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, &ApplyError{Mapping: m.name, Errors: errs}
	}
	return vals, nil
}

// evalAll computes every field's value, returning the failures of single
// fields apart from those that stop the whole input (not an object,
// skipped by when:).
func (m *Mapping) evalAll(in []byte) ([]mval, []FieldError, error) {
	if !isObject(in) {
		return nil, nil, &ApplyError{Mapping: m.name, Errors: []FieldError{{Field: "(input)", Value: abbreviate(in), Reason: "is not a JSON object"}}}
	}
	json := string(in)
	var tops [16]gjson.Result
	buf := tops[:0]
	if n := len(m.r.keys); n <= len(tops) {
		buf = tops[:n]
	} else {
		buf = make([]gjson.Result, n)
	}
	d := m.r.load(json, buf)
	if m.when != nil && !m.when.holds(&d) {
		return nil, nil, ErrSkip
	}
	vals := make([]mval, len(m.fields))
	var errs []FieldError
	for i := range m.fields {
		f := &m.fields[i]
		v, ok, fe := f.eval(&d)
		if fe != nil {
			errs = append(errs, *fe)
		}
		if ok {
			vals[i] = v
		}
	}
	return vals, errs, nil
}

// eval computes one field: its source, then each transform in order. ok
// is false when a when: left the field out.
func (f *field) eval(d *doc) (mval, bool, *FieldError) {
	var v mval
	if f.constant {
		v = f.value
	} else {
		for i := range f.from {
			if v = fromResult(d.get(&f.from[i])); v.present() {
				break
			}
		}
	}
	for _, t := range f.steps {
		out, emit, reason := t.apply(v, d)
		if reason != "" {
			return v, false, &FieldError{Field: f.out, Value: v.shown(), Reason: f.describe(t, reason)}
		}
		if !emit {
			return mval{}, false, nil
		}
		v = out
	}
	return v, true, nil
}

// describe completes a failure reason with the transform's line and, for
// required, the source it read.
func (f *field) describe(t *transform, reason string) string {
	name := "transform"
	for n, o := range transformNames {
		if o == t.op {
			name = n
		}
	}
	if t.op == opRequired && !f.constant {
		srcs := make([]string, len(f.from))
		for i, p := range f.from {
			srcs[i] = p.full
		}
		reason += " (the input has nothing at " + strings.Join(srcs, " or ") + ")"
	}
	return fmt.Sprintf("%s (line %d) %s", name, t.line, reason)
}

// isObject reports whether in is one valid JSON object.
func isObject(in []byte) bool {
	for _, c := range in {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return gjson.ValidBytes(in)
		}
		return false
	}
	return false
}

func parseArray(raw string) []mval {
	items := gjson.Parse(raw).Array()
	out := make([]mval, len(items))
	for i, it := range items {
		out[i] = fromResult(it)
	}
	return out
}
