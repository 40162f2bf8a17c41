package dingtalk

import (
	"net/http"

	"github.com/tidwall/gjson"
)

// envelope is the part every oapi answer shares. Error answers come inside
// HTTP 200.
type envelope struct {
	ErrCode int
	ErrMsg  string
	SubCode string
	SubMsg  string
}

// readEnvelope reads the shared fields with gjson, leniently (errcode may
// be a number or a string; sub_code and subCode both occur), without
// decoding the whole answer: the payload is decoded once, by the caller.
// The other fields are looked up only for an error, which is small.
func readEnvelope(b []byte) envelope {
	e := envelope{ErrCode: int(gjson.GetBytes(b, "errcode").Int())}
	if e.ErrCode == codeOK {
		return e
	}
	r := gjson.GetManyBytes(b, "errmsg", "sub_code", "subCode", "sub_msg", "subMsg")
	e.ErrMsg, e.SubCode, e.SubMsg = r[0].String(), r[1].String(), r[3].String()
	if e.SubCode == "" {
		e.SubCode = r[2].String()
	}
	if e.SubMsg == "" {
		e.SubMsg = r[4].String()
	}
	return e
}

// apiError returns the answer's error, or nil for errcode 0.
func (e envelope) apiError(api string) *APIError {
	if e.ErrCode == codeOK {
		return nil
	}
	return &APIError{API: api, Code: e.ErrCode, Msg: e.ErrMsg, SubCode: e.SubCode, SubMsg: e.SubMsg}
}

// readV1Error reads a v1.0 error answer. The field names are not in the
// reference copy of the docs (believed code, message, requestid); the
// capitalized spellings are accepted too, the lenient reading.
func readV1Error(status int, b []byte) *APIError {
	r := gjson.GetManyBytes(b, "code", "Code", "message", "Message")
	e := &APIError{Status: status, V1Code: r[0].String(), Msg: r[2].String()}
	if e.V1Code == "" {
		e.V1Code = r[1].String()
	}
	if e.Msg == "" {
		e.Msg = r[3].String()
	}
	return e
}

// answerError classifies one answer: nil for success, else the error.
func answerError(r request, status int, b []byte) *APIError {
	if ipBlocked(b) {
		return &APIError{API: r.api, Status: status, Code: codeIPBlock, Msg: "IP blocked for too many calls", wait: blockWait(b)}
	}
	if r.v1 {
		if status == http.StatusOK {
			return nil
		}
		e := readV1Error(status, b)
		e.API = r.api
		if e.Msg == "" {
			e.Msg = snippet(b)
		}
		return e
	}
	if status != http.StatusOK {
		return &APIError{API: r.api, Status: status, Msg: snippet(b)}
	}
	return readEnvelope(b).apiError(r.api)
}
