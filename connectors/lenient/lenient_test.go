package lenient

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestLenientDecoding(t *testing.T) {
	type doc struct {
		I  Int    `json:"i"`
		F  Float  `json:"f"`
		S  String `json:"s"`
		B  Bool   `json:"b"`
		IS Ints   `json:"is"`
	}
	for _, tc := range []struct {
		in   string
		want doc
	}{
		{`{"i":1599441505000,"f":30.285413,"s":2376620852,"b":true,"is":[2,3]}`,
			doc{I: 1599441505000, F: Float{30.285413, true}, S: "2376620852", B: Bool{true, true}, IS: Ints{2, 3}}},
		{`{"i":"1599441505000","f":"30.285413","s":"abc","b":"Y","is":"[2,3]"}`,
			doc{I: 1599441505000, F: Float{30.285413, true}, S: "abc", B: Bool{true, true}, IS: Ints{2, 3}}},
		{`{"i":"65.0","f":"65","b":"N","is":["4","5"]}`,
			doc{I: 65, F: Float{65, true}, B: Bool{false, true}, IS: Ints{4, 5}}},
		{`{"i":1.599441505e12,"b":"false","is":[]}`,
			doc{I: 1599441505000, B: Bool{false, true}, IS: Ints{}}},
		{`{"i":null,"f":null,"s":null,"b":null,"is":null}`, doc{}},
		{`{"i":"","f":"","s":"","b":"","is":""}`, doc{}},
		{`{}`, doc{}},
	} {
		var got doc
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`{"i":"12a"}`, `{"f":"north"}`, `{"b":"maybe"}`, `{"is":"[1,x]"}`} {
		var got doc
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestDecodeRawIsUnmarshalJSON holds each type's DecodeRaw to its
// UnmarshalJSON: the same value, or both refusing.
func TestDecodeRawIsUnmarshalJSON(t *testing.T) {
	raws := []string{
		`1599441505000`, `"1599441505000"`, `1.599441505e12`, `"65.0"`, `30.285413`, `"30.285413"`,
		`"abc"`, `" padded "`, `"esc\"aped\u4e0a"`, `2376620852`, `true`, `"Y"`, `"N"`, `"false"`, `0`,
		`[2,3]`, `"[2,3]"`, `["4","5"]`, `[]`, `null`, `""`, ` null `, `"12a"`, `"north"`, `"maybe"`, `"[1,x]"`, `"unterminated`,
	}
	for _, raw := range raws {
		for _, pair := range []struct {
			name    string
			viaJSON json.Unmarshaler
			viaRaw  RawDecoder
		}{
			{"Int", new(Int), new(Int)},
			{"Float", new(Float), new(Float)},
			{"String", new(String), new(String)},
			{"Bool", new(Bool), new(Bool)},
			{"Ints", new(Ints), new(Ints)},
		} {
			errJSON := pair.viaJSON.UnmarshalJSON([]byte(raw))
			errRaw := pair.viaRaw.DecodeRaw(raw)
			if (errJSON == nil) != (errRaw == nil) || !reflect.DeepEqual(pair.viaJSON, pair.viaRaw) {
				t.Errorf("%s %s: UnmarshalJSON gave %+v (%v), DecodeRaw %+v (%v)", pair.name, raw, pair.viaJSON, errJSON, pair.viaRaw, errRaw)
			}
		}
	}
}
