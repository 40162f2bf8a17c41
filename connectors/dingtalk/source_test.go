package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/connectorstest"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// wantIDs is the event id of every record of c inside w.
func wantIDs(c dt.Company, w connectors.Window) []string {
	var ids []string
	for _, r := range c.Records {
		if !r.CheckTime.Before(w.From) && r.CheckTime.Before(w.To) {
			ids = append(ids, PunchID(c.CorpID, r.UserID, r.CheckTime.UnixMilli()))
		}
	}
	sort.Strings(ids)
	return ids
}

func eventIDs(evs []mapping.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	sort.Strings(ids)
	return ids
}

func sameIDs(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

func TestPullChunking(t *testing.T) {
	for _, tc := range []struct {
		users, days int
		wantCalls   int
	}{
		{120, 10, 3 * 2},
		{50, 7, 1},
		{51, 8, 2 * 2},
		{1000, 31, 20 * 5},
	} {
		t.Run(fmt.Sprintf("%d users × %d days", tc.users, tc.days), func(t *testing.T) {
			c := dt.GenerateCompany(int64(tc.users), tc.users, monday, tc.days)
			e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = userIDs(c) })
			w := days(tc.days)
			evs, batches, st, err := e.pull(t, w)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.srv.Calls(dt.APIListRecord); got != tc.wantCalls {
				t.Errorf("listRecord calls = %d, want %d", got, tc.wantCalls)
			}
			if got := st.APICalls[apiListRecord]; got != tc.wantCalls {
				t.Errorf("PullStats.APICalls = %v, want %d listRecord", st.APICalls, tc.wantCalls)
			}
			if len(batches) > tc.wantCalls {
				t.Errorf("%d batches for %d calls", len(batches), tc.wantCalls)
			}
			if st.Events != len(evs) {
				t.Errorf("PullStats.Events = %d, emitted %d", st.Events, len(evs))
			}
			sameIDs(t, eventIDs(evs), wantIDs(c, w))
		})
	}
}

func TestPullUsesTheDirectoryByDefault(t *testing.T) {
	c := dt.GenerateCompany(4, 60, monday, 7)
	e := newEnv(t, c, nil, nil)
	evs, _, st, err := e.pull(t, days(7))
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, eventIDs(evs), wantIDs(c, days(7)))
	if st.APICalls[apiListRecord] != 2 || st.APICalls[apiUserList] == 0 || st.APICalls[apiListSubDept] != len(c.Depts) {
		t.Errorf("APICalls = %v, want 2 listRecord, one listsubid per department (%d), user/list", st.APICalls, len(c.Depts))
	}
}

// TestPullTakesUsersInIDOrder: the directory lists users department by
// department, and a pull asks for them in groups of 50 in id order, both
// from the directory and from a configured list, so that each answer's
// events are neighbours in the ledger's key, which leads with the user.
func TestPullTakesUsersInIDOrder(t *testing.T) {
	c := dt.GenerateCompany(9, 160, monday, 7)
	reversed := userIDs(c)
	slices.Sort(reversed)
	slices.Reverse(reversed)
	for name, edit := range map[string]func(*Config){
		"directory":       nil,
		"configured list": func(cfg *Config) { cfg.Users = reversed },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, c, nil, edit)
			if _, err := e.conn.Pull(context.Background(), days(7), connectorstest.PunchesInUserGroups(t, reversed, maxUsersPerCall)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPullHonoursTheTimeOfDay(t *testing.T) {
	c := dt.Company{CorpID: "dingx", Depts: []dt.Dept{{ID: 1}}, Users: []dt.User{{UserID: "u1", Depts: []int64{1}}}}
	at := func(day int, clock string) time.Time {
		t, err := time.ParseInLocation("15:04:05.000", clock, shanghai)
		if err != nil {
			panic(err)
		}
		return monday.AddDate(0, 0, day).Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
			time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()))
	}
	times := []time.Time{
		at(0, "09:00:00.000"), at(0, "09:59:59.999"), at(0, "10:00:00.000"), at(0, "18:00:00.000"),
		at(7, "09:59:59.999"), at(7, "10:00:00.000"), at(7, "10:00:00.500"), at(8, "09:00:00.000"),
	}
	for i, ts := range times {
		c.Records = append(c.Records, dt.Record{ID: int64(100 + i), UserID: "u1", CheckTime: ts, CheckType: "OnDuty", SourceType: "ATM"})
	}
	e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = []string{"u1"} })
	// 7 days and half a second: the window from 10:00 misses the 09:00
	// punch, and the punch at its exact end belongs to the next window.
	w := connectors.Window{From: at(0, "10:00:00.000"), To: at(7, "10:00:00.500")}
	evs, _, _, err := e.pull(t, w)
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, eventIDs(evs), wantIDs(c, w))
	if len(evs) != 4 {
		t.Errorf("events = %v, want 10:00 and 18:00 of day 0, 09:59:59.999 and 10:00:00 of day 7", eventIDs(evs))
	}
}

