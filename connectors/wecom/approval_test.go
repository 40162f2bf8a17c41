package wecom

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/mapping"
)

func TestApprovalDetailToEvents(t *testing.T) {
	day := time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai)
	received := day.AddDate(0, 0, 2)
	info := func(status int, controls string) string {
		return `{"sp_no":"202603020001","sp_name":"请假","sp_status":` + itoa(status) + `,"template_id":"3Tka","apply_time":` +
			itoa(int(day.Add(-14*time.Hour).Unix())) + `,"applyer":{"userid":"WuJunJie","partyid":"2"},
			"sp_record":[{"sp_status":2,"approverattr":1,"details":[{"approver":{"userid":"m"},"sp_status":2,"sptime":` +
			itoa(int(day.Add(-10*time.Hour).Unix())) + `}]}],"apply_data":{"contents":[` + controls + `]}}`
	}
	vacation := `{"control":"Vacation","id":"vacation-1","value":{"vacation":{"selector":{"type":"single","options":[{"key":"3","value":[{"text":"病假","lang":"zh_CN"}]}]},
		"attendance":{"date_range":{"type":"halfday","new_begin":` + itoa(int(day.Unix())) + `,"new_end":` + itoa(int(day.Add(12*time.Hour).Unix())) + `,"new_duration":86400},"type":1}}}}`
	trip := `{"control":"Attendance","id":"attendance-1","value":{"attendance":{"date_range":{"type":"hour","new_begin":` + itoa(int(day.Add(14*time.Hour).Unix())) +
		`,"new_end":"` + itoa(int(day.Add(16*time.Hour).Unix())) + `","new_duration":7200},"type":4}}}`
	correction := `{"control":"PunchCorrection","id":"pc-1","value":{"punch_correction":{"state":"下班-未打卡","time":` + itoa(int(day.Add(18*time.Hour).Unix())) +
		`,"version":1,"daymonthyear":` + itoa(int(day.Unix())) + `}}}`
	text := `{"control":"Text","id":"t-1","value":{"text":"备注"}}`
	annual := `{"control":"Vacation","id":"vacation-2","value":{"vacation":{"selector":{"type":"single","options":[{"key":"1","value":[{"text":"年假","lang":"zh_CN"}]}]},
		"attendance":{"date_range":{"type":"day","new_begin":` + itoa(int(day.Unix())) + `,"new_end":` + itoa(int(day.AddDate(0, 0, 1).Unix())) + `,"new_duration":172800},"type":1}}}}`
	for _, tc := range []struct {
		name     string
		info     string
		want     []mapping.Event // ID, Kind, Time and the payload
		skipped  int
		leaveMap map[string]string
	}{
		{
			name: "approved sick leave over a whole day", info: info(2, vacation+","+text),
			leaveMap: map[string]string{"病假": "SICK"},
			want: []mapping.Event{{ID: "wecom/ww/approval/202603020001", Kind: mapping.KindApproval, Time: day.Add(-10 * time.Hour),
				Approval: &mapping.Approval{Type: mapping.ApprovalLeave, LeaveType: "SICK", Status: mapping.StatusApproved,
					Start: day, End: day.Add(24 * time.Hour), DurationMinutes: 1440, ApprovalID: "202603020001"}}},
		},
		{
			name: "pending out, unmapped leave names pass through", info: info(1, trip),
			want: []mapping.Event{{ID: "wecom/ww/approval/202603020001", Kind: mapping.KindApproval, Time: day.Add(-14 * time.Hour),
				Approval: &mapping.Approval{Type: mapping.ApprovalOut, Status: mapping.StatusPending,
					Start: day.Add(14 * time.Hour), End: day.Add(16 * time.Hour), DurationMinutes: 120, ApprovalID: "202603020001"}}},
		},
		{
			name: "rejected make-up", info: info(3, correction),
			want: []mapping.Event{{ID: "wecom/ww/makeup/202603020001", Kind: mapping.KindMakeup, Time: day.Add(18 * time.Hour),
				Makeup: &mapping.Makeup{Direction: mapping.DirOut, Status: mapping.StatusRejected, ApprovalID: "202603020001", Reason: "下班-未打卡"}}},
		},
		{
			name: "two controls of one kind get distinct ids", info: info(6, trip+","+trip),
			want: []mapping.Event{
				{ID: "wecom/ww/approval/202603020001", Kind: mapping.KindApproval},
				{ID: "wecom/ww/approval/202603020001-2", Kind: mapping.KindApproval},
			},
		},
		{
			name: "day range ending on a midnight covers that day; built-in leave names map",
			info: info(2, annual),
			want: []mapping.Event{{ID: "wecom/ww/approval/202603020001", Kind: mapping.KindApproval, Time: day.Add(-10 * time.Hour),
				Approval: &mapping.Approval{Type: mapping.ApprovalLeave, LeaveType: "ANNUAL", Status: mapping.StatusApproved,
					Start: day, End: day.AddDate(0, 0, 2), DurationMinutes: 2880, ApprovalID: "202603020001"}}},
		},
		{
			name: "a leave and a make-up in one form: one event each", info: info(2, text+","+vacation+","+correction),
			want: []mapping.Event{
				{ID: "wecom/ww/approval/202603020001", Kind: mapping.KindApproval, Time: day.Add(-10 * time.Hour),
					Approval: &mapping.Approval{Type: mapping.ApprovalLeave, LeaveType: "SICK", Status: mapping.StatusApproved,
						Start: day, End: day.Add(24 * time.Hour), DurationMinutes: 1440, ApprovalID: "202603020001"}},
				{ID: "wecom/ww/makeup/202603020001", Kind: mapping.KindMakeup, Time: day.Add(18 * time.Hour),
					Makeup: &mapping.Makeup{Direction: mapping.DirOut, Status: mapping.StatusApproved, ApprovalID: "202603020001", Reason: "下班-未打卡"}},
			},
		},
		{name: "not attendance", info: info(2, text)},
		{name: "unknown status", info: info(5, trip), skipped: 1},
		{name: "control without a range", info: info(2, `{"control":"Attendance","value":{"attendance":{"type":3}}}`), skipped: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a approvalInfo
			if err := json.Unmarshal([]byte(tc.info), &a); err != nil {
				t.Fatal(err)
			}
			in, err := compileInbound("wecom-hq", Config{LeaveTypes: tc.leaveMap}, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			events, skipped := a.events(in, "wecom-hq", "ww", received, mapping.ViaPull)
			if len(skipped) != tc.skipped || len(events) != len(tc.want) {
				t.Fatalf("events %d skipped %v, want %d and %d skipped", len(events), skipped, len(tc.want), tc.skipped)
			}
			for i, w := range tc.want {
				got := events[i]
				if got.ID != w.ID || got.Kind != w.Kind || got.UserID != "WuJunJie" {
					t.Errorf("event %d = %s %s %s", i, got.ID, got.Kind, got.UserID)
				}
				if err := mapping.Validate(got); err != nil {
					t.Errorf("Validate: %v", err)
				}
				if w.Approval == nil && w.Makeup == nil {
					continue
				}
				if !got.Time.Equal(w.Time) {
					t.Errorf("time = %s, want %s", got.Time, w.Time)
				}
				g, _ := json.Marshal([]any{got.Approval, got.Makeup})
				x, _ := json.Marshal([]any{w.Approval, w.Makeup})
				if string(g) != string(x) {
					t.Errorf("payload\n got %s\nwant %s", g, x)
				}
			}
		})
	}
	// Every documented status has a mapping: 1 pending, 2 approved,
	// 3 rejected, 4, 6 and 7 revoked.
	for s, want := range map[int]mapping.Status{1: "pending", 2: "approved", 3: "rejected", 4: "revoked", 6: "revoked", 7: "revoked"} {
		if statuses[int64(s)] != want {
			t.Errorf("sp_status %d → %s, want %s", s, statuses[int64(s)], want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// expectedApprovals lists the approvals of the attendance record types
// submitted in w by now, by sp_no, with their status now.
func expectedApprovals(c wt.Company, w connectors.Window, now time.Time) map[string]wt.Approval {
	out := map[string]wt.Approval{}
	for _, a := range c.Approvals {
		if a.RecordType < 1 || a.RecordType > 5 || a.ApplyTime.Before(w.From) || a.ApplyTime.After(w.To) || a.ApplyTime.After(now) {
			continue
		}
		out[a.SpNo] = a
	}
	return out
}

func TestPullApprovals(t *testing.T) {
	company := wt.GenerateCompany(41, 120, monday, 28)
	e := newEnv(t, company, nil, func(c *Config) { c.DevicePunches = pointer(false); c.ApprovalLookback = pointer(time.Duration(0)) })
	now := e.clock.Now()
	w := connectors.Window{From: monday.AddDate(0, 0, -1), To: monday.AddDate(0, 0, 28)}
	var c collector
	em := &emitter{emit: c.emit}
	if err := e.conn.pullApprovals(context.Background(), w, em, now, mapping.ViaPull); err != nil {
		t.Fatal(err)
	}
	want := expectedApprovals(company, w, now)
	got := map[string]mapping.Event{}
	kinds := map[string]int{}
	for _, ev := range c.all() {
		spNo := ev.ID[strings.LastIndexByte(ev.ID, '/')+1:]
		got[spNo] = ev
		a, ok := want[spNo]
		if !ok {
			t.Errorf("unexpected approval %s", ev.ID)
			continue
		}
		if ev.UserID != a.Applyer {
			t.Errorf("%s: user %s, want %s", spNo, ev.UserID, a.Applyer)
		}
		status := map[int]mapping.Status{1: "pending", 2: "approved", 3: "rejected", 4: "revoked", 6: "revoked", 7: "revoked"}[a.Status]
		switch {
		case ev.Approval != nil:
			kinds[ev.Approval.Type]++
			if ev.Approval.Status != status {
				t.Errorf("%s: status %s, want %s", spNo, ev.Approval.Status, status)
			}
		case ev.Makeup != nil:
			kinds["makeup"]++
			if ev.Makeup.Status != status || !ev.Time.Equal(a.CorrectionTime) {
				t.Errorf("%s: make-up %s at %s, want %s at %s", spNo, ev.Makeup.Status, ev.Time, status, a.CorrectionTime)
			}
		}
		if err := mapping.Validate(ev); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}
	for spNo := range want {
		if _, ok := got[spNo]; !ok {
			t.Errorf("approval %s lost", spNo)
		}
	}
	for _, k := range []string{mapping.ApprovalLeave, mapping.ApprovalTrip, mapping.ApprovalOut, mapping.ApprovalOvertime, "makeup"} {
		if kinds[k] == 0 {
			t.Errorf("no %s approval in %v", k, kinds)
		}
	}
	if len(c.batches) == 0 || c.batches[0] > approvalBatch {
		t.Errorf("batches = %v", c.batches)
	}
}

func TestApprovalStatusChangeIsANewRevision(t *testing.T) {
	company := wt.GenerateCompany(42, 60, monday, 10)
	e := newEnv(t, company, nil, nil)
	var pending wt.Approval
	for _, a := range company.Approvals {
		if a.RecordType == 1 && a.ApplyTime.Before(e.clock.Now()) {
			pending = a
			break
		}
	}
	if pending.SpNo == "" {
		t.Fatal("no leave in the company")
	}
	e.srv.SetApprovalStatus(pending.SpNo, 1, time.Time{}) // submitted, not decided yet
	ctx := context.Background()
	before, err := e.conn.approvalEvents(ctx, pending.SpNo, e.clock.Now(), mapping.ViaPull)
	if err != nil || len(before) != 1 {
		t.Fatalf("%v %v", before, err)
	}
	e.srv.SetApprovalStatus(pending.SpNo, 2, e.clock.Now().Add(-time.Minute))
	after, err := e.conn.approvalEvents(ctx, pending.SpNo, e.clock.Now(), mapping.ViaPull)
	if err != nil || len(after) != 1 {
		t.Fatalf("%v %v", after, err)
	}
	if before[0].ID != after[0].ID || before[0].ID != "wecom/"+company.CorpID+"/approval/"+pending.SpNo {
		t.Fatalf("ids %s %s, want the sp_no", before[0].ID, after[0].ID)
	}
	if mapping.Fingerprint(before[0]) == mapping.Fingerprint(after[0]) || after[0].Approval.Status != mapping.StatusApproved {
		t.Fatal("the status change is not a new revision")
	}
	again, _ := e.conn.approvalEvents(ctx, pending.SpNo, e.clock.Now().Add(time.Hour), mapping.ViaWebhook)
	if mapping.Fingerprint(again[0]) != mapping.Fingerprint(after[0]) {
		t.Fatal("reading the same status again (by webhook) is not a duplicate")
	}
}

func TestTooWideApprovalRangeIsHalved(t *testing.T) {
	company := wt.GenerateCompany(43, 80, monday, 14)
	e := newEnv(t, company, []wt.Option{wt.WithApprovalRangeCap(15)}, nil)
	now := e.clock.Now()
	w := connectors.Window{From: monday.AddDate(0, 0, -1), To: monday.AddDate(0, 0, 14)}
	var c collector
	if err := e.conn.pullApprovals(context.Background(), w, &emitter{emit: c.emit}, now, mapping.ViaPull); err != nil {
		t.Fatal(err)
	}
	want := expectedApprovals(company, w, now)
	if len(want) <= 15 {
		t.Fatalf("only %d approvals; the test needs more than the cap", len(want))
	}
	ids := map[string]bool{}
	for _, ev := range c.all() {
		ids[ev.ID[strings.LastIndexByte(ev.ID, '/')+1:]] = true
	}
	if len(ids) != len(want) || e.srv.Answers(wt.APIApprovalInfo, wt.CodeNarrowRange) == 0 {
		t.Fatalf("approvals %d of %d, 301112 answers %d", len(ids), len(want), e.srv.Answers(wt.APIApprovalInfo, wt.CodeNarrowRange))
	}
}

func TestApprovalTemplatesFilter(t *testing.T) {
	company := wt.GenerateCompany(44, 80, monday, 10)
	var leaveTemplate string
	for _, a := range company.Approvals {
		if a.RecordType == 1 {
			leaveTemplate = a.TemplateID
		}
	}
	e := newEnv(t, company, nil, func(c *Config) { c.ApprovalTemplates = []string{leaveTemplate} })
	var c collector
	w := connectors.Window{From: monday.AddDate(0, 0, -1), To: monday.AddDate(0, 0, 10)}
	if err := e.conn.pullApprovals(context.Background(), w, &emitter{emit: c.emit}, e.clock.Now(), mapping.ViaPull); err != nil {
		t.Fatal(err)
	}
	if len(c.all()) == 0 {
		t.Fatal("no leave approvals")
	}
	for _, ev := range c.all() {
		if ev.Approval == nil || ev.Approval.Type != mapping.ApprovalLeave {
			t.Errorf("%s passed the template filter", ev.ID)
		}
	}
}
