package wecom

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/connectorstest"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/mapping"
)

func TestThousandUsersThirtyOneDaysCostTwentyCalls(t *testing.T) {
	// Punches only on the first day keep the test light; the calls depend
	// on the window and the users, not on the rows.
	e := newEnv(t, wt.GenerateCompany(3, 1000, monday, 1), nil, func(c *Config) { c.ApprovalSecret, c.CallbackToken, c.CallbackAESKey = "", "", "" })
	_, st, err := e.pull(t, days(31))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Calls(wt.APICheckinData); got != 20 {
		t.Errorf("getcheckindata calls = %d, want ceil(1000/100) × ceil(31/30) = 10 × 2 = 20", got)
	}
	if st.APICalls[apiCheckinData] != 20 || st.APICalls[apiHardwareData] != 20 || st.APICalls[apiUserListID] != 1 {
		t.Errorf("PullStats.APICalls = %v", st.APICalls)
	}
	if e.srv.Answers(wt.APICheckinData, wt.CodeCheckinBadParams) != 0 || e.srv.Answers(wt.APIHardwareData, wt.CodeCheckinBadParams) != 0 {
		t.Error("a request broke the 100 users / 30 days limits")
	}
	for _, n := range []struct{ users, days, want int }{{100, 30, 1}, {101, 30, 2}, {100, 31, 2}, {250, 61, 9}, {1, 1, 1}} {
		spans := secondSpans(days(n.days), maxSpan)
		groups := chunk(make([]string, n.users), maxUsersPerCall)
		if got := len(spans) * len(groups); got != n.want {
			t.Errorf("%d users × %d days: %d calls, want %d", n.users, n.days, got, n.want)
		}
	}
}

// expectedPunches lists the ids the fake's company should produce for w as
// seen at now: every visible check-in row that is not a 未打卡 marker, and
// with devices every device punch uploaded in w that has no check-in row.
func expectedPunches(c wt.Company, w connectors.Window, now time.Time, devices bool) (punches map[string]bool, markers []wt.Checkin) {
	punches = map[string]bool{}
	recorded := map[string]bool{}
	for _, r := range c.Checkins {
		from := r.VisibleFrom
		if from.IsZero() {
			from = r.Time
		}
		visible := !now.Before(from) && (r.HiddenFrom.IsZero() || now.Before(r.HiddenFrom))
		if !visible {
			continue
		}
		recorded[r.UserID+"/"+r.Time.Format(time.RFC3339)] = true
		if r.Time.Before(w.From) || !r.Time.Before(w.To) {
			continue
		}
		if r.Marker() {
			markers = append(markers, r)
			continue
		}
		punches[PunchID(c.CorpID, r.UserID, r.Time.Unix(), r.Type)] = true
	}
	for _, d := range c.Devices {
		if !devices {
			break
		}
		if d.Uploaded.Before(w.From) || d.Uploaded.After(w.To) || d.Uploaded.After(now) || recorded[d.UserID+"/"+d.Time.Format(time.RFC3339)] {
			continue
		}
		punches[PunchID(c.CorpID, d.UserID, d.Time.Unix(), typeDevice)] = true
	}
	return punches, markers
}

func TestPullEmitsEveryPunchAndNoMarker(t *testing.T) {
	company := wt.GenerateCompany(21, 150, monday, 28)
	e := newEnv(t, company, nil, nil)
	w := days(28)
	events, st, err := e.pull(t, w)
	if err != nil {
		t.Fatal(err)
	}
	want, markers := expectedPunches(e.srv.Company(), w, e.clock.Now(), true)
	if len(markers) < 50 {
		t.Fatalf("only %d 未打卡 markers in the company; the test needs them", len(markers))
	}
	got := map[string]int{}
	kinds := byKind(events)
	for _, ev := range kinds[mapping.KindPunch] {
		got[ev.ID]++
		if err := mapping.Validate(ev); err != nil {
			t.Errorf("invalid event: %v", err)
		}
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s emitted %d times", id, n)
		}
		if !want[id] {
			t.Errorf("unexpected punch %s", id)
		}
	}
	for id := range want {
		if got[id] == 0 {
			t.Errorf("punch %s lost", id)
		}
	}
	// 未打卡 rows never become punches: no punch at a marker's point.
	for _, m := range markers {
		if got[PunchID(company.CorpID, m.UserID, m.Time.Unix(), m.Type)] > 0 {
			t.Errorf("marker %s %s %s became a punch", m.UserID, m.Type, m.Time)
		}
	}
	if st.Events != len(events) {
		t.Errorf("PullStats.Events = %d, emitted %d", st.Events, len(events))
	}
	// The company has every kind of row; the events show each mapping.
	seen := map[string]bool{}
	for _, ev := range kinds[mapping.KindPunch] {
		p := ev.Punch
		seen["method:"+p.Method] = true
		seen["result:"+p.PlatformResult] = true
		if p.Datum == "gcj02" {
			seen["gcj02"] = true
		}
		if p.ScheduledAt != nil {
			seen["scheduled"] = true
		}
		if len(p.Anomalies) > 0 {
			seen["anomalies"] = true
		}
	}
	for _, k := range []string{"method:app", "method:wifi", "method:field", "method:device", "result:normal", "result:time_exception",
		"result:location_exception", "result:wifi_exception", "result:device_exception", "gcj02", "scheduled", "anomalies"} {
		if !seen[k] {
			t.Errorf("no event shows %s", k)
		}
	}
	if len(kinds[mapping.KindApproval]) == 0 || len(kinds[mapping.KindMakeup]) == 0 {
		t.Errorf("approvals %d, make-ups %d: the pull reads approvals too", len(kinds[mapping.KindApproval]), len(kinds[mapping.KindMakeup]))
	}
}

