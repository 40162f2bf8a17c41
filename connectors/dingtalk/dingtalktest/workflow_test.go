package dingtalktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// v1 sends a v1.0 request with the token in its header and decodes the
// answer, adding http_status.
func v1(t *testing.T, s *Server, method, path, token string, q url.Values, body any) answer {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	u := s.URL() + "/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set(TokenHeader, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	a["http_status"] = float64(resp.StatusCode)
	return a
}

func (a answer) status() int { n, _ := a["http_status"].(float64); return int(n) }

func (a answer) v1code() string { s, _ := a["code"].(string); return s }

func TestInstanceIDsLimitsAndPaging(t *testing.T) {
	s, clk := newTestServer(t)
	tok := token(t, s)
	for i := range 25 {
		s.AddInstances(Instance{ID: "leave-" + string(rune('a'+i)), ProcessCode: ProcLeave, Originator: "u1", Status: StatusRunning,
			Created: monday.Add(time.Duration(i) * time.Hour)})
	}
	s.AddInstances(Instance{ID: "other", ProcessCode: ProcMakeup, Created: monday})
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	now := clk.Now()
	for name, tc := range map[string]struct {
		body   map[string]any
		token  string
		status int
		code   string
	}{
		"no token":            {map[string]any{"processCode": ProcLeave, "startTime": ms(monday)}, "", 400, V1InvalidAuth},
		"bad token":           {map[string]any{"processCode": ProcLeave, "startTime": ms(monday)}, "nope", 400, V1InvalidAuth},
		"21 a page":           {map[string]any{"processCode": ProcLeave, "startTime": ms(monday), "maxResults": 21}, tok, 400, V1BadParameter},
		"121 days":            {map[string]any{"processCode": ProcLeave, "startTime": ms(monday), "endTime": ms(monday.AddDate(0, 0, 121))}, tok, 400, V1BadParameter},
		"start over 365 days": {map[string]any{"processCode": ProcLeave, "startTime": ms(now.AddDate(0, 0, -366)), "endTime": ms(now.AddDate(0, 0, -300))}, tok, 400, V1BadParameter},
		"start only, 121 d":   {map[string]any{"processCode": ProcLeave, "startTime": ms(now.AddDate(0, 0, -121))}, tok, 400, V1BadParameter},
		"no process code":     {map[string]any{"startTime": ms(monday)}, tok, 400, V1BadParameter},
		"120 days":            {map[string]any{"processCode": ProcLeave, "startTime": ms(monday), "endTime": ms(monday.AddDate(0, 0, 120))}, tok, 200, ""},
	} {
		a := v1(t, s, http.MethodPost, APIInstanceIDs, tc.token, nil, tc.body)
		if a.status() != tc.status || a.v1code() != tc.code {
			t.Errorf("%s: HTTP %d %q, want %d %q (%v)", name, a.status(), a.v1code(), tc.status, tc.code, a)
		}
	}
	var ids []any
	next := any(0)
	for pages := 1; ; pages++ {
		a := v1(t, s, http.MethodPost, APIInstanceIDs, tok, nil, map[string]any{"processCode": ProcLeave, "startTime": ms(monday), "endTime": ms(monday.AddDate(0, 0, 7)), "nextToken": next, "maxResults": 20})
		res := a["result"].(map[string]any)
		ids = append(ids, res["list"].([]any)...)
		tok, more := res["nextToken"]
		if !more {
			if pages != 2 {
				t.Errorf("pages = %d, want 2", pages)
			}
			break
		}
		next = tok
	}
	if len(ids) != 25 || ids[0] != "leave-a" {
		t.Errorf("ids = %v, want the 25 leave instances in creation order", ids)
	}
}

func TestInstanceGetAndRevoke(t *testing.T) {
	s, _ := newTestServer(t)
	tok := token(t, s)
	form := LeaveForm(monday.Add(9*time.Hour), monday.Add(18*time.Hour), 8, "hour", "年假")
	s.AddInstances(Instance{ID: "i1", ProcessCode: ProcLeave, Originator: "u1", Status: StatusRunning, Created: monday.Add(-time.Hour), Form: form})
	a := v1(t, s, http.MethodGet, APIInstance, tok, url.Values{"processInstanceId": {"i1"}}, nil)
	res := a["result"].(map[string]any)
	if res["status"] != "RUNNING" || res["originatorUserId"] != "u1" || res["createTime"] != "2026-03-01T15:00Z" || res["bizAction"] != "NONE" {
		t.Errorf("instance = %v", res)
	}
	comps := res["formComponentValues"].([]any)
	hol := comps[0].(map[string]any)
	var value []any
	if err := json.Unmarshal([]byte(hol["value"].(string)), &value); err != nil || len(value) != 6 || value[0] != "2026-03-02 09:00" || value[4] != "年假" {
		t.Errorf("holiday value = %v (%v)", hol["value"], err)
	}
	if a := v1(t, s, http.MethodGet, APIInstance, tok, url.Values{"processInstanceId": {"nope"}}, nil); a.status() != 400 || a.v1code() != V1NoInstance {
		t.Errorf("unknown instance: %v", a)
	}
	s.Decide("i1", ResultAgree, monday.Add(2*time.Hour))
	rev, ok := s.RevokeApproved("i1", monday.Add(24*time.Hour), monday.Add(25*time.Hour))
	if !ok {
		t.Fatal("revoke failed")
	}
	res = v1(t, s, http.MethodGet, APIInstance, tok, url.Values{"processInstanceId": {"i1"}}, nil)["result"].(map[string]any)
	if res["status"] != "COMPLETED" || res["result"] != "agree" || len(res["attachedProcessInstanceIds"].([]any)) != 1 {
		t.Errorf("revoked main = %v", res)
	}
	res = v1(t, s, http.MethodGet, APIInstance, tok, url.Values{"processInstanceId": {rev}}, nil)["result"].(map[string]any)
	if res["bizAction"] != "REVOKE" || res["mainProcessInstanceId"] != "i1" {
		t.Errorf("revoke request = %v", res)
	}
}

