package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// rawInst renders a fake instance as the get-instance answer's result.
func rawInst(t *testing.T, form []dt.FormValue) []byte {
	t.Helper()
	comps := make([]map[string]string, len(form))
	for i, f := range form {
		comps[i] = map[string]string{"id": f.ID, "name": f.Name, "value": f.Value, "extValue": f.ExtValue, "componentType": f.ComponentType, "bizAlias": f.BizAlias}
	}
	b, err := json.Marshal(map[string]any{"formComponentValues": comps})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func at(day int, hhmm string) time.Time {
	t, err := time.ParseInLocation("15:04", hhmm, shanghai)
	if err != nil {
		panic(err)
	}
	return monday.AddDate(0, 0, day).Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
}

// formsOf compiles the inbound mapping of a connector configured with
// cfg, approvalsConfig's process codes and the inline inbound: override
// src ("" for none).
func formsOf(t *testing.T, cfg Config, src string) *formReader {
	t.Helper()
	approvalsConfig(&cfg)
	if src != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Inbound.UnmarshalYAML(doc.Content[0]); err != nil {
			t.Fatal(err)
		}
	}
	in, err := compileInbound("dingtalk-test", cfg, "punchbridge.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &formReader{in: in}
}

func TestFormExtraction(t *testing.T) {
	custom := []dt.FormValue{
		{ID: "TextField-1", Name: "假别", Value: "病假"},
		{ID: "DDDateField-A", Name: "请假开始", Value: "2026-03-04 13:30"},
		{ID: "DDDateField-B", Name: "请假结束", Value: "2026-03-04 17:30"},
		{ID: "NumberField-C", Name: "小时数", Value: "4"},
	}
	// The components of the custom form, named in an inbound: override
	// (the old form: setting's job).
	customFields := `
fields:
  leave_type: formComponentValues.#(name=="假别").value
  start:
    from: formComponentValues.#(name=="请假开始").value
    transforms:
      - format: {from: "2006-01-02 15:04", layout: RFC3339, zone: Asia/Shanghai}
  end:
    from: formComponentValues.#(id=="DDDateField-B").value
    transforms:
      - format: {from: "2006-01-02 15:04", layout: RFC3339, zone: Asia/Shanghai}
  duration_minutes:
    from: formComponentValues.#(name=="小时数").value
    transforms:
      - unit: {from: hours, to: minutes, round: half_up}
`
	startEndOnly := `
fields:
  start:
    from: formComponentValues.#(name=="请假开始").value
    transforms: [{format: {from: "2006-01-02 15:04", layout: RFC3339, zone: Asia/Shanghai}}]
  end:
    from: formComponentValues.#(id=="DDDateField-B").value
    transforms: [{format: {from: "2006-01-02 15:04", layout: RFC3339, zone: Asia/Shanghai}}]
`
	// The overtime suite's duration says its unit in extValue; the
	// built-in mapping reads only a duration in hours.
	suite := dt.SuiteForm(at(1, "18:30"), at(1, "21:00"), 2.5)
	suite[2].ExtValue = `{"durationInHour":2.5,"unit":"hour"}`
	for _, tc := range []struct {
		name       string
		form       []dt.FormValue
		code       string
		cfg        Config
		override   string
		start, end time.Time
		minutes    int
		leaveType  string
	}{
		{"leave component, hours", dt.LeaveForm(at(1, "09:00"), at(1, "18:00"), 8, "hour", "年假"), dt.ProcLeave, Config{}, "",
			at(1, "09:00"), at(1, "18:00"), 480, "ANNUAL"},
		{"leave component, days", dt.LeaveForm(at(2, "00:00"), at(3, "00:00"), 2, "day", "病假"), dt.ProcLeave, Config{}, "",
			at(2, "00:00"), at(4, "00:00"), 0, "SICK"},
		{"leave component, half days", dt.LeaveForm(at(2, "13:00"), at(3, "09:00"), 1, "halfDay", "事假"), dt.ProcLeave, Config{}, "",
			at(2, "12:00"), at(3, "12:00"), 0, "PERSONAL"},
		{"configured leave type mapping", dt.LeaveForm(at(1, "09:00"), at(1, "12:00"), 3, "hour", "年假"), dt.ProcLeave,
			Config{LeaveTypes: map[string]string{"年假": "AL"}}, "", at(1, "09:00"), at(1, "12:00"), 180, "AL"},
		{"unknown leave name kept", dt.LeaveForm(at(1, "09:00"), at(1, "12:00"), 3, "hour", "探亲假"), dt.ProcLeave, Config{}, "",
			at(1, "09:00"), at(1, "12:00"), 180, "探亲假"},
		{"leave component, process code not given", dt.LeaveForm(at(1, "09:00"), at(1, "12:00"), 3, "hour", "年假"), "", Config{}, "",
			at(1, "09:00"), at(1, "12:00"), 180, "ANNUAL"},
		{"overtime suite", suite, dt.ProcOvertime, Config{}, "",
			at(1, "18:30"), at(1, "21:00"), 150, ""},
		{"custom components through inbound:", custom, dt.ProcLeave, Config{}, customFields,
			at(2, "13:30"), at(2, "17:30"), 240, "SICK"},
		{"only start and end overridden", custom, dt.ProcLeave, Config{}, startEndOnly,
			at(2, "13:30"), at(2, "17:30"), 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := formsOf(t, tc.cfg, tc.override).read(tc.code, rawInst(t, tc.form))
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != mapping.KindApproval || (tc.leaveType != "" && a.Type != mapping.ApprovalLeave) {
				t.Errorf("kind %s type %s, want an approval", a.Kind, a.Type)
			}
			if !a.Start.Equal(tc.start) || !a.End.Equal(tc.end) {
				t.Errorf("range = %s – %s, want %s – %s", a.Start, a.End, tc.start, tc.end)
			}
			if a.DurationMinutes != tc.minutes {
				t.Errorf("minutes = %d, want %d", a.DurationMinutes, tc.minutes)
			}
			if a.LeaveType != tc.leaveType {
				t.Errorf("leave type = %q, want %q", a.LeaveType, tc.leaveType)
			}
		})
	}
}

