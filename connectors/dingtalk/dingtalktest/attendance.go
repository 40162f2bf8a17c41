package dingtalktest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of attendance/listRecord.
const (
	// MaxUsersPerCall is the most userIds one listRecord call may name.
	MaxUsersPerCall = 50
	// MaxSpan is the widest checkDateFrom..checkDateTo range, 7 days
	// inclusive.
	MaxSpan = 7 * 24 * time.Hour
	// MaxLookback is how far back listRecord serves data.
	MaxLookback = 180 * 24 * time.Hour
)

const dateTimeLayout = "2006-01-02 15:04:05"

type listRecordBody struct {
	UserIDs       []string `json:"userIds"`
	CheckDateFrom string   `json:"checkDateFrom"`
	CheckDateTo   string   `json:"checkDateTo"`
	IsI18n        bool     `json:"isI18n"`
}

// listRecord serves POST /attendance/listRecord: every raw punch of the
// named users between checkDateFrom and checkDateTo, both inclusive, with no
// pagination.
//
// The page of this API lists no error codes of its own, only the global
// ones; a request over the documented limits gets 400002 无效的参数 with a
// detail naming the limit, the code the directory APIs use for invalid
// parameters. That code is a choice of this fake, not a documented answer.
func (s *Server) listRecord(w http.ResponseWriter, r *http.Request) {
	var b listRecordBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, CodeInvalidParams, "请求体不是合法的JSON")
		return
	}
	switch {
	case len(b.UserIDs) == 0:
		writeError(w, CodeInvalidParams, "userIds不能为空")
		return
	case len(b.UserIDs) > MaxUsersPerCall:
		writeError(w, CodeInvalidParams, "userIds最大值50")
		return
	}
	from, errFrom := parseDateTime(b.CheckDateFrom)
	to, errTo := parseDateTime(b.CheckDateTo)
	switch {
	case errFrom != nil || errTo != nil:
		writeError(w, CodeInvalidParams, "checkDateFrom/checkDateTo格式为yyyy-MM-dd HH:mm:ss")
		return
	case to.Before(from):
		writeError(w, CodeInvalidParams, "checkDateFrom不能晚于checkDateTo")
		return
	case to.Sub(from) > MaxSpan:
		writeError(w, CodeInvalidParams, "checkDateFrom和checkDateTo相隔最多7天")
		return
	case from.Before(s.now().Add(-MaxLookback)):
		writeError(w, CodeInvalidParams, "不支持查询180天之前的数据")
		return
	}
	// The answer is written by hand (appendWire): through encoding/json
	// a demo's fake spent more CPU answering than the pull decoding.
	const head = `{"errcode":0,"errmsg":"ok","recordresult":[`
	buf, _ := s.answers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	out := append((*buf)[:0], head...)
	answer := func(recs, again []byte) {
		if len(again) > 0 {
			if len(recs) > len(head) {
				recs = append(recs, ',')
			}
			recs = append(recs, again...)
		}
		recs = append(recs, "]}\n"...)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Write(recs)
		*buf = recs
		s.answers.Put(buf)
	}
	if b.IsI18n {
		// A domestic organization asking with isI18n=true gets nothing
		// back: the platform's FAQ names this as a cause of empty results.
		answer(out, nil)
		return
	}
	s.mu.Lock()
	var again []byte
	seen := map[string]bool{}
	for _, u := range b.UserIDs {
		if seen[u] {
			continue
		}
		seen[u] = true
		// Packed check times compare as the instants they are.
		recs, idx := s.recs.recs, s.byUser[u]
		lo, hi := from.UnixNano(), to.UnixNano()
		i := sort.Search(len(idx), func(i int) bool { return recs[idx[i]].check >= lo })
		for ; i < len(idx) && recs[idx[i]].check <= hi; i++ {
			r := s.recs.at(int(idx[i]))
			start := len(out)
			if out[start-1] != '[' {
				out = append(out, ',')
				start++
			}
			out = r.appendWire(out, s.company.CorpID)
			if s.dupes[r.ID] {
				if len(again) > 0 {
					again = append(again, ',')
				}
				again = append(again, out[start:]...)
			}
		}
	}
	s.mu.Unlock()
	answer(out, again)
}

// parseDateTime reads "yyyy-MM-dd HH:mm:ss" in Asia/Shanghai; a bare date,
// as some official samples send, means its midnight.
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(dateTimeLayout, s, Shanghai); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, s, Shanghai)
}

