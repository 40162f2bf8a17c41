package dingtalktest

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Process codes of the generated company's approval templates.
const (
	ProcLeave    = "PROC-FAKE-LEAVE"
	ProcOvertime = "PROC-FAKE-OVERTIME"
	ProcTrip     = "PROC-FAKE-TRIP"
	ProcOut      = "PROC-FAKE-GOOUT"
	ProcMakeup   = "PROC-FAKE-SUPPLY" // 补卡, bizCategoryId attendance.supply
)

// Limits of workflow/processes/instanceIds/query (platform API reference
// A3).
const (
	MaxInstancesPerPage = 20
	MaxInstanceSpan     = 120 * 24 * time.Hour
	MaxInstanceAge      = 365 * 24 * time.Hour
)

// Instance states, results and actions, as the workflow API spells them.
const (
	StatusRunning    = "RUNNING"
	StatusCompleted  = "COMPLETED"
	StatusTerminated = "TERMINATED"
	ResultAgree      = "agree"
	ResultRefuse     = "refuse"
	ActionNone       = "NONE"
	ActionRevoke     = "REVOKE"
	ActionModify     = "MODIFY"
)

// Instance is one approval process instance.
type Instance struct {
	ID          string
	ProcessCode string
	Title       string
	Originator  string // originatorUserId
	Status      string // RUNNING | COMPLETED | TERMINATED
	Result      string // agree | refuse, when COMPLETED
	BizAction   string // NONE | REVOKE | MODIFY
	MainID      string // the instance a REVOKE or MODIFY request is about
	Attached    []string
	Created     time.Time
	Finished    time.Time // zero while RUNNING
	Form        []FormValue
}

// FormValue is one entry of formComponentValues.
type FormValue struct {
	ID, Name, Value, ExtValue, ComponentType, BizAlias string
}

// AddInstances adds approval instances (their ids must be new).
func (s *Server) AddInstances(ins ...Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range ins {
		in.Attached = append([]string(nil), in.Attached...)
		in.Form = append([]FormValue(nil), in.Form...)
		s.company.Instances = append(s.company.Instances, in)
	}
	s.indexInstances()
}

// Instance returns the instance with id.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.instByID[id]
	if !ok {
		return Instance{}, false
	}
	return s.company.Instances[i].clone(), true
}

// Decide completes a running instance with result (agree or refuse) at
// finished, as an approver would.
func (s *Server) Decide(id, result string, finished time.Time) bool {
	return s.update(id, func(in *Instance) {
		in.Status, in.Result, in.Finished = StatusCompleted, result, finished
	})
}

// Terminate marks an instance TERMINATED (撤销 by its originator) at
// finished.
func (s *Server) Terminate(id string, finished time.Time) bool {
	return s.update(id, func(in *Instance) {
		in.Status, in.Result, in.Finished = StatusTerminated, "", finished
	})
}

// RevokeApproved revokes a completed instance the way DingTalk does: a new
// instance of the same process with bizAction REVOKE and the original as
// its main instance, approved at finished, attached to the original. It
// returns the revoke instance's id.
func (s *Server) RevokeApproved(id string, created, finished time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.instByID[id]
	if !ok {
		return "", false
	}
	main := &s.company.Instances[i]
	rev := Instance{
		ID: main.ID + "-revoke", ProcessCode: main.ProcessCode, Title: "撤销: " + main.Title, Originator: main.Originator,
		Status: StatusCompleted, Result: ResultAgree, BizAction: ActionRevoke, MainID: main.ID,
		Created: created, Finished: finished, Form: append([]FormValue(nil), main.Form...),
	}
	main.Attached = append(main.Attached, rev.ID)
	s.company.Instances = append(s.company.Instances, rev)
	s.indexInstances()
	return rev.ID, true
}

func (s *Server) update(id string, f func(*Instance)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.instByID[id]
	if ok {
		f(&s.company.Instances[i])
	}
	return ok
}

type instanceIDsBody struct {
	ProcessCode string `json:"processCode"`
	StartTime   *int64 `json:"startTime"`
	EndTime     *int64 `json:"endTime"`
	NextToken   any    `json:"nextToken"`
	MaxResults  *int   `json:"maxResults"`
}

