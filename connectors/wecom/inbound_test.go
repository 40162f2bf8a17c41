package wecom

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/mapping"
)

// leaveApproval is an approved 请假 form with one Vacation control of the
// leave name, over the hours from begin to end.
func leaveApproval(spNo, template string, recordType int, user, leaveName string, begin, end time.Time) wt.Approval {
	return wt.Approval{
		SpNo: spNo, Name: "请假", TemplateID: template, RecordType: recordType, Status: 2, Applyer: user, Party: "1",
		ApplyTime: begin.Add(-24 * time.Hour), DecidedAt: begin.Add(-20 * time.Hour), Control: wt.ControlVacation,
		LeaveKey: "k-" + leaveName, LeaveName: leaveName, AttendanceType: 1, RangeType: "hour", Begin: begin, End: end, Duration: end.Sub(begin),
	}
}

// WeCom leave names of a company's own mapped onto HR leave codes by a
// mapping file alone: the connector's entry names testdata/leave.yaml
// (relative to the config file) as its inbound:, and a pull emits the
// approvals with the HR codes, including those of a template the file
// pins, which the record_type filter does not list.
func TestLeaveNamesThroughInboundFile(t *testing.T) {
	day := monday.AddDate(0, 0, 2)
	company := wt.Company{CorpID: wt.DefaultCorpID, Approvals: []wt.Approval{
		leaveApproval("202603010001", "3TmLeave", 1, "zhangwei", "育儿假", day.Add(14*time.Hour), day.Add(18*time.Hour)),
		leaveApproval("202603010002", "3TmLeave", 1, "lisi", "年假", day.Add(33*time.Hour), day.Add(42*time.Hour)),
		leaveApproval("202603010003", "3TmLeave", 1, "wangfang", "探亲假", day.Add(57*time.Hour), day.Add(60*time.Hour)),
		leaveApproval("202603010004", "3TmOldLeaveForm2019", 0, "zhaolei", "病假", day.Add(81*time.Hour), day.Add(90*time.Hour)),
	}}
	e := newEnv(t, company, nil, nil)
	w := connectors.Window{From: monday, To: monday.AddDate(0, 0, 7)}
	pull := func(conn *Connector) map[string]mapping.Approval {
		t.Helper()
		var c collector
		if err := conn.pullApprovals(context.Background(), w, &emitter{emit: c.emit}, e.clock.Now(), mapping.ViaPull); err != nil {
			t.Fatal(err)
		}
		out := map[string]mapping.Approval{}
		for _, ev := range c.all() {
			if err := mapping.Validate(ev); err != nil {
				t.Errorf("invalid event: %v", err)
			}
			if ev.Approval == nil || ev.ID != "wecom/"+wt.DefaultCorpID+"/approval/"+ev.Approval.ApprovalID {
				t.Errorf("event %s: %+v", ev.ID, ev)
				continue
			}
			out[ev.Approval.ApprovalID] = *ev.Approval
		}
		return out
	}

	// Built-in mapping only: WeCom's standard names get the built-in
	// codes, others pass as they are, and the old form is not listed.
	builtin := pull(e.conn)
	for spNo, code := range map[string]string{"202603010001": "育儿假", "202603010002": "ANNUAL", "202603010003": "探亲假"} {
		if builtin[spNo].LeaveType != code {
			t.Errorf("built-in: %s leave type %q, want %q", spNo, builtin[spNo].LeaveType, code)
		}
	}
	if _, ok := builtin["202603010004"]; ok || len(builtin) != 3 {
		t.Errorf("built-in: %d approvals %v, want the three of record_type 1", len(builtin), builtin)
	}

	comp := component(t, fmt.Sprintf(`
name: wecom-hq
type: wecom
corp_id: %s
checkin_secret: %s
approval_secret: %s
contacts_secret: %s
base_url: %s
retry_wait: 1ms
inbound: leave.yaml
`, wt.DefaultCorpID, wt.DefaultCheckinSecret, wt.DefaultApprovalSecret, wt.DefaultContactsSecret, e.srv.URL()))
	comp.File = filepath.Join("testdata", "punchbridge.yaml")
	conn, err := New(comp, connectors.Deps{Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: e.clock.Now, Tokens: e.tokens})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*Connector)
	c.client.sleep = e.clock.sleep
	got := pull(c)
	want := map[string]mapping.Approval{
		"202603010001": {Type: "leave", LeaveType: "CCL", Status: "approved", Start: day.Add(14 * time.Hour), End: day.Add(18 * time.Hour), DurationMinutes: 240},
		"202603010002": {Type: "leave", LeaveType: "AL", Status: "approved", Start: day.Add(33 * time.Hour), End: day.Add(42 * time.Hour), DurationMinutes: 540},
		"202603010003": {Type: "leave", LeaveType: "OTHER", Status: "approved", Start: day.Add(57 * time.Hour), End: day.Add(60 * time.Hour), DurationMinutes: 180},
		"202603010004": {Type: "leave", LeaveType: "SL", Status: "approved", Start: day.Add(81 * time.Hour), End: day.Add(90 * time.Hour), DurationMinutes: 540},
	}
	if len(got) != len(want) {
		t.Errorf("%d approvals, want %d", len(got), len(want))
	}
	for spNo, w := range want {
		g := got[spNo]
		if g.Type != w.Type || g.LeaveType != w.LeaveType || g.Status != w.Status || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) ||
			g.DurationMinutes != w.DurationMinutes {
			t.Errorf("%s: %+v, want %+v", spNo, g, w)
		}
	}
}

func TestInboundErrorsCarryTheirLine(t *testing.T) {
	entry := `
name: wecom-hq
type: wecom
corp_id: ww5823bf96d3bd56c7
checkin_secret: s1
contacts_secret: s2
`
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown transform inline", entry + `inbound:
  fields:
    leave_type:
      from: apply_data.contents.#(control=="Vacation").value.vacation.selector.options.0.key
      transforms: [capitalize]
`, []string{"punchbridge.yaml:11:", "capitalize"}},
		{"missing file", entry + `inbound: no-such-leave.yaml
`, []string{"punchbridge.yaml:7:", "inbound:", "no-such-leave.yaml"}},
		{"not a mapping", entry + `inbound: [leave.yaml]
`, []string{"punchbridge.yaml:7:", "inbound"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(component(t, tc.src), connectors.Deps{})
			if _, ok := err.(config.Errors); !ok {
				t.Fatalf("error %v (%T), want config errors", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