func TestMakeupExtraction(t *testing.T) {
	f := formsOf(t, Config{}, "")
	for _, tc := range []struct {
		checkType string
		when      time.Time
		dir       mapping.Direction
	}{
		{"OnDuty", at(3, "09:00"), mapping.DirIn},
		{"OffDuty", at(3, "18:00").Add(17 * time.Second), mapping.DirOut},
	} {
		for _, code := range []string{dt.ProcMakeup, ""} {
			m, err := f.read(code, rawInst(t, dt.MakeupForm(tc.when, tc.checkType, "忘记打卡")))
			if err != nil || m.Kind != mapping.KindMakeup || !m.Time.Equal(tc.when) || m.Direction != tc.dir || m.Reason != "忘记打卡" {
				t.Errorf("%s (code %q): makeup = %+v, %v; want %s %s", tc.checkType, code, m, err, tc.when, tc.dir)
			}
		}
	}
	// Without extValue the minute-precision value is used, direction unknown.
	m, err := f.read(dt.ProcMakeup, rawInst(t, []dt.FormValue{{Name: "补卡时间", Value: "2026-03-05 09:00"}}))
	if err != nil || !m.Time.Equal(at(3, "09:00")) || m.Direction != mapping.DirUnknown {
		t.Errorf("makeup without extValue = %+v, %v", m, err)
	}
	// A form that is neither leave nor make-up, of a process not listed,
	// is not attendance.
	if _, err := f.read("", rawInst(t, []dt.FormValue{{Name: "采购事由", Value: "笔记本电脑"}})); !errors.Is(err, mapping.ErrSkip) {
		t.Errorf("a purchase form: %v, want ErrSkip", err)
	}
}

