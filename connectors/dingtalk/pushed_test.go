package dingtalk

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/tidwall/gjson"
)

// TestDecodePushedReadsAsUnmarshal holds decodePushed to json.Unmarshal,
// which it replaced: the same record, or both refusing.
func TestDecodePushedReadsAsUnmarshal(t *testing.T) {
	for _, in := range []string{
		`{"userId":"u1","corpId":"ding1","checkTime":1763600000000,"locationMethod":"ATM","locationResult":"Normal",
			"address":"上海 \"Road\"","latitude":31.2304,"longitude":"121.4737","deviceSN":"SN1"}`,
		`{"userid":"u1","CHECKTIME":"1763600000000","LocationMethod":"wifi"}`,
		`{"userId":"u1","userId":"u2","checkTime":1,"checkTime":2}`,
		`{"userId":2376620852,"checkTime":"1.5994e+12","latitude":null,"longitude":""}`,
		`{"userId":"u1","checkTime":1,"extra":{"nested":[1,2,{"a":"b"}]},"deviceSN":null}`,
		`{"userId":"u\u00e9\n","address":"a\\b","checkTime":1}`,
		`{}`,
		`{"checkTime":"soon"}`,
		`{"latitude":"north"}`,
		`{"userId":"u1","checkTime":1`,
		`{"userId":"u1",}`,
		`[{"userId":"u1"}]`,
		`"u1"`,
	} {
		var want pushedRecord
		wantErr := json.Unmarshal([]byte(in), &want)
		got, gotErr := decodePushed(gjson.Parse(in))
		if (wantErr != nil) != (gotErr != nil) {
			t.Errorf("%s: json.Unmarshal error %v, decodePushed error %v", in, wantErr, gotErr)
			continue
		}
		if wantErr == nil && got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", in, got, want)
		}
	}
}

// TestEncryptFieldReadsAsGJSON holds encryptField to the gjson read it
// short-cuts, on the form DingTalk sends and on others.
func TestEncryptFieldReadsAsGJSON(t *testing.T) {
	for _, in := range []string{
		`{"encrypt":"ajls384kdjx0="}`,
		" \n{\"encrypt\":\"ajls384kdjx0=\"} \n",
		`{"encrypt":""}`,
		`{"encrypt":"a\"b"}`,
		`{"encrypt":"a\\b"}`,
		`{"encrypt":"a\u0041"}`,
		`{"encrypt":"abc","extra":1}`,
		`{"extra":1,"encrypt":"abc"}`,
		`{"encrypt" : "abc"}`,
		`{"encrypt":"abc"}}`,
		`{"encrypt":"abc"`,
		`{"encrypt":"abc`,
		`{"encrypt":42}`,
		`{"Encrypt":"abc"}`,
		`[]`,
		``,
	} {
		if got, want := encryptField([]byte(in)), gjson.GetBytes([]byte(in), "encrypt").String(); got != want {
			t.Errorf("%q: encryptField = %q, gjson = %q", in, got, want)
		}
	}
}

// TestAppendReplyMatchesEncodingJSON holds the hand-written reply to what
// json.Encoder writes for the same fields, including values that would
// need escaping (the sealer's never do).
func TestAppendReplyMatchesEncodingJSON(t *testing.T) {
	for _, s := range []msgcrypt.Sealed{
		{Encrypt: "ajls384kdjx+/=AbC09", Signature: "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0", Timestamp: "1445827045067", Nonce: "nEXhMP4r"},
		{},
		{Encrypt: `<a href="x">&amp;</a>`, Signature: "\\\n\t\x00", Timestamp: "\u2028\u2029", Nonce: "\xff\xfe 打卡"},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(struct {
			Encrypt   string `json:"encrypt"`
			Signature string `json:"msg_signature"`
			Nonce     string `json:"nonce"`
			Timestamp string `json:"timeStamp"`
		}{s.Encrypt, s.Signature, s.Nonce, s.Timestamp}); err != nil {
			t.Fatal(err)
		}
		if got := appendReply(nil, s); string(got) != want.String() {
			t.Errorf("appendReply(%+v)\n got %q\nwant %q", s, got, want.String())
		}
	}
}