// instanceIDs serves POST /v1.0/workflow/processes/instanceIds/query: the
// ids of one process's instances created in [startTime, endTime], in
// creation order, maxResults (at most 20) a page, nextToken an offset
// ("" when done). A range over 120 days, a start over 365 days ago, or
// (without endTime) a start over 120 days ago is refused, as documented.
func (s *Server) instanceIDs(w http.ResponseWriter, r *http.Request) {
	var b instanceIDsBody
	if err := decodeBody(r, &b); err != nil || b.ProcessCode == "" || b.StartTime == nil {
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "processCode和startTime必填")
		return
	}
	size := MaxInstancesPerPage
	if b.MaxResults != nil {
		size = *b.MaxResults
	}
	if size < 1 || size > MaxInstancesPerPage {
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "maxResults最大值为20")
		return
	}
	now := s.now()
	start := time.UnixMilli(*b.StartTime)
	end := now
	if b.EndTime != nil && *b.EndTime > 0 {
		end = time.UnixMilli(*b.EndTime)
	}
	switch {
	case end.Before(start):
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "startTime不能晚于endTime")
		return
	case b.EndTime == nil && now.Sub(start) > MaxInstanceSpan:
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "只传startTime时只能查询120天内的数据")
		return
	case end.Sub(start) > MaxInstanceSpan:
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "startTime和endTime相隔不能超过120天")
		return
	case now.Sub(start) > MaxInstanceAge:
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "startTime不能早于365天前")
		return
	}
	offset := 0
	switch t := b.NextToken.(type) {
	case float64:
		offset = int(t)
	case string:
		if t != "" {
			n, err := strconv.Atoi(t)
			if err != nil || n < 0 {
				writeV1Error(w, http.StatusBadRequest, V1BadParameter, "nextToken无效")
				return
			}
			offset = n
		}
	}
	s.mu.Lock()
	var match []Instance
	for _, in := range s.company.Instances {
		if in.ProcessCode == b.ProcessCode && !in.Created.Before(start) && !in.Created.After(end) {
			match = append(match, in)
		}
	}
	s.mu.Unlock()
	sort.Slice(match, func(i, j int) bool {
		if !match[i].Created.Equal(match[j].Created) {
			return match[i].Created.Before(match[j].Created)
		}
		return match[i].ID < match[j].ID
	})
	offset = min(offset, len(match))
	stop := min(offset+size, len(match))
	list := []string{}
	for _, in := range match[offset:stop] {
		list = append(list, in.ID)
	}
	result := map[string]any{"list": list}
	if stop < len(match) {
		result["nextToken"] = strconv.Itoa(stop)
	}
	writeJSON(w, map[string]any{"result": result, "success": true})
}

// instance serves GET /v1.0/workflow/processInstances?processInstanceId=.
func (s *Server) instance(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("processInstanceId")
	in, ok := s.Instance(id)
	if !ok {
		writeV1Error(w, http.StatusBadRequest, V1NoInstance, "审批实例不存在")
		return
	}
	writeJSON(w, map[string]any{"result": in.wire(), "success": true})
}

// wire renders the instance as the v1.0 get-instance answer's result.
func (in Instance) wire() map[string]any {
	form := make([]map[string]any, len(in.Form))
	for i, f := range in.Form {
		form[i] = map[string]any{"id": f.ID, "name": f.Name, "value": f.Value, "extValue": f.ExtValue, "componentType": f.ComponentType, "bizAlias": f.BizAlias}
	}
	ops := []map[string]any{{"userId": in.Originator, "date": isoMinute(in.Created), "type": "START_PROCESS_INSTANCE", "result": "NONE"}}
	switch {
	case in.Status == StatusCompleted:
		ops = append(ops, map[string]any{"userId": "approver01", "date": isoMinute(in.Finished), "type": "EXECUTE_TASK_NORMAL", "result": map[string]string{ResultAgree: "AGREE", ResultRefuse: "REFUSE"}[in.Result]})
	case in.Status == StatusTerminated:
		ops = append(ops, map[string]any{"userId": in.Originator, "date": isoMinute(in.Finished), "type": "TERMINATE_PROCESS_INSTANCE", "result": "NONE"})
	}
	action := in.BizAction
	if action == "" {
		action = ActionNone
	}
	out := map[string]any{
		"title":                      in.Title,
		"originatorUserId":           in.Originator,
		"originatorDeptId":           "101",
		"status":                     in.Status,
		"result":                     in.Result,
		"businessId":                 "2026" + in.ID,
		"bizAction":                  action,
		"mainProcessInstanceId":      in.MainID,
		"attachedProcessInstanceIds": append([]string{}, in.Attached...),
		"operationRecords":           ops,
		"tasks":                      []any{},
		"formComponentValues":        form,
		"createTime":                 isoMinute(in.Created),
	}
	if !in.Finished.IsZero() {
		out["finishTime"] = isoMinute(in.Finished)
	}
	return out
}

// isoMinute writes times as the v1.0 API does: 2022-08-31T11:52Z (UTC,
// minutes).
func isoMinute(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

func (in Instance) clone() Instance {
	in.Attached = append([]string(nil), in.Attached...)
	in.Form = append([]FormValue(nil), in.Form...)
	return in
}
