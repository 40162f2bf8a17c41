package dingtalk

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

// TestQueueKeepsEveryJob pushes jobs of every kind, single pushed-punch
// refreshes among them (which the queue holds compactly), and checks that
// popDue hands back each one whole, when it is due and not before, that
// the next due time and the length count both forms, and that the limit
// holds across them.
func TestQueueKeepsEveryJob(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai)
	jobs := []job{
		{kind: jobPunch, users: []string{"u1"}, from: t0, due: t0.Add(time.Minute), via: mapping.ViaWebhook},
		{kind: jobPunch, users: []string{"u2"}, from: t0.Add(time.Second), due: t0.Add(3 * time.Minute), via: mapping.ViaStream, attempt: 2},
		{kind: jobPunch, users: []string{"u3"}, from: t0, due: t0.Add(2 * time.Minute), task: 7}, // a stored task: kept whole
		{kind: jobInstance, instance: "proc-1", code: "PROC-LEAVE", due: t0.Add(2 * time.Minute), via: mapping.ViaWebhook},
		{kind: jobDays, users: []string{"u1", "u2"}, from: t0, to: t0.Add(24 * time.Hour), due: t0.Add(4 * time.Minute)},
	}
	q := newQueue(len(jobs))
	if !q.push(jobs...) {
		t.Fatal("the jobs do not fit a queue of their number")
	}
	if q.push(jobs[0]) {
		t.Fatal("a full queue took one more job")
	}
	if q.Len() != len(jobs) {
		t.Fatalf("Len = %d, want %d", q.Len(), len(jobs))
	}
	same := func(a, b job) bool {
		return a.kind == b.kind && slices.Equal(a.users, b.users) && a.from.Equal(b.from) && a.to.Equal(b.to) &&
			a.instance == b.instance && a.code == b.code && a.via == b.via && a.due.Equal(b.due) && a.attempt == b.attempt && a.task == b.task
	}
	for _, tc := range []struct {
		at   time.Duration
		want []int // indexes into jobs, in any order
		next time.Duration
	}{
		{at: 0, next: time.Minute},
		{at: time.Minute, want: []int{0}, next: 2 * time.Minute},
		{at: 2*time.Minute + time.Second, want: []int{2, 3}, next: 3 * time.Minute},
		{at: 10 * time.Minute, want: []int{1, 4}},
	} {
		due, next := q.popDue(t0.Add(tc.at))
		if len(due) != len(tc.want) {
			t.Fatalf("at +%v: %d jobs due, want %d: %+v", tc.at, len(due), len(tc.want), due)
		}
		for _, i := range tc.want {
			if !slices.ContainsFunc(due, func(j job) bool { return same(j, jobs[i]) }) {
				t.Errorf("at +%v: job %d (%+v) not among the due %+v", tc.at, i, jobs[i], due)
			}
		}
		if wantNext := t0.Add(tc.next); (tc.next == 0) != next.IsZero() || (tc.next != 0 && !next.Equal(wantNext)) {
			t.Errorf("at +%v: next %v, want %v", tc.at, next, map[bool]any{true: "none", false: wantNext}[tc.next == 0])
		}
	}
	if q.Len() != 0 {
		t.Errorf("Len = %d after every job was due, want 0", q.Len())
	}
}