func TestV1FailuresAndIPBlock(t *testing.T) {
	s, _ := newTestServer(t)
	tok := token(t, s)
	body := map[string]any{"processCode": ProcLeave, "startTime": monday.UnixMilli()}
	for _, tc := range []struct {
		errcode int
		status  int
		code    string
	}{
		{CodeAppQPS, 403, V1QPSLimit},
		{CodeGlobalQPS, 403, V1GlobalQPSLimit},
		{CodeMonthlyQuota, 403, V1Quota},
		{CodeInvalidToken, 400, V1InvalidAuth},
		{CodeBusy, 503, "ServiceUnavailable"},
	} {
		s.FailNext(APIInstanceIDs, tc.errcode, 1)
		if a := v1(t, s, http.MethodPost, APIInstanceIDs, tok, nil, body); a.status() != tc.status || a.v1code() != tc.code {
			t.Errorf("FailNext %d: HTTP %d %q, want %d %q", tc.errcode, a.status(), a.v1code(), tc.status, tc.code)
		}
	}
	s.BlockIP(2)
	if a := v1(t, s, http.MethodPost, APIInstanceIDs, tok, nil, body); a.status() != 403 || a["status"] != float64(1111) || a["wait"] != float64(5) {
		t.Errorf("blocked v1.0 call: %v", a)
	}
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}); a["http_status"] != float64(403) {
		t.Errorf("blocked oapi call: %v", a)
	}
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}); a.code() != 0 {
		t.Errorf("after the block: %v", a)
	}
}

func TestGeneratedInstances(t *testing.T) {
	c := GenerateCompany(5, 120, monday, 21)
	have := map[string]bool{}
	for _, r := range c.Records {
		if r.CheckType != "" {
			have[r.UserID+"/"+r.WorkDate.Format(time.DateOnly)+"/"+r.CheckType] = true
		}
	}
	seen := map[string]int{}
	byID := map[string]Instance{}
	for _, in := range c.Instances {
		byID[in.ID] = in
	}
	for _, in := range c.Instances {
		seen[in.ProcessCode]++
		seen[in.Status+"/"+in.Result]++
		if in.BizAction == ActionRevoke {
			seen["revoke"]++
			if main := byID[in.MainID]; len(main.Attached) != 1 || main.Attached[0] != in.ID {
				t.Errorf("revoke %s is not attached to %s", in.ID, in.MainID)
			}
		}
		if in.ProcessCode == ProcMakeup && in.BizAction != ActionRevoke {
			var ext struct {
				UserCheckTime int64 `json:"userCheckTime"`
				PlanTip       string
			}
			if err := json.Unmarshal([]byte(in.Form[0].ExtValue), &ext); err != nil {
				t.Fatal(err)
			}
			at := time.UnixMilli(ext.UserCheckTime).In(Shanghai)
			ct := "OnDuty"
			if at.Hour() >= 12 {
				ct = "OffDuty"
			}
			if have[in.Originator+"/"+at.Format(time.DateOnly)+"/"+ct] {
				t.Errorf("make-up %s for a punch that exists", in.ID)
			}
			if !in.Created.After(at) {
				t.Errorf("make-up %s filed before the punch it makes up", in.ID)
			}
		}
	}
	for _, k := range []string{ProcLeave, ProcOvertime, ProcMakeup, "COMPLETED/agree", "COMPLETED/refuse", "RUNNING/", "TERMINATED/", "revoke"} {
		if seen[k] == 0 {
			t.Errorf("no %s instance among %v", k, seen)
		}
	}
	again := GenerateCompany(5, 120, monday, 21)
	if len(again.Instances) != len(c.Instances) || again.Instances[7].ID != c.Instances[7].ID {
		t.Error("instances are not deterministic")
	}
}
