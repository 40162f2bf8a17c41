package mapping

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

// kind of a value flowing through a field's transforms.
type vkind uint8

const (
	vNone   vkind = iota // absent or null: the field has no value
	vString              // s is the text
	vNumber              // s is the JSON number text, n its value
	vBool                // b
	vRaw                 // s is a JSON object or array
)

// mval is one value being mapped. It is small and passed by value so that
// the hot path allocates only for text a transform really changes.
type mval struct {
	k vkind
	b bool
	n float64
	s string
}

func fromResult(r gjson.Result) mval {
	switch r.Type {
	case gjson.String:
		return mval{k: vString, s: r.Str}
	case gjson.Number:
		return mval{k: vNumber, n: r.Num, s: r.Raw}
	case gjson.True:
		return mval{k: vBool, b: true}
	case gjson.False:
		return mval{k: vBool}
	case gjson.JSON:
		return mval{k: vRaw, s: r.Raw}
	}
	return mval{}
}

// fromYAML turns a YAML scalar into a value: numbers stay numbers and
// true/false booleans, as they would in JSON; null is no value.
func fromYAML(n *yaml.Node) (mval, bool) {
	switch n.ShortTag() {
	case "!!null":
		return mval{}, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return mval{}, false
		}
		return mval{k: vBool, b: b}, true
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			return mval{}, false
		}
		return numberVal(f, -1), true
	}
	return mval{k: vString, s: n.Value}, true
}

func numberVal(f float64, places int) mval {
	return mval{k: vNumber, n: f, s: strconv.FormatFloat(f, 'f', places, 64)}
}

// present reports whether v counts as a value: not absent, not null and
// not an empty text.
func (v mval) present() bool {
	return v.k != vNone && !(v.k == vString && v.s == "")
}

// text is v as text: a string as is, a number as written, true/false, or
// the JSON of an object or array.
func (v mval) text() string {
	switch v.k {
	case vString, vNumber, vRaw:
		return v.s
	case vBool:
		if v.b {
			return "true"
		}
		return "false"
	}
	return ""
}

// shown is v for an error message: quoted text, abbreviated.
func (v mval) shown() string {
	if v.k == vNone {
		return ""
	}
	s := v.text()
	if len(s) > 80 {
		cut := 77
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// appendJSON writes v as JSON.
func (v mval) appendJSON(b []byte) []byte {
	switch v.k {
	case vString:
		return appendString(b, v.s, false)
	case vNumber, vRaw:
		return append(b, v.s...)
	case vBool:
		if v.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	return append(b, "null"...)
}