func TestAdjacentWindowsNeitherLoseNorRepeat(t *testing.T) {
	e := newEnv(t, wt.GenerateCompany(22, 40, monday, 10), nil, func(c *Config) { c.DevicePunches = pointer(false) })
	split := monday.Add(4*24*time.Hour + 9*time.Hour + 17*time.Second) // mid-morning of Friday
	whole, _, err := e.pull(t, days(10))
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := e.pull(t, connectors.Window{From: monday, To: split})
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := e.pull(t, connectors.Window{From: split, To: monday.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(evs []mapping.Event) []string {
		var out []string
		for _, e := range evs {
			if e.Kind == mapping.KindPunch {
				out = append(out, e.ID)
			}
		}
		sort.Strings(out)
		return out
	}
	a, b := ids(whole), ids(append(first, second...))
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("split pulls gave %d punches, one pull %d", len(b), len(a))
	}
}

func TestLateDeviceUploadIsCaughtByTheNextPull(t *testing.T) {
	e := newEnv(t, wt.GenerateCompany(23, 5, monday, 5), nil, nil)
	// Tuesday's 下班 punch of user00002 sat on an offline machine until
	// Friday 10:00; so did a lunchtime punch that broke a rule.
	tue := monday.AddDate(0, 0, 1)
	out := tue.Add(18*time.Hour + 5*time.Minute)
	lunch := tue.Add(12*time.Hour + 40*time.Minute)
	uploaded := monday.AddDate(0, 0, 4).Add(10 * time.Hour)
	e.srv.AddDevicePunches(
		wt.DevicePunch{UserID: "user00002", Time: out, Uploaded: uploaded, DeviceSN: "KQJ000009", DeviceName: "仓库考勤机",
			Recorded: true, Type: wt.TypeOff, Scheduled: tue.Add(18 * time.Hour)},
		wt.DevicePunch{UserID: "user00002", Time: lunch, Uploaded: uploaded, DeviceSN: "KQJ000009", DeviceName: "仓库考勤机"},
	)
	// The scheduled pull of Saturday 02:00 looks back one day.
	now := monday.AddDate(0, 0, 5).Add(2 * time.Hour)
	e.clock.Set(now)
	events, st, err := e.pull(t, connectors.Window{From: now.Add(-24 * time.Hour), To: now})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]mapping.Event{}
	for _, ev := range events {
		got[ev.ID] = ev
	}
	outID := PunchID(e.srv.CorpID(), "user00002", out.Unix(), wt.TypeOff)
	if ev, ok := got[outID]; !ok || ev.Punch.Direction != mapping.DirOut {
		t.Fatalf("the late 下班 punch %s was not emitted as its check-in row: %v", outID, ok)
	}
	if _, dup := got[PunchID(e.srv.CorpID(), "user00002", out.Unix(), typeDevice)]; dup {
		t.Error("the recorded machine punch was emitted twice: as check-in row and as device punch")
	}
	lunchID := PunchID(e.srv.CorpID(), "user00002", lunch.Unix(), typeDevice)
	if ev, ok := got[lunchID]; !ok || ev.Punch.Method != mapping.MethodDevice || ev.Punch.Anomalies[0] != "device_only" {
		t.Errorf("the device-only punch %s is missing or wrong: %+v", lunchID, ev.Punch)
	}
	// Tuesday was read again for user00002 only: its 上班 punch is there.
	tuesday := 0
	for _, ev := range events {
		if ev.Kind == mapping.KindPunch && ev.UserID == "user00002" && ev.Time.Before(tue.AddDate(0, 0, 1)) && !ev.Time.Before(tue) {
			tuesday++
		}
	}
	if tuesday < 2 || st.APICalls[apiCheckinData] != 2 {
		t.Errorf("Tuesday punches of user00002 = %d, getcheckindata calls = %d (window + backfill)", tuesday, st.APICalls[apiCheckinData])
	}
	if !strings.Contains(e.logs.String(), "device punches uploaded late") {
		t.Error("the backfill was not logged")
	}
}