// appendWire appends r as a listRecord answer carries it. Records with an
// odd id carry their numbers as JSON strings (the documented type), the
// others as JSON numbers (what the platform's sample shows). Fields that do
// not apply are left out, as the platform leaves them out, but for id,
// userId, corpId, userCheckTime, gmtCreate and gmtModified, which are
// always there (null when unknown). The bytes are those json.Marshal gives
// for the same record (TestAppendWireIsWhatJSONWrites).
func (r Record) appendWire(b []byte, corpID string) []byte {
	asString := r.ID%2 == 1
	num := func(b []byte, v int64) []byte {
		if asString {
			b = append(b, '"')
			return append(strconv.AppendInt(b, v, 10), '"')
		}
		return strconv.AppendInt(b, v, 10)
	}
	ms := func(b []byte, key string, t time.Time, always bool) []byte {
		switch {
		case !t.IsZero():
			return num(append(b, key...), t.UnixMilli())
		case always:
			return append(append(b, key...), "null"...)
		}
		return b
	}
	opt := func(b []byte, key string, v int64) []byte {
		if v == 0 {
			return b
		}
		return num(append(b, key...), v)
	}
	str := func(b []byte, key, v string) []byte {
		if v == "" {
			return b
		}
		return appendJSONString(append(b, key...), v)
	}
	flt := func(b []byte, key string, v float64) []byte {
		b = append(b, key...)
		if asString {
			b = append(b, '"')
			return append(strconv.AppendFloat(b, v, 'f', -1, 64), '"')
		}
		return appendJSONFloat(b, v)
	}
	b = num(append(b, `{"id":`...), r.ID)
	b = appendJSONString(append(b, `,"userId":`...), r.UserID)
	b = appendJSONString(append(b, `,"corpId":`...), corpID)
	b = ms(b, `,"workDate":`, r.WorkDate, false)
	b = str(b, `,"checkType":`, r.CheckType)
	b = str(b, `,"timeResult":`, r.TimeResult)
	b = str(b, `,"locationResult":`, r.LocationResult)
	b = str(b, `,"sourceType":`, r.SourceType)
	b = str(b, `,"locationMethod":`, r.LocationMethod)
	b = ms(b, `,"userCheckTime":`, r.CheckTime, true)
	b = ms(b, `,"baseCheckTime":`, r.BaseCheckTime, false)
	b = ms(b, `,"planCheckTime":`, r.BaseCheckTime, false)
	b = opt(b, `,"groupId":`, r.GroupID)
	b = opt(b, `,"planId":`, r.PlanID)
	b = str(b, `,"isLegal":`, r.IsLegal)
	b = str(b, `,"invalidRecordType":`, r.InvalidRecordType)
	b = str(b, `,"invalidRecordMsg":`, r.InvalidRecordMsg)
	if r.HasLocation {
		b = flt(b, `,"userLatitude":`, r.Lat)
		b = flt(b, `,"userLongitude":`, r.Lng)
		b = flt(b, `,"userAccuracy":`, r.Accuracy)
	}
	b = str(b, `,"userAddress":`, r.Address)
	b = str(b, `,"deviceId":`, r.DeviceID)
	b = str(b, `,"deviceSN":`, r.DeviceSN)
	b = str(b, `,"userSsid":`, r.SSID)
	b = str(b, `,"userMacAddr":`, r.MacAddr)
	if r.HasLocation {
		b = flt(b, `,"baseLatitude":`, officeLat)
		b = flt(b, `,"baseLongitude":`, officeLng)
		b = str(b, `,"baseAddress":`, officeAddress)
	}
	b = ms(b, `,"gmtCreate":`, r.CheckTime, true)
	b = ms(b, `,"gmtModified":`, r.CheckTime, true)
	return append(b, '}')
}

// appendJSONString appends s as encoding/json writes it: as is when
// nothing in it needs escaping, which is every string a generated company
// holds, and through json.Marshal otherwise.
func appendJSONString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&':
			return appendMarshaled(b, s)
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	// encoding/json replaces invalid UTF-8 and escapes U+2028 and U+2029
	// (E2 80 A8, E2 80 A9).
	if !ascii && (!utf8.ValidString(s) || strings.Contains(s, "\u2028") || strings.Contains(s, "\u2029")) {
		return appendMarshaled(b, s)
	}
	b = append(b, '"')
	return append(append(b, s...), '"')
}

// appendJSONFloat appends v as encoding/json writes a float64: in plain
// notation between 1e-6 and 1e21, as a location is.
func appendJSONFloat(b []byte, v float64) []byte {
	if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return appendMarshaled(b, v)
}

func appendMarshaled(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		// A float that is NaN or infinite: no record holds one.
		panic(fmt.Sprintf("dingtalktest: %v has no JSON form: %v", v, err))
	}
	return append(b, j...)
}
