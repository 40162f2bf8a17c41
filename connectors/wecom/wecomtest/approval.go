package wecomtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Limits of oa/getapprovalinfo (B3).
const (
	// MaxApprovalSpan is the widest starttime..endtime range: 31 days.
	MaxApprovalSpan = 31 * 24 * time.Hour
	// MaxApprovalPage is the largest size.
	MaxApprovalPage = 100
)

type approvalInfoBody struct {
	StartTime json.RawMessage `json:"starttime"`
	EndTime   json.RawMessage `json:"endtime"`
	NewCursor string          `json:"new_cursor"`
	Size      int             `json:"size"`
	Filters   []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"filters"`
}

// approvalInfo serves POST oa/getapprovalinfo: the sp_no of every approval
// submitted in [starttime, endtime] by now that passes the filters —
// filters of one key OR-ed, of different keys AND-ed (template_id,
// creator, sp_status, record_type) — size a page from new_cursor;
// new_next_cursor is absent on the last page.
func (s *Server) approvalInfo(w http.ResponseWriter, r *http.Request) {
	var b approvalInfoBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, APIApprovalInfo, CodeApprovalBadParams, "body is not JSON")
		return
	}
	start, okS := unixArg(b.StartTime)
	end, okE := unixArg(b.EndTime)
	switch {
	case !okS || !okE:
		s.fail(w, APIApprovalInfo, CodeApprovalBadParams, "starttime/endtime must be Unix seconds")
		return
	case end <= start:
		s.fail(w, APIApprovalInfo, CodeApprovalBadParams, "endtime需要大于starttime")
		return
	case time.Duration(end-start)*time.Second > MaxApprovalSpan:
		s.fail(w, APIApprovalInfo, CodeApprovalBadParams, "起始时间跨度不能超过31天")
		return
	case b.Size < 0 || b.Size > MaxApprovalPage:
		s.fail(w, APIApprovalInfo, CodeApprovalBadParams, "size上限值为100")
		return
	}
	if b.Size == 0 {
		b.Size = MaxApprovalPage
	}
	s.mu.Lock()
	page, code, detail := s.approvalPage(b, time.Unix(start, 0), time.Unix(end, 0))
	s.mu.Unlock()
	if code != 0 {
		s.fail(w, APIApprovalInfo, code, detail)
		return
	}
	s.ok(w, APIApprovalInfo, page)
}

// approvalPage lists one page of matching approvals; the caller holds mu.
func (s *Server) approvalPage(b approvalInfoBody, from, to time.Time) (page map[string]any, code int, detail string) {
	want := map[string][]string{}
	for _, f := range b.Filters {
		want[f.Key] = append(want[f.Key], f.Value)
	}
	now := s.now()
	var match []string
	for _, i := range s.idx.byApply {
		a := s.company.Approvals[i]
		if a.ApplyTime.Before(from) || a.ApplyTime.After(to) || a.ApplyTime.After(now) {
			continue
		}
		if passes(want, "template_id", a.TemplateID) && passes(want, "creator", a.Applyer) &&
			passes(want, "sp_status", strconv.Itoa(a.statusAt(now))) && passes(want, "record_type", strconv.Itoa(a.RecordType)) {
			match = append(match, a.SpNo)
		}
	}
	if s.rangeCap > 0 && len(match) > s.rangeCap {
		return nil, CodeNarrowRange, ""
	}
	offset := 0
	if b.NewCursor != "" {
		c, ok := s.cursors[b.NewCursor]
		if !ok || c.api != APIApprovalInfo {
			return nil, CodeApprovalBadParams, "invalid new_cursor"
		}
		offset = c.offset
	}
	offset = min(offset, len(match))
	stop := min(offset+b.Size, len(match))
	page = map[string]any{"sp_no_list": append([]string{}, match[offset:stop]...)}
	if stop < len(match) {
		page["new_next_cursor"] = s.newCursor(APIApprovalInfo, stop, strconv.FormatInt(from.Unix(), 10)+"-"+strconv.FormatInt(to.Unix(), 10))
	}
	return page, 0, ""
}

// passes reports whether value is one of the filter values of key, or key
// has no filter.
func passes(want map[string][]string, key, value string) bool {
	vals, ok := want[key]
	return !ok || slices.Contains(vals, value)
}

type approvalDetailBody struct {
	SpNo json.RawMessage `json:"sp_no"`
}

// approvalDetail serves POST oa/getapprovaldetail: the approval as the
// platform shows it now, with its one control in apply_data.
func (s *Server) approvalDetail(w http.ResponseWriter, r *http.Request) {
	var b approvalDetailBody
	if err := decodeBody(r, &b); err != nil {
		s.fail(w, APIApprovalDetail, CodeApprovalBadParams, "body is not JSON")
		return
	}
	var spNo string
	if err := json.Unmarshal(b.SpNo, &spNo); err != nil {
		spNo = string(b.SpNo) // the older sample sends it as a number
	}
	s.mu.Lock()
	now := s.now()
	i, ok := s.idx.approvals[spNo]
	var a Approval
	if ok {
		a = s.company.Approvals[i]
	}
	s.mu.Unlock()
	if !ok || a.ApplyTime.After(now) {
		s.fail(w, APIApprovalDetail, CodeApprovalBadParams, "sp_no not found")
		return
	}
	s.ok(w, APIApprovalDetail, map[string]any{"info": a.wire(now)})
}

// wire renders the approval as getapprovaldetail does at now.
func (a Approval) wire(now time.Time) map[string]any {
	status := a.statusAt(now)
	nodeStatus, spTime := 1, int64(0)
	if status != 1 {
		nodeStatus, spTime = 2, a.DecidedAt.Unix()
		if status == 3 {
			nodeStatus = 3
		}
	}
	return map[string]any{
		"sp_no":       a.SpNo,
		"sp_name":     a.Name,
		"sp_status":   status,
		"template_id": a.TemplateID,
		"apply_time":  a.ApplyTime.Unix(),
		"applyer":     map[string]any{"userid": a.Applyer, "partyid": a.Party},
		"sp_record": []map[string]any{{
			"sp_status":    nodeStatus,
			"approverattr": 1,
			"details": []map[string]any{{
				"approver": map[string]any{"userid": "manager0001"}, "speech": "", "sp_status": nodeStatus, "sptime": spTime, "media_id": []string{},
			}},
		}},
		"notifyer":   []map[string]any{},
		"apply_data": map[string]any{"contents": []map[string]any{a.control()}},
		"comments":   []map[string]any{},
	}
}

// control renders the form's one control (B3).
func (a Approval) control() map[string]any {
	ctl := map[string]any{
		"control": a.Control,
		"id":      a.Control + "-1569233905521",
		"title":   []map[string]any{{"text": a.Name, "lang": "zh_CN"}},
	}
	dateRange := map[string]any{
		"type": a.RangeType, "new_begin": a.Begin.Unix(), "new_end": a.End.Unix(), "new_duration": int64(a.Duration / time.Second),
	}
	attendance := map[string]any{
		"date_range": dateRange,
		"type":       a.AttendanceType,
		"slice_info": map[string]any{"duration": int64(a.Duration / time.Second), "state": 1, "day_items": []map[string]any{}},
	}
	switch a.Control {
	case ControlVacation:
		ctl["value"] = map[string]any{"vacation": map[string]any{
			"selector": map[string]any{"type": "single", "exp_type": 0, "options": []map[string]any{{
				"key": a.LeaveKey, "value": []map[string]any{{"text": a.LeaveName, "lang": "zh_CN"}},
			}}},
			"attendance": attendance,
		}}
	case ControlAttendance:
		ctl["value"] = map[string]any{"attendance": attendance}
	case ControlCorrection:
		y, m, d := a.CorrectionTime.In(Shanghai).Date()
		ctl["value"] = map[string]any{"punch_correction": map[string]any{
			"state": a.CorrectionState, "time": a.CorrectionTime.Unix(), "version": 1,
			"daymonthyear": time.Date(y, m, d, 0, 0, 0, 0, Shanghai).Unix(),
		}}
	default:
		ctl["value"] = map[string]any{"text": a.Text}
	}
	return ctl
}