func TestDeviceSpans(t *testing.T) {
	d := func(n int) time.Time { return monday.AddDate(0, 0, n) }
	spans := daySpans([]time.Time{d(40), d(0), d(3), d(29), d(30), d(3)}, maxSpan)
	// Days 30 and 40 fit in one span: fewer calls, some days read needlessly.
	want := []connectors.Window{{From: d(0), To: d(30)}, {From: d(30), To: d(41)}}
	if len(spans) != len(want) {
		t.Fatalf("spans = %v", spans)
	}
	for i := range want {
		if !spans[i].From.Equal(want[i].From) || !spans[i].To.Equal(want[i].To) {
			t.Errorf("span %d = %v, want %v", i, spans[i], want[i])
		}
	}
}

func TestDevicePunchesOffWithoutPermission(t *testing.T) {
	apps := wt.DefaultApps()
	apps[0].Perms = []wt.Perm{wt.PermCheckin} // no device punches
	e := newEnv(t, wt.GenerateCompany(24, 5, monday, 5), []wt.Option{wt.WithApps(apps...)}, nil)
	for i := 0; i < 2; i++ {
		if _, _, err := e.pull(t, days(5)); err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
	}
	if got := e.srv.Calls(wt.APIHardwareData); got != 1 {
		t.Errorf("device API calls = %d, want 1 and then no more", got)
	}
	if !strings.Contains(e.logs.String(), "device punches unavailable") {
		t.Error("not logged")
	}
	e = newEnv(t, wt.GenerateCompany(24, 5, monday, 5), nil, func(c *Config) { c.DevicePunches = pointer(false) })
	if _, _, err := e.pull(t, days(5)); err != nil || e.srv.Calls(wt.APIHardwareData) != 0 {
		t.Errorf("device_punches: false still called the device API (%v)", err)
	}
}

func TestPullConfiguredUsersOnly(t *testing.T) {
	e := newEnv(t, wt.GenerateCompany(25, 30, monday, 5), nil, func(c *Config) { c.Users = []string{"user00003", "USER00007"} })
	events, _, err := e.pull(t, days(5))
	if err != nil {
		t.Fatal(err)
	}
	if e.srv.Calls(wt.APIUserListID) != 0 {
		t.Error("the directory was listed although users are configured")
	}
	for _, ev := range events {
		if !strings.EqualFold(ev.UserID, "user00003") && !strings.EqualFold(ev.UserID, "user00007") {
			t.Errorf("event of %s", ev.UserID)
		}
	}
}

// TestPullTakesUsersInIDOrder: a pull asks for users in groups of 100 in
// id order, whatever order they are configured or listed in, so that each
// answer's punches are neighbours in the ledger's key, which leads with the
// user.
func TestPullTakesUsersInIDOrder(t *testing.T) {
	c := wt.GenerateCompany(27, 250, monday, 5)
	var reversed []string
	for _, u := range c.Users {
		reversed = append(reversed, u.UserID)
	}
	slices.Sort(reversed)
	slices.Reverse(reversed)
	e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = reversed })
	if _, err := e.conn.Pull(context.Background(), days(5), connectorstest.PunchesInUserGroups(t, reversed, maxUsersPerCall)); err != nil {
		t.Fatal(err)
	}
}

func TestPullStopsWhenEmitFails(t *testing.T) {
	e := newEnv(t, wt.GenerateCompany(26, 250, monday, 5), nil, nil)
	boom := errors.New("ledger down")
	_, err := e.conn.Pull(context.Background(), days(5), func(context.Context, []mapping.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the emit error", err)
	}
	if e.srv.Calls(wt.APIHardwareData) != 0 || e.srv.Calls(wt.APIApprovalInfo) != 0 {
		t.Error("the pull went on after emit failed")
	}
}

func TestPullRejectsAnEmptyWindow(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	if _, _, err := e.pull(t, connectors.Window{From: monday, To: monday}); err == nil {
		t.Fatal("no error for an empty window")
	}
}