func TestInstanceStatus(t *testing.T) {
	created, finished := "2026-03-02T01:00Z", "2026-03-02T05:30Z"
	agreeRevoke := instance{BizAction: "REVOKE", Status: "COMPLETED", Result: "agree", FinishTime: "2026-03-03T02:00Z"}
	for _, tc := range []struct {
		name string
		in   instance
		want mapping.Status
		at   string
	}{
		{"running is pending, at creation", instance{Status: "RUNNING"}, mapping.StatusPending, created},
		{"new (old API) is pending", instance{Status: "NEW"}, mapping.StatusPending, created},
		{"completed agree is approved", instance{Status: "COMPLETED", Result: "agree"}, mapping.StatusApproved, finished},
		{"completed refuse is rejected", instance{Status: "COMPLETED", Result: "refuse"}, mapping.StatusRejected, finished},
		{"terminated is revoked", instance{Status: "TERMINATED"}, mapping.StatusRevoked, finished},
		{"canceled (old API) is revoked", instance{Status: "CANCELED"}, mapping.StatusRevoked, finished},
		{"no result: the last operation decides", instance{Status: "COMPLETED", OperationRecords: []operation{{Result: "AGREE"}, {Result: "REFUSE"}}}, mapping.StatusRejected, finished},
		{"an approved revoke request revokes", instance{Status: "COMPLETED", Result: "agree", attached: []instance{agreeRevoke}}, mapping.StatusRevoked, "2026-03-03T02:00Z"},
		{"a refused revoke request does not", instance{Status: "COMPLETED", Result: "agree", attached: []instance{{BizAction: "REVOKE", Status: "COMPLETED", Result: "refuse"}}}, mapping.StatusApproved, finished},
	} {
		tc.in.CreateTime, tc.in.FinishTime = lenient.String(created), lenient.String(finished)
		st, when, ok := instanceStatus(tc.in)
		if !ok || st != tc.want || !when.Equal(instanceTime(tc.at)) {
			t.Errorf("%s: status %q at %s (ok %v), want %q at %s", tc.name, st, when, ok, tc.want, tc.at)
		}
	}
	if _, _, ok := instanceStatus(instance{Status: "COMPLETED"}); ok {
		t.Error("a completed instance with no result was mapped")
	}
	// The inbound mapping's status decides when it gives a valid one; an
	// approved revoke request still revokes.
	for _, tc := range []struct {
		name   string
		in     instance
		mapped mapping.Status
		want   mapping.Status
		ok     bool
	}{
		{"mapped where the connector cannot tell", instance{Status: "COMPLETED"}, mapping.StatusApproved, mapping.StatusApproved, true},
		{"mapped over the connector", instance{Status: "RUNNING"}, mapping.StatusRejected, mapping.StatusRejected, true},
		{"an approved revoke request beats the mapping", instance{Status: "COMPLETED", Result: "agree", attached: []instance{agreeRevoke}}, mapping.StatusApproved, mapping.StatusRevoked, true},
		{"an invalid mapped status is ignored", instance{Status: "RUNNING"}, "done", mapping.StatusPending, true},
		{"neither knows", instance{Status: "SUSPENDED"}, "", "", false},
	} {
		tc.in.CreateTime, tc.in.FinishTime = lenient.String(created), lenient.String(finished)
		if st, _, ok := approvalStatus(tc.in, tc.mapped); st != tc.want || ok != tc.ok {
			t.Errorf("%s: status %q (ok %v), want %q (ok %v)", tc.name, st, ok, tc.want, tc.ok)
		}
	}
	if got := instanceTime("2022-08-31T11:52Z"); !got.Equal(time.Date(2022, 8, 31, 11, 52, 0, 0, time.UTC)) {
		t.Errorf("instanceTime = %s", got)
	}
}

// wantApprovals is what the fake's instances created in [from, to) should
// yield: event id → status, revoke requests standing for their main
// instance and not themselves.
func wantApprovals(s *dt.Server, corp string, from, to time.Time) map[string]mapping.Status {
	want := map[string]mapping.Status{}
	for _, in := range s.Company().Instances {
		if in.Created.Before(from) || !in.Created.Before(to) {
			continue
		}
		id, kind := in.ID, mapping.KindApproval
		if in.BizAction == dt.ActionRevoke {
			id = in.MainID
		}
		main, _ := s.Instance(id)
		if main.ProcessCode == dt.ProcMakeup {
			kind = mapping.KindMakeup
		}
		var st mapping.Status
		switch {
		case len(main.Attached) > 0:
			st = mapping.StatusRevoked
		case main.Status == dt.StatusRunning:
			st = mapping.StatusPending
		case main.Status == dt.StatusTerminated:
			st = mapping.StatusRevoked
		case main.Result == dt.ResultAgree:
			st = mapping.StatusApproved
		default:
			st = mapping.StatusRejected
		}
		want[ApprovalID(corp, kind, id)] = st
	}
	return want
}