func TestPullServesDuplicatesAndLateRecords(t *testing.T) {
	c := dt.GenerateCompany(9, 30, monday, 7)
	e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = userIDs(c) })
	dup := e.srv.Duplicate(5)
	evs, _, _, err := e.pull(t, days(7))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(c.Records) + dup; len(evs) != want {
		t.Errorf("events = %d, want %d (%d records, %d twice)", len(evs), want, len(c.Records), dup)
	}
	late := dt.Record{UserID: c.Users[0].UserID, CheckTime: monday.Add(2*24*time.Hour + 21*time.Hour), CheckType: "OffDuty", SourceType: "ATM"}
	e.srv.AddRecords(late)
	evs, _, _, err = e.pull(t, days(7))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		found = found || ev.ID == PunchID(c.CorpID, late.UserID, late.CheckTime.UnixMilli())
	}
	if !found {
		t.Error("the late record was not pulled")
	}
}

func TestPullEventsAreValid(t *testing.T) {
	c := dt.GenerateCompany(21, 40, monday, 14, dt.WithUnmappedUsers(1))
	e := newEnv(t, c, nil, nil)
	evs, _, _, err := e.pull(t, days(14))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]dt.Record{}
	for _, r := range c.Records {
		byID[PunchID(c.CorpID, r.UserID, r.CheckTime.UnixMilli())] = r
	}
	invalid := 0
	for _, ev := range evs {
		if err := mapping.Validate(ev); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
		r := byID[ev.ID]
		if !ev.Time.Equal(r.CheckTime) || ev.Time.Format("-07:00") != "+08:00" {
			t.Errorf("%s: time %s, want %s in +08:00", ev.ID, ev.Time, r.CheckTime)
		}
		if ev.Connector != "dingtalk-test" || ev.Tenant != c.CorpID || ev.Via != mapping.ViaPull || !ev.ReceivedAt.Equal(e.clock.Now()) {
			t.Errorf("%s: envelope %+v", ev.ID, ev)
		}
		// Records with odd ids arrive with their numbers as strings.
		if r.HasLocation && (ev.Punch.Lat == nil || *ev.Punch.Lat != r.Lat || *ev.Punch.Lng != r.Lng || *ev.Punch.AccuracyM != r.Accuracy) {
			t.Errorf("%s (id %d): location %v,%v, want %v,%v", ev.ID, r.ID, ev.Punch.Lat, ev.Punch.Lng, r.Lat, r.Lng)
		}
		if !r.BaseCheckTime.IsZero() && (ev.Punch.ScheduledAt == nil || !ev.Punch.ScheduledAt.Equal(r.BaseCheckTime)) {
			t.Errorf("%s: scheduled_at %v, want %s", ev.ID, ev.Punch.ScheduledAt, r.BaseCheckTime)
		}
		if r.InvalidRecordType != "" {
			invalid++
			if !contains(ev.Punch.Anomalies, "invalid_record:"+lower(r.InvalidRecordType)) {
				t.Errorf("%s: anomalies %v lack the invalid flag", ev.ID, ev.Punch.Anomalies)
			}
		}
	}
	if invalid == 0 {
		t.Error("the company has no invalid record to check")
	}
}

// TestPullStoresAnswersAtOnce checks that a pull hands the next answer to
// emit while an earlier one is still being stored, so that the ledger's
// writer has the next batch waiting: the first emit waits until
// pullStores are under way, which a pull storing one answer after
// another never reaches.
func TestPullStoresAnswersAtOnce(t *testing.T) {
	c := dt.GenerateCompany(2, 500, monday, 7) // 10 answers, each with punches
	e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = userIDs(c) })
	var (
		mu      sync.Mutex
		storing int
		most    int
		events  int
	)
	all := make(chan struct{})
	var opened sync.Once
	_, err := e.conn.Pull(context.Background(), days(7), func(_ context.Context, evs []mapping.Event) error {
		mu.Lock()
		storing++
		most = max(most, storing)
		events += len(evs)
		if storing == pullStores {
			opened.Do(func() { close(all) })
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			return errors.New("no other answer was stored meanwhile")
		}
		mu.Lock()
		storing--
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if most != pullStores {
		t.Errorf("at most %d answers stored at once, want %d", most, pullStores)
	}
	if want := len(wantIDs(c, days(7))); events != want {
		t.Errorf("stored %d events, want %d", events, want)
	}
}

func TestPullStopsWhenEmitFails(t *testing.T) {
	c := dt.GenerateCompany(2, 500, monday, 7)
	boom := errors.New("ledger down")
	for _, tc := range []struct {
		concurrency int
		maxCalls    int
	}{
		// A worker fetches the next answer while the previous one is
		// emitted, so at most one call beyond those in flight is made.
		{1, 2},
		{4, 5},
	} {
		e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = userIDs(c); cfg.Concurrency = tc.concurrency })
		_, err := e.conn.Pull(context.Background(), days(7), func(context.Context, []mapping.Event) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the emit error", err)
		}
		if got := e.srv.Calls(dt.APIListRecord); got > tc.maxCalls {
			t.Errorf("concurrency %d: listRecord calls = %d of 10, want at most %d", tc.concurrency, got, tc.maxCalls)
		}
	}
}

