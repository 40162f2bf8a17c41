package dingtalktest

import (
	"net/http"
	"sort"
	"strconv"
	"time"
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
	out := []wireRecord{}
	if b.IsI18n {
		// A domestic organization asking with isI18n=true gets nothing
		// back: the platform's FAQ names this as a cause of empty results.
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "recordresult": out})
		return
	}
	s.mu.Lock()
	var again []wireRecord
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
			wire := r.wire(s.company.CorpID)
			out = append(out, wire)
			if s.dupes[r.ID] {
				again = append(again, wire)
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "recordresult": append(out, again...)})
}

// parseDateTime reads "yyyy-MM-dd HH:mm:ss" in Asia/Shanghai; a bare date,
// as some official samples send, means its midnight.
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(dateTimeLayout, s, Shanghai); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, s, Shanghai)
}

// wireRecord is one record of a listRecord answer. Numeric fields are any
// so that each record can carry them as numbers or as strings; nil and ""
// fields are left out, as the platform leaves out what does not apply.
type wireRecord struct {
	ID                any    `json:"id"`
	UserID            string `json:"userId"`
	CorpID            string `json:"corpId"`
	WorkDate          any    `json:"workDate,omitempty"`
	CheckType         string `json:"checkType,omitempty"`
	TimeResult        string `json:"timeResult,omitempty"`
	LocationResult    string `json:"locationResult,omitempty"`
	SourceType        string `json:"sourceType,omitempty"`
	LocationMethod    string `json:"locationMethod,omitempty"`
	UserCheckTime     any    `json:"userCheckTime"`
	BaseCheckTime     any    `json:"baseCheckTime,omitempty"`
	PlanCheckTime     any    `json:"planCheckTime,omitempty"`
	GroupID           any    `json:"groupId,omitempty"`
	PlanID            any    `json:"planId,omitempty"`
	IsLegal           string `json:"isLegal,omitempty"`
	InvalidRecordType string `json:"invalidRecordType,omitempty"`
	InvalidRecordMsg  string `json:"invalidRecordMsg,omitempty"`
	UserLatitude      any    `json:"userLatitude,omitempty"`
	UserLongitude     any    `json:"userLongitude,omitempty"`
	UserAccuracy      any    `json:"userAccuracy,omitempty"`
	UserAddress       string `json:"userAddress,omitempty"`
	DeviceID          string `json:"deviceId,omitempty"`
	DeviceSN          string `json:"deviceSN,omitempty"`
	UserSSID          string `json:"userSsid,omitempty"`
	UserMacAddr       string `json:"userMacAddr,omitempty"`
	BaseLatitude      any    `json:"baseLatitude,omitempty"`
	BaseLongitude     any    `json:"baseLongitude,omitempty"`
	BaseAddress       string `json:"baseAddress,omitempty"`
	GmtCreate         any    `json:"gmtCreate"`
	GmtModified       any    `json:"gmtModified"`
}

// wire renders r as listRecord does. Records with an odd id carry their
// numbers as JSON strings (the documented type), the others as JSON numbers
// (what the platform's sample shows).
func (r Record) wire(corpID string) wireRecord {
	asString := r.ID%2 == 1
	num := func(v int64) any {
		if asString {
			return strconv.FormatInt(v, 10)
		}
		return v
	}
	flt := func(v float64) any {
		if asString {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return v
	}
	ms := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return num(t.UnixMilli())
	}
	opt := func(v int64) any {
		if v == 0 {
			return nil
		}
		return num(v)
	}
	w := wireRecord{
		ID:                num(r.ID),
		UserID:            r.UserID,
		CorpID:            corpID,
		WorkDate:          ms(r.WorkDate),
		CheckType:         r.CheckType,
		TimeResult:        r.TimeResult,
		LocationResult:    r.LocationResult,
		SourceType:        r.SourceType,
		LocationMethod:    r.LocationMethod,
		UserCheckTime:     ms(r.CheckTime),
		BaseCheckTime:     ms(r.BaseCheckTime),
		PlanCheckTime:     ms(r.BaseCheckTime),
		GroupID:           opt(r.GroupID),
		PlanID:            opt(r.PlanID),
		IsLegal:           r.IsLegal,
		InvalidRecordType: r.InvalidRecordType,
		InvalidRecordMsg:  r.InvalidRecordMsg,
		UserAddress:       r.Address,
		DeviceID:          r.DeviceID,
		DeviceSN:          r.DeviceSN,
		UserSSID:          r.SSID,
		UserMacAddr:       r.MacAddr,
		GmtCreate:         ms(r.CheckTime),
		GmtModified:       ms(r.CheckTime),
	}
	if r.HasLocation {
		w.UserLatitude, w.UserLongitude, w.UserAccuracy = flt(r.Lat), flt(r.Lng), flt(r.Accuracy)
		w.BaseLatitude, w.BaseLongitude = flt(officeLat), flt(officeLng)
		w.BaseAddress = "浙江省杭州市余杭区文一西路"
	}
	return w
}