func TestPullApprovals(t *testing.T) {
	c := dt.GenerateCompany(31, 60, monday, 14)
	e := newEnv(t, c, nil, func(cfg *Config) { approvalsConfig(cfg); cfg.ApprovalLookback = 7 * 24 * time.Hour })
	w := days(14)
	evs, _, st, err := e.pull(t, w)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]mapping.Event{}
	kinds := map[mapping.Kind]int{}
	for _, ev := range evs {
		if ev.Kind == mapping.KindPunch {
			continue
		}
		if err := mapping.Validate(ev); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
		got[ev.ID] = ev
		kinds[ev.Kind]++
	}
	want := wantApprovals(e.srv, c.CorpID, w.From.Add(-7*24*time.Hour), w.To)
	if len(got) != len(want) || kinds[mapping.KindApproval] == 0 || kinds[mapping.KindMakeup] == 0 {
		t.Fatalf("approval events = %d (%v), want %d of both kinds", len(got), kinds, len(want))
	}
	statuses := map[mapping.Status]int{}
	for id, status := range want {
		ev, ok := got[id]
		if !ok {
			t.Fatalf("no event %s", id)
		}
		s := eventStatus(ev)
		if s != status {
			t.Errorf("%s: status %s, want %s", id, s, status)
		}
		statuses[s]++
	}
	for _, s := range []mapping.Status{mapping.StatusPending, mapping.StatusApproved, mapping.StatusRejected, mapping.StatusRevoked} {
		if statuses[s] == 0 {
			t.Errorf("no %s approval among %v", s, statuses)
		}
	}
	if st.APICalls[apiInstanceIDs] < 5 || st.APICalls[apiInstance] < len(want) {
		t.Errorf("APICalls = %v, want the listing and one read per instance counted", st.APICalls)
	}

	// A second pull reads only the instances not yet final.
	reads := e.srv.Calls(dt.APIInstance)
	if _, _, _, err := e.pull(t, w); err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, s := range want {
		if s == mapping.StatusPending {
			running++
		}
	}
	if again := e.srv.Calls(dt.APIInstance) - reads; again != running {
		t.Errorf("second pull read %d instances, want the %d still running", again, running)
	}
}

func TestApprovalEventShapes(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, approvalsConfig)
	e.srv.AddInstances(
		dt.Instance{ID: "leave-1", ProcessCode: dt.ProcLeave, Originator: "user00001", Status: dt.StatusCompleted, Result: dt.ResultAgree,
			Created: at(-3, "10:00"), Finished: at(-2, "11:00"), Form: dt.LeaveForm(at(1, "09:00"), at(1, "18:00"), 8, "hour", "年假")},
		dt.Instance{ID: "supply-1", ProcessCode: dt.ProcMakeup, Originator: "user00002", Status: dt.StatusRunning,
			Created: at(2, "10:00"), Form: dt.MakeupForm(at(1, "18:00"), "OffDuty", "设备故障")},
	)
	evs, err := e.conn.instanceEvents(context.Background(), "leave-1", dt.ProcLeave, mapping.ViaPull)
	if err != nil || len(evs) != 1 {
		t.Fatalf("leave events = %v, %v", evs, err)
	}
	ev := evs[0]
	wantLeave := mapping.Approval{Type: "leave", LeaveType: "ANNUAL", Status: "approved", Start: at(1, "09:00"), End: at(1, "18:00"), DurationMinutes: 480, ApprovalID: "leave-1"}
	if ev.ID != "dingtalk/"+dt.DefaultCorpID+"/approval/leave-1" || ev.UserID != "user00001" || !ev.Time.Equal(at(-2, "11:00")) ||
		!approvalEqual(*ev.Approval, wantLeave) {
		t.Errorf("leave event = %+v %+v", ev, *ev.Approval)
	}
	evs, err = e.conn.instanceEvents(context.Background(), "supply-1", dt.ProcMakeup, mapping.ViaWebhook)
	if err != nil || len(evs) != 1 {
		t.Fatalf("makeup events = %v, %v", evs, err)
	}
	ev = evs[0]
	if ev.ID != "dingtalk/"+dt.DefaultCorpID+"/makeup/supply-1" || ev.Kind != mapping.KindMakeup || !ev.Time.Equal(at(1, "18:00")) ||
		*ev.Makeup != (mapping.Makeup{Direction: "out", Status: "pending", ApprovalID: "supply-1", Reason: "设备故障"}) || ev.Via != mapping.ViaWebhook {
		t.Errorf("makeup event = %+v %+v", ev, *ev.Makeup)
	}
	// Approved, then revoked: a new revision of the same id.
	if _, ok := e.srv.RevokeApproved("leave-1", at(0, "09:00"), at(0, "10:00")); !ok {
		t.Fatal("revoke failed")
	}
	evs, err = e.conn.instanceEvents(context.Background(), "leave-1-revoke", dt.ProcLeave, mapping.ViaWebhook)
	if err != nil || len(evs) != 1 || evs[0].ID != "dingtalk/"+dt.DefaultCorpID+"/approval/leave-1" || evs[0].Approval.Status != mapping.StatusRevoked {
		t.Fatalf("revoke request events = %+v, %v; want the main instance revoked", evs, err)
	}
	if mapping.Fingerprint(evs[0]) == mapping.Fingerprint(ev) {
		t.Error("the revoked revision has the approved one's fingerprint")
	}
}

