package dingtalk

import (
	"context"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// mondayIns returns each user's Monday OnDuty record.
func mondayIns(c dt.Company) []dt.Record {
	seen := map[string]bool{}
	var out []dt.Record
	for _, r := range c.Records {
		if r.CheckType == "OnDuty" && r.WorkDate.Equal(monday) && !seen[r.UserID] {
			seen[r.UserID] = true
			out = append(out, r)
		}
	}
	return out
}

func TestPushedPunchesGetTheirFullRecordInFewCalls(t *testing.T) {
	c := dt.GenerateCompany(8, 160, monday, 5)
	e := newEnv(t, c, nil, withCallback)
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	ins := mondayIns(c)
	if len(ins) < 101 {
		t.Fatalf("only %d Monday punches", len(ins))
	}
	if _, err := e.push(t, url, dt.CheckRecordEvent(c.CorpID, "e1", ins...)); err != nil {
		t.Fatal(err)
	}
	e.startWork(t, rec.emit)
	evs := rec.waitFor(t, "the full records", func(evs []mapping.Event) bool { return len(evs) >= 2*len(ins) })
	refreshCalls := e.conn.Stats().Calls[apiListRecord]

	pulled, _, _, err := e.pull(t, connectors.Window{From: monday.Add(7 * time.Hour), To: monday.Add(11 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, ev := range pulled {
		want[ev.ID] = mapping.Fingerprint(ev)
	}
	// Every pushed punch's last revision is exactly the pulled record.
	last := map[string]mapping.Event{}
	for _, ev := range evs {
		last[ev.ID] = ev
	}
	for _, r := range ins {
		id := PunchID(c.CorpID, r.UserID, r.CheckTime.UnixMilli())
		ev, ok := last[id]
		if !ok || mapping.Fingerprint(ev) != want[id] {
			t.Fatalf("%s: last revision %+v is not the pulled record", id, ev.Punch)
		}
		if ev.Punch.Direction != mapping.DirIn {
			t.Errorf("%s: direction %s after the refresh", id, ev.Punch.Direction)
		}
	}
	// One refresh for all punches due together: ceil(users/50) calls.
	if got, want := refreshCalls, (len(ins)+49)/50; got != want {
		t.Errorf("refresh listRecord calls = %d, want %d for %d users", got, want, len(ins))
	}
}

func TestPunchNotYetListedIsTriedAgain(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withCallback)
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	late := dt.Record{ID: 99000001, UserID: c.Users[0].UserID, CheckTime: monday.AddDate(0, 0, 3).Add(20*time.Hour + 123*time.Millisecond),
		CheckType: "OffDuty", TimeResult: "Normal", LocationResult: "Normal", SourceType: "ATM", DeviceSN: "AT000001"}
	if _, err := e.push(t, url, dt.CheckRecordEvent(c.CorpID, "e1", late)); err != nil {
		t.Fatal(err)
	}
	// listRecord does not have it yet: the first refresh misses it, and
	// the record appears while the retry waits.
	before := e.srv.Calls(dt.APIListRecord)
	added := false
	e.conn.client.sleep = func(ctx context.Context, d time.Duration) error {
		if !added && e.srv.Calls(dt.APIListRecord) > before {
			added = true
			e.srv.AddRecords(late)
		}
		return e.sleeps.sleep(ctx, d)
	}
	e.startWork(t, rec.emit)
	id := PunchID(c.CorpID, late.UserID, late.CheckTime.UnixMilli())
	rec.waitFor(t, "the late full record", func(evs []mapping.Event) bool {
		for _, ev := range evs {
			if ev.ID == id && ev.Punch.Direction == mapping.DirOut {
				return true
			}
		}
		return false
	})
}

func TestFollowUpsOfApprovalsAndSummaries(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, func(cfg *Config) { withCallback(cfg); approvalsConfig(cfg) })
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	in := dt.Instance{ID: "leave-9", ProcessCode: dt.ProcLeave, Originator: c.Users[1].UserID, Status: dt.StatusCompleted, Result: dt.ResultAgree,
		Created: monday.Add(-48 * time.Hour), Finished: monday.Add(-47 * time.Hour), Form: dt.LeaveForm(monday.Add(9*time.Hour), monday.Add(18*time.Hour), 8, "hour", "病假")}
	e.srv.AddInstances(in)
	if _, err := e.push(t, url, dt.InstanceChangeEvent(c.CorpID, "e1", in)); err != nil {
		t.Fatal(err)
	}
	user := c.Users[2].UserID
	if _, err := e.push(t, url, map[string]any{"EventType": "attend_user_daily_summary_refresh", "userId": user, "workDate": "2026-03-03"}); err != nil {
		t.Fatal(err)
	}
	e.startWork(t, rec.emit)
	var dayPunches int
	for _, r := range c.Records {
		if r.UserID == user && r.CheckTime.In(shanghai).Format(time.DateOnly) == "2026-03-03" {
			dayPunches++
		}
	}
	evs := rec.waitFor(t, "the approval and the day's punches", func(evs []mapping.Event) bool { return len(evs) >= 1+dayPunches })
	var approvals, punches int
	for _, ev := range evs {
		switch {
		case ev.Kind == mapping.KindApproval && ev.ID == ApprovalID(c.CorpID, mapping.KindApproval, "leave-9") && ev.Approval.LeaveType == "SICK":
			approvals++
		case ev.Kind == mapping.KindPunch && ev.UserID == user && ev.Time.In(shanghai).Format(time.DateOnly) == "2026-03-03":
			punches++
		default:
			t.Errorf("unexpected event %s", ev.ID)
		}
	}
	if approvals != 1 || punches != dayPunches || dayPunches == 0 {
		t.Errorf("approvals %d, punches %d of %d", approvals, punches, dayPunches)
	}
}
