package dingtalk

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// customLeaveForm is the form of a company's own leave template: a
// drop-down 请假类型 with the company's leave names, two date fields and
// the hours, as docs/MAPPINGS.md's walkthrough shows it.
func customLeaveForm(name string, start, end time.Time, hours string) []dt.FormValue {
	return []dt.FormValue{
		{ID: "DDSelectField-K1", Name: "请假类型", Value: name, ComponentType: "DDSelectField"},
		{ID: "DDDateField-K2", Name: "开始时间", Value: start.Format("2006-01-02 15:04"), ComponentType: "DDDateField"},
		{ID: "DDDateField-K3", Name: "结束时间", Value: end.Format("2006-01-02 15:04"), ComponentType: "DDDateField"},
		{ID: "NumberField-K4", Name: "请假时长(小时)", Value: hours, ComponentType: "NumberField"},
		{ID: "TextareaField-K5", Name: "请假事由", Value: "孩子生病", ComponentType: "TextareaField"},
	}
}

// A DingTalk leave form with its own 请假类型, mapped onto HR leave codes
// by a mapping file alone: the connector's entry names testdata/leave.yaml
// (relative to the config file) as its inbound:, lists no process code
// itself, and a pull emits the approvals with the HR codes.
func TestCustomLeaveFormThroughInboundFile(t *testing.T) {
	e := newEnv(t, dt.Company{CorpID: dt.DefaultCorpID, Depts: []dt.Dept{{ID: dt.RootDept}}}, nil, nil)
	const proc = "PROC-8F2A41C7" // listed under templates.leave in leave.yaml
	e.srv.AddInstances(
		dt.Instance{ID: "custom-1", ProcessCode: proc, Originator: "user00001", Status: dt.StatusCompleted, Result: dt.ResultAgree,
			Created: at(1, "10:00"), Finished: at(1, "11:00"), Form: customLeaveForm("育儿假", at(2, "14:00"), at(2, "18:00"), "4")},
		dt.Instance{ID: "custom-2", ProcessCode: proc, Originator: "user00002", Status: dt.StatusRunning,
			Created: at(1, "12:00"), Form: customLeaveForm("年休假", at(3, "09:00"), at(3, "18:00"), "8")},
		dt.Instance{ID: "custom-3", ProcessCode: proc, Originator: "user00003", Status: dt.StatusCompleted, Result: dt.ResultRefuse,
			Created: at(1, "13:00"), Finished: at(1, "15:00"), Form: customLeaveForm("探亲假", at(4, "09:00"), at(4, "12:30"), "3.5")},
	)
	comp := component(t, fmt.Sprintf(`
name: dingtalk-hq
type: dingtalk
app_key: %s
app_secret: %s
corp_id: %s
base_url: %s
api_base_url: %s
qps: 1000
inbound: leave.yaml
`, e.srv.AppKey(), e.srv.AppSecret(), dt.DefaultCorpID, e.srv.URL(), e.srv.URL()))
	comp.File = filepath.Join("testdata", "punchbridge.yaml")
	conn, err := New(comp, connectors.Deps{Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: e.clock.Now, Tokens: e.tokens})
	if err != nil {
		t.Fatal(err)
	}
	e.conn = conn.(*Connector)
	evs, _, _, err := e.pull(t, days(7))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]mapping.Approval{
		"custom-1": {Type: "leave", LeaveType: "CCL", Status: "approved", Start: at(2, "14:00"), End: at(2, "18:00"), DurationMinutes: 240, ApprovalID: "custom-1"},
		"custom-2": {Type: "leave", LeaveType: "AL", Status: "pending", Start: at(3, "09:00"), End: at(3, "18:00"), DurationMinutes: 480, ApprovalID: "custom-2"},
		"custom-3": {Type: "leave", LeaveType: "OTHER", Status: "rejected", Start: at(4, "09:00"), End: at(4, "12:30"), DurationMinutes: 210, ApprovalID: "custom-3"},
	}
	got := 0
	for _, ev := range evs {
		if ev.Kind != mapping.KindApproval {
			continue
		}
		got++
		w, ok := want[ev.Approval.ApprovalID]
		if !ok || ev.ID != ApprovalID(dt.DefaultCorpID, mapping.KindApproval, w.ApprovalID) || !approvalEqual(*ev.Approval, w) {
			t.Errorf("event %s: %+v, want %+v", ev.ID, *ev.Approval, w)
		}
		if err := mapping.Validate(ev); err != nil {
			t.Errorf("invalid event: %v", err)
		}
	}
	if got != len(want) {
		t.Errorf("%d approval events, want %d", got, len(want))
	}
}