func approvalEqual(a, b mapping.Approval) bool {
	return a.Type == b.Type && a.LeaveType == b.LeaveType && a.Status == b.Status && a.Start.Equal(b.Start) &&
		a.End.Equal(b.End) && a.DurationMinutes == b.DurationMinutes && a.ApprovalID == b.ApprovalID
}

func TestInstanceListingPagesAndSpans(t *testing.T) {
	e := newEnv(t, dt.Company{CorpID: dt.DefaultCorpID, Depts: []dt.Dept{{ID: dt.RootDept}}}, nil, approvalsConfig)
	var ins []dt.Instance
	for i := range 45 {
		ins = append(ins, dt.Instance{ID: "p" + string(rune('A'+i/26)) + string(rune('a'+i%26)), ProcessCode: dt.ProcLeave, Originator: "user00001",
			Status: dt.StatusRunning, Created: monday.Add(time.Duration(i) * time.Hour), Form: dt.LeaveForm(at(1, "09:00"), at(1, "18:00"), 8, "hour", "年假")})
	}
	e.srv.AddInstances(ins...)
	// 45 instances: three pages of at most 20.
	ids, err := e.conn.instanceIDs(context.Background(), dt.ProcLeave, monday.Add(-time.Hour), monday.AddDate(0, 0, 7))
	if err != nil || len(ids) != 45 {
		t.Fatalf("ids = %d, %v", len(ids), err)
	}
	if got := e.srv.Calls(dt.APIInstanceIDs); got != 3 {
		t.Errorf("calls = %d, want 3 pages", got)
	}
	// 250 days are cut into spans of at most 120 days, and the start is
	// moved within the 365 days the API serves.
	calls := e.srv.Calls(dt.APIInstanceIDs)
	now := e.clock.Now()
	if _, err := e.conn.instanceIDs(context.Background(), dt.ProcLeave, now.AddDate(0, 0, -250), now); err != nil {
		t.Fatal(err)
	}
	// Spans [−250d, −130d), [−130d, −10d) holding the 45 (3 pages),
	// [−10d, now).
	if got := e.srv.Calls(dt.APIInstanceIDs) - calls; got != 5 {
		t.Errorf("calls for 250 days = %d, want 5", got)
	}
	calls = e.srv.Calls(dt.APIInstanceIDs)
	if _, err := e.conn.instanceIDs(context.Background(), dt.ProcLeave, now.AddDate(-3, 0, 0), now.AddDate(0, 0, -200)); err != nil {
		t.Fatalf("a range older than 365 days: %v", err)
	}
	if got := e.srv.Calls(dt.APIInstanceIDs) - calls; got != 2 {
		t.Errorf("calls for a 3-year-old start = %d, want 2 (165 days within the last 365, in 2 spans)", got)
	}
}

func eventStatus(ev mapping.Event) mapping.Status {
	switch {
	case ev.Approval != nil:
		return ev.Approval.Status
	case ev.Makeup != nil:
		return ev.Makeup.Status
	}
	return ""
}