// BenchmarkQueuePushedPunches queues the follow-up refreshes of 100,000
// pushed punches, the burst of the ten minutes before 09:00, as the
// webhook queues them, and reports the live heap they hold (B/punch,
// after a collection) besides the time to queue them.
func BenchmarkQueuePushedPunches(b *testing.B) {
	const n = 100_000
	users := make([]string, 2000)
	for i := range users {
		users[i] = fmt.Sprintf("user%04d", i)
	}
	t0 := time.Date(2026, 11, 20, 8, 50, 0, 0, shanghai)
	var held float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		q := newQueue(n)
		for i := range n {
			at := t0.Add(time.Duration(i) * 6 * time.Millisecond)
			if !q.push(job{kind: jobPunch, users: []string{users[i%len(users)]}, from: at, due: at.Add(time.Hour), via: mapping.ViaWebhook}) {
				b.Fatal("queue full")
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(q)
	}
	b.ReportMetric(held, "B/punch")
}

// TestQueueLimitUnderConcurrentPushes pushes from many goroutines at once
// into the sharded queue: it takes exactly its limit, no more, and gives
// every job it took back once due.
func TestQueueLimitUnderConcurrentPushes(t *testing.T) {
	const limit, pushers, each = 1000, 16, 100 // 1,600 pushes for 1,000 places
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai)
	q := newQueue(limit)
	var taken atomic.Int64
	var wg sync.WaitGroup
	for g := range pushers {
		wg.Go(func() {
			for i := range each {
				j := job{kind: jobPunch, users: []string{fmt.Sprintf("u%d-%d", g, i)}, from: t0, due: t0.Add(time.Minute), via: mapping.ViaWebhook}
				if i%10 == 0 { // now and then a job that is not a lone punch
					j = job{kind: jobInstance, instance: fmt.Sprintf("proc-%d-%d", g, i), due: t0.Add(time.Minute)}
				}
				if q.push(j) {
					taken.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if taken.Load() != limit || q.Len() != limit {
		t.Fatalf("took %d jobs, Len %d; want %d each", taken.Load(), q.Len(), limit)
	}
	if due, next := q.popDue(t0); len(due) != 0 || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("before they are due: %d jobs, next %v", len(due), next)
	}
	due, next := q.popDue(t0.Add(time.Minute))
	seen := map[string]bool{}
	for _, j := range due {
		key := j.instance
		if j.kind == jobPunch {
			key = j.users[0]
		}
		if seen[key] {
			t.Fatalf("job %s popped twice", key)
		}
		seen[key] = true
	}
	if len(due) != limit || !next.IsZero() || q.Len() != 0 {
		t.Fatalf("popped %d jobs (next %v, Len %d after), want %d and an empty queue", len(due), next, q.Len(), limit)
	}
	if !q.push(job{kind: jobDays, users: []string{"u"}, from: t0, to: t0.Add(time.Hour), due: t0}) {
		t.Fatal("the emptied queue refused a job")
	}
}

// TestSeenSet checks the redelivery set: it remembers what was added,
// about the last n ids of many, and is safe for concurrent use.
func TestSeenSet(t *testing.T) {
	const n = 4096
	s := newSeenSet(n)
	if s.has("e1") {
		t.Fatal("an empty set has e1")
	}
	s.add("e1")
	s.add("e1") // a second add of the same id takes no second place
	if !s.has("e1") || s.has("e2") {
		t.Fatalf("after adding e1: has(e1) %v, has(e2) %v", s.has("e1"), s.has("e2"))
	}
	const total = 10 * n
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < total; i += 8 {
				id := fmt.Sprintf("id-%06d", i)
				s.add(id)
				// Read while others write (for the race detector). Whether
				// the id is still held is not checked: a goroutine paused
				// here can come back after its shard took a share's worth
				// of newer ids.
				s.has(id)
			}
		})
	}
	wg.Wait()
	held := 0
	for i := range total {
		if s.has(fmt.Sprintf("id-%06d", i)) {
			held++
		}
	}
	// Each shard holds its share of n, rounded up; each took far more
	// than its share of the 40,960 ids, so every shard is full.
	if want := lockShards * ((n + lockShards - 1) / lockShards); held != want {
		t.Errorf("holds %d of %d ids, want %d", held, total, want)
	}
	if s.has("e1") {
		t.Error("e1, the oldest, is still held after 40,960 newer ids")
	}
}

// TestHookStatsConcurrent counts from many goroutines at once.
func TestHookStatsConcurrent(t *testing.T) {
	h := newHookStats()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 1000 {
				h.add("accepted")
				h.add(fmt.Sprintf("event:%d", g%2))
			}
		})
	}
	wg.Wait()
	c := &Connector{hooks: h}
	want := map[string]int{"accepted": 8000, "event:0": 4000, "event:1": 4000}
	if got := c.CallbackStats(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}