func TestPullRejectsAnEmptyWindow(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	_, _, _, err := e.pull(t, connectors.Window{From: monday, To: monday})
	if err == nil {
		t.Fatal("an empty window was accepted")
	}
}

func TestSplitWindow(t *testing.T) {
	w := connectors.Window{From: monday.Add(10 * time.Hour), To: monday.Add(15*24*time.Hour + 3*time.Hour)}
	spans := splitWindow(w, maxSpan)
	if len(spans) != 3 {
		t.Fatalf("spans = %d, want 3", len(spans))
	}
	if !spans[0].From.Equal(w.From) || !spans[2].To.Equal(w.To) {
		t.Errorf("spans do not start and end at the window's exact times: %v", spans)
	}
	for i := 1; i < len(spans); i++ {
		if !spans[i].From.Equal(spans[i-1].To) {
			t.Errorf("gap or overlap between span %d and %d", i-1, i)
		}
	}
	if got := len(chunk(make([]string, 101), 50)); got != 3 {
		t.Errorf("chunk(101, 50) = %d groups, want 3", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestPullAt20QPS pulls 1,000 users × 31 days from the fake limited to 20
// calls per second per API, with the connector's default limit of 20 QPS
// and real waits: exactly 20 × 5 = 100 listRecord calls, no record lost,
// in at most 1.25 × the 5 s that 100 calls need at 20 QPS. It is the one
// test that measures wall time, because a rate limit is about wall time;
// under the race detector, which slows the decoding several times over,
// the time is logged and the calls and records are still checked.
func TestPullAt20QPS(t *testing.T) {
	if testing.Short() {
		t.Skip("waits about 5 s for the rate limit")
	}
	c := dt.GenerateCompany(1000, 1000, monday, 31)
	e := newEnv(t, c, []dt.Option{dt.WithQPS(20)}, func(cfg *Config) {
		cfg.Users = userIDs(c)
		cfg.QPS = DefaultQPS
		cfg.RetryWait = DefaultRetryWait
	})
	e.conn.client.sleep = sleepCtx
	if _, err := e.conn.client.token(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	evs, _, st, err := e.pull(t, days(31))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// Exactly 100 calls answered; a call the fake refused for QPS (arrival
	// jitter on a loaded host) is waited out and made again, and shows
	// in the count of attempts.
	codes := e.conn.Stats().Codes[apiListRecord]
	if codes["0"] != 100 || st.APICalls[apiListRecord] != 100+codes["90018"] {
		t.Errorf("listRecord answered %d, attempts %d (%v), want 100 answered", codes["0"], st.APICalls[apiListRecord], codes)
	}
	sameIDs(t, eventIDs(evs), wantIDs(c, days(31)))
	if budget := time.Duration(1.25 * float64(100*time.Second/20)); elapsed > budget && !raceEnabled {
		t.Errorf("pull took %s, want at most %s", elapsed, budget)
	}
	if codes["90018"] > 0 {
		t.Logf("%d calls were refused for QPS and retried", codes["90018"])
	}
	t.Logf("100 calls in %s", elapsed)
}

// TestPullReportsProgress: a pull reports each answered listRecord call of
// its plan to the caller's progress bar, ending at done == total.
func TestPullReportsProgress(t *testing.T) {
	c := dt.GenerateCompany(1, 120, monday, 10)
	e := newEnv(t, c, nil, func(cfg *Config) { cfg.Users = userIDs(c) })
	var got [][2]int
	var mu sync.Mutex
	ctx := connectors.WithProgress(context.Background(), func(done, total int) {
		mu.Lock()
		got = append(got, [2]int{done, total})
		mu.Unlock()
	})
	if _, err := e.conn.Pull(ctx, connectors.Window{From: monday, To: monday.AddDate(0, 0, 10)}, func(context.Context, []mapping.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || got[5] != [2]int{6, 6} {
		t.Fatalf("progress %v, want 6 reports ending at 6/6 (3 user groups × 2 spans)", got)
	}
}
