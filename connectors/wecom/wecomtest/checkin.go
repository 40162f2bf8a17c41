package wecomtest

import (
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Limits of getcheckindata and get_hardware_checkin_data (B2.1, B2.2).
const (
	// MaxUsersPerCall is the most users one call may name.
	MaxUsersPerCall = 100
	// MaxCheckinSpan is getcheckindata's widest range: 30 days.
	MaxCheckinSpan = 30 * 24 * time.Hour
	// MaxHardwareSpan is the device API's widest range, "一个月", taken as
	// 31 days.
	MaxHardwareSpan = 31 * 24 * time.Hour
)

type checkinBody struct {
	OpenCheckinDataType int             `json:"opencheckindatatype"`
	FilterType          int             `json:"filter_type"`
	StartTime           json.RawMessage `json:"starttime"`
	EndTime             json.RawMessage `json:"endtime"`
	UserIDList          []string        `json:"useridlist"`
}

// window reads starttime and endtime (numbers or quoted numbers) and
// checks the users and the span; detail says what is wrong, "" if nothing.
func (b checkinBody) window(maxSpan time.Duration, spanMsg string) (from, to time.Time, detail string) {
	start, okS := unixArg(b.StartTime)
	end, okE := unixArg(b.EndTime)
	switch {
	case !okS || !okE:
		return from, to, "starttime/endtime must be Unix seconds"
	case len(b.UserIDList) == 0:
		return from, to, "useridlist is empty"
	case len(b.UserIDList) > MaxUsersPerCall:
		return from, to, "用户列表不超过100个"
	case end < start:
		return from, to, "endtime is before starttime"
	case time.Duration(end-start)*time.Second > maxSpan:
		return from, to, spanMsg
	}
	return time.Unix(start, 0), time.Unix(end, 0), ""
}

// checkinData serves POST checkin/getcheckindata: every row of the named
// users visible now with checkin_time in [starttime, endtime], both ends
// included, no pagination. opencheckindatatype 1 keeps 上下班 rows, 2
// 外出 rows, 3 all.
func (s *Server) checkinData(w http.ResponseWriter, r *http.Request) {
	var b checkinBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, APICheckinData, CodeCheckinBadParams, "body is not JSON")
		return
	}
	if b.OpenCheckinDataType < 1 || b.OpenCheckinDataType > 3 {
		s.fail(w, APICheckinData, CodeCheckinBadParams, "opencheckindatatype must be 1, 2 or 3")
		return
	}
	from, to, detail := b.window(MaxCheckinSpan, "获取记录时间跨度不超过30天")
	if detail != "" {
		s.fail(w, APICheckinData, CodeCheckinBadParams, detail)
		return
	}
	out := []map[string]any{}
	s.mu.Lock()
	now := s.now()
	for _, u := range dedupe(b.UserIDList) {
		rows := s.idx.checkins[strings.ToLower(u)]
		i := sort.Search(len(rows), func(i int) bool { return !rows[i].Time.Before(from) })
		for ; i < len(rows) && !rows[i].Time.After(to); i++ {
			row := rows[i]
			field := row.Type == TypeField
			if !row.visibleAt(now) || (b.OpenCheckinDataType == 1 && field) || (b.OpenCheckinDataType == 2 && !field) {
				continue
			}
			out = append(out, row.wire())
		}
	}
	s.mu.Unlock()
	s.ok(w, APICheckinData, map[string]any{"checkindata": out})
}

// wire renders a row as getcheckindata does.
func (c Checkin) wire() map[string]any {
	m := map[string]any{
		"userid":           c.UserID,
		"groupname":        "打卡一组",
		"checkin_type":     c.Type,
		"exception_type":   c.Exception,
		"checkin_time":     c.Time.Unix(),
		"location_title":   c.LocationTitle,
		"location_detail":  c.LocationDetail,
		"wifiname":         c.WifiName,
		"wifimac":          c.WifiMac,
		"notes":            c.Notes,
		"mediaids":         []string{},
		"lat":              int64(math.Round(c.Lat * 1e6)),
		"lng":              int64(math.Round(c.Lng * 1e6)),
		"deviceid":         c.DeviceID,
		"sch_checkin_time": int64(0),
		"groupid":          1,
		"schedule_id":      0,
		"timeline_id":      1,
	}
	if !c.Scheduled.IsZero() {
		m["sch_checkin_time"] = c.Scheduled.Unix()
	}
	return m
}

// hardwareData serves POST hardware/get_hardware_checkin_data: the raw
// machine punches of the named users, by punch time (filter_type 1, the
// default) or by upload time (2), both ends included, uploaded by now.
// Unknown userids are ignored, as the page says.
func (s *Server) hardwareData(w http.ResponseWriter, r *http.Request) {
	var b checkinBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, APIHardwareData, CodeCheckinBadParams, "body is not JSON")
		return
	}
	if b.FilterType == 0 {
		b.FilterType = 1
	}
	if b.FilterType != 1 && b.FilterType != 2 {
		s.fail(w, APIHardwareData, CodeCheckinBadParams, "filter_type must be 1 or 2")
		return
	}
	from, to, detail := b.window(MaxHardwareSpan, "获取记录时间跨度不超过一个月")
	if detail != "" {
		s.fail(w, APIHardwareData, CodeCheckinBadParams, detail)
		return
	}
	out := []map[string]any{}
	s.mu.Lock()
	now := s.now()
	for _, u := range dedupe(b.UserIDList) {
		for _, p := range s.idx.devices[strings.ToLower(u)] {
			at := p.Time
			if b.FilterType == 2 {
				at = p.Uploaded
			}
			if p.Uploaded.After(now) || at.Before(from) || at.After(to) {
				continue
			}
			out = append(out, map[string]any{
				"userid": p.UserID, "checkin_time": p.Time.Unix(), "device_sn": p.DeviceSN, "device_name": p.DeviceName,
			})
		}
	}
	s.mu.Unlock()
	s.ok(w, APIHardwareData, map[string]any{"checkindata": out})
}

// unixArg reads a Unix time sent as a number or a quoted number, as the
// platform's own samples send both.
func unixArg(raw json.RawMessage) (int64, bool) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		v, err := n.Int64()
		return v, err == nil && v >= 0
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, false
	}
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil && v >= 0
}

// dedupe drops repeated userids (case-insensitively, as WeCom compares
// them), keeping the first.
func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		k := strings.ToLower(id)
		if !seen[k] {
			seen[k] = true
			out = append(out, id)
		}
	}
	return out
}
