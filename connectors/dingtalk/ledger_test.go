package dingtalk

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/reconcile"
)

// standardRules is a 09:00–18:00 shift on weekdays in Asia/Shanghai.
func standardRules() reconcile.Rules {
	return reconcile.Rules{
		Timezone: "Asia/Shanghai",
		Shifts: map[string]reconcile.Shift{"standard": {
			Start: "09:00", End: "18:00", CheckinOpensBefore: 2 * time.Hour, CheckoutClosesAfter: 4 * time.Hour,
			LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute, HalfDayBelow: 4 * time.Hour, AbsentBelow: 2 * time.Hour,
			Directions: "alternate", WorkingHours: "first_last",
		}},
		Assign: reconcile.Assign{Default: reconcile.ShiftList{"standard"}, RestDays: []string{"sat", "sun"}},
	}
}

// store is a real SQLite ledger with the ingest path in front of it, and
// the counts of everything ingested, by the way the batch arrived.
type store struct {
	ledger *sqlite.Ledger
	in     *ingest.Ingester
	engine *reconcile.Engine

	mu     sync.Mutex
	counts map[string]ingest.Counts
}

func newStore(t *testing.T, corp string, users map[string]string) *store {
	t.Helper()
	ctx := context.Background()
	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	engine, err := reconcile.Compile(standardRules())
	if err != nil {
		t.Fatal(err)
	}
	ids := mapping.NewIdentities()
	for u, emp := range users {
		ids.Set(Platform, corp, u, emp)
	}
	return &store{ledger: l, in: ingest.New(l, ids, engine, nil), engine: engine, counts: map[string]ingest.Counts{}}
}

// emit ingests a batch and counts it under its events' via.
func (s *store) emit(ctx context.Context, evs []mapping.Event) error {
	c, err := s.in.Ingest(ctx, evs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(evs[0].Via)
	all := s.counts[k]
	all.Add(c)
	s.counts[k] = all
	return nil
}

func (s *store) count(via mapping.Via) ingest.Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[string(via)]
}

// TestSamePunchByWebhookStreamAndPullIsStoredOnce delivers one punch four
// ways into a real ledger: the HTTP push, the Stream event, the full
// record the push's follow-up reads, and the nightly pull.
//
// "Stored once" means: one event id in the ledger; the push and Stream
// copies are byte-identical events (the Stream copy is a duplicate); the
// full record read after the acknowledgement is the one enriching
// revision, because the push carries no check type or verdict; and the
// pull's copy is identical to that revision, a duplicate. The day is
// computed from the last revision.
func TestSamePunchByWebhookStreamAndPullIsStoredOnce(t *testing.T) {
	r := dt.Record{ID: 43000000100, UserID: "user00001", CheckTime: monday.Add(8*time.Hour + 57*time.Minute + 3*time.Second + 250*time.Millisecond),
		BaseCheckTime: monday.Add(9 * time.Hour), WorkDate: monday, CheckType: "OnDuty", TimeResult: "Normal", LocationResult: "Normal",
		SourceType: "USER", LocationMethod: "MAP", IsLegal: "Y", HasLocation: true, Lat: 30.2855, Lng: 120.0171, Accuracy: 20,
		Address: "浙江省杭州市余杭区文一西路", DeviceID: "67da0f01"}
	c := dt.Company{CorpID: dt.DefaultCorpID, Depts: []dt.Dept{{ID: dt.RootDept}},
		Users: []dt.User{{UserID: r.UserID, JobNumber: "E1001", Depts: []int64{dt.RootDept}}}, Records: []dt.Record{r}}
	e := newEnv(t, c, nil, func(cfg *Config) { withCallback(cfg); withStream(cfg) })
	st := newStore(t, c.CorpID, map[string]string{r.UserID: "E1001"})
	e.clock.Set(monday.Add(8*time.Hour + 57*time.Minute + 10*time.Second))
	// Hold the follow-up until both pushes are in, so that the order of
	// the test is the order of the story.
	release := make(chan struct{})
	e.conn.client.sleep = func(ctx context.Context, d time.Duration) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return e.sleeps.sleep(ctx, d)
	}
	url := e.hookServer(t, st.emit)
	e.startWork(t, st.emit)
	waitConnects(t, e.srv, 1)

	if _, err := e.push(t, url, dt.CheckRecordEvent(c.CorpID, "push-1", r)); err != nil {
		t.Fatal(err)
	}
	if a := ackOf(t, e.srv, e.srv.StreamEvent("attendance_check_record", dt.CheckRecordData(c.CorpID, r))); a.Status() != "SUCCESS" {
		t.Fatalf("stream ack %+v", a)
	}
	if got := st.count(mapping.ViaWebhook); got.Stored != 1 || got.Duplicates != 0 {
		t.Errorf("webhook: %+v, want stored 1", got)
	}
	if got := st.count(mapping.ViaStream); got.Stored != 0 || got.Revisions != 0 || got.Duplicates != 1 {
		t.Errorf("stream: %+v, want a duplicate of the pushed copy", got)
	}
	close(release)
	id := PunchID(c.CorpID, r.UserID, r.CheckTime.UnixMilli())
	deadline := time.Now().Add(10 * time.Second)
	for st.in.Totals().Revisions == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the follow-up did not store the full record: %+v", st.in.Totals())
		}
		time.Sleep(time.Millisecond)
	}
	total := st.in.Totals()
	if total.Stored != 1 || total.Revisions != 1 {
		t.Errorf("after the follow-up: %+v, want 1 stored and 1 enriching revision", total)
	}
	evs, err := st.ledger.Events(context.Background(), "E1001", monday, monday.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Punch.Direction != mapping.DirIn || evs[0].Punch.PlatformResult != "normal" {
		t.Fatalf("after the follow-up the ledger holds %+v, want the full record", evs)
	}

	var pulled mapping.Event
	_, err = e.conn.Pull(context.Background(), connectors.Window{From: monday, To: monday.AddDate(0, 0, 1)}, func(ctx context.Context, evs []mapping.Event) error {
		pulled = evs[0]
		return st.emit(ctx, evs)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.count(mapping.ViaPull); got.Stored != 0 || got.Revisions != 0 || got.Duplicates != 1 {
		t.Errorf("pull: %+v, want a duplicate of the stored revision", got)
	}
	total = st.in.Totals()
	if total.Stored != 1 || total.Revisions != 1 || total.Received != total.Stored+total.Revisions+total.Duplicates {
		t.Errorf("totals %+v: want one id, one enriching revision, every other copy a duplicate", total)
	}
	evs, err = st.ledger.Events(context.Background(), "E1001", monday, monday.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ID != id || mapping.Fingerprint(evs[0]) != mapping.Fingerprint(pulled) {
		t.Fatalf("ledger holds %+v, want the pulled record under %s", evs, id)
	}
}

// TestMakeupApprovedDaysLaterCorrectsTheDay: Monday's OffDuty punch is
// missing; a 补卡 request filed on Tuesday is approved on Saturday, five
// days after the missing punch, and arrives by HTTP push. The day record
// computed before gets a new version without the missing punch.
func TestMakeupApprovedDaysLaterCorrectsTheDay(t *testing.T) {
	user := "user00001"
	in := dt.Record{ID: 43000000200, UserID: user, CheckTime: monday.Add(8*time.Hour + 55*time.Minute), BaseCheckTime: monday.Add(9 * time.Hour),
		WorkDate: monday, CheckType: "OnDuty", TimeResult: "Normal", LocationResult: "Normal", SourceType: "ATM", DeviceSN: "AT000001"}
	c := dt.Company{CorpID: dt.DefaultCorpID, Depts: []dt.Dept{{ID: dt.RootDept}},
		Users: []dt.User{{UserID: user, JobNumber: "E1001", Depts: []int64{dt.RootDept}}}, Records: []dt.Record{in}}
	e := newEnv(t, c, nil, func(cfg *Config) { withCallback(cfg); approvalsConfig(cfg) })
	st := newStore(t, c.CorpID, map[string]string{user: "E1001"})
	ctx := context.Background()
	date := monday.Format(time.DateOnly)
	key := mapping.DayKey{EmployeeID: "E1001", Date: date, Shift: "standard"}

	// recompute does what the reconcile job does for the dirty days.
	recompute := func(watermark time.Time) mapping.DayRecord {
		t.Helper()
		from, to := st.engine.EventSpan(date, date)
		evs, err := st.ledger.Events(ctx, "E1001", from, to)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := st.engine.Employee("E1001", evs, date, date, watermark)
		if err != nil || len(recs) != 1 {
			t.Fatalf("records %v, %v", recs, err)
		}
		stored, _, err := st.ledger.PutDay(ctx, recs[0])
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}

	// Tuesday 02:00: the nightly pull; Monday is final with out missing.
	e.clock.Set(monday.Add(26 * time.Hour))
	if _, err := e.conn.Pull(ctx, connectors.Window{From: monday, To: e.clock.Now()}, st.emit); err != nil {
		t.Fatal(err)
	}
	v1 := recompute(e.clock.Now())
	if v1.Version != 1 || len(v1.Missing) != 1 || v1.Missing[0] != "out" {
		t.Fatalf("Monday before the make-up: %+v, want version 1 missing out", v1)
	}
	if err := st.ledger.ClearDirty(ctx, []ledger.DirtyDay{{EmployeeDay: mapping.EmployeeDay{EmployeeID: "E1001", Date: date}}}); err != nil {
		t.Fatal(err)
	}

	// Tuesday 10:00 the request is filed; Saturday 11:00 it is approved.
	req := dt.Instance{ID: "supply-77", ProcessCode: dt.ProcMakeup, Originator: user, Status: dt.StatusRunning,
		Created: monday.Add(34 * time.Hour), Form: dt.MakeupForm(monday.Add(18*time.Hour), "OffDuty", "忘记打卡")}
	e.srv.AddInstances(req)
	approved := monday.AddDate(0, 0, 5).Add(11 * time.Hour)
	e.srv.Decide(req.ID, dt.ResultAgree, approved)
	e.clock.Set(approved.Add(time.Minute))
	url := e.hookServer(t, st.emit)
	done, _ := e.srv.Instance(req.ID)
	if _, err := e.push(t, url, dt.InstanceChangeEvent(c.CorpID, "bpms-1", done)); err != nil {
		t.Fatal(err)
	}
	e.startWork(t, st.emit)
	waitDirty(t, st, mapping.EmployeeDay{EmployeeID: "E1001", Date: date})

	v2 := recompute(e.clock.Now())
	if v2.Version != 2 || len(v2.Missing) != 0 || v2.Status != mapping.DayPresent || v2.LastOut == nil || !v2.LastOut.Equal(monday.Add(18*time.Hour)) {
		t.Fatalf("Monday after the make-up: %+v, want version 2, nothing missing, out at 18:00", v2)
	}
	hist, err := st.ledger.DayHistory(ctx, key)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history = %v, %v; want two versions", hist, err)
	}
	// Recomputing again changes nothing: the version stays.
	if v := recompute(e.clock.Now()); v.Version != 2 {
		t.Errorf("an identical recomputation gave version %d", v.Version)
	}
}

// waitDirty waits until day is dirty.
func waitDirty(t *testing.T, st *store, day mapping.EmployeeDay) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dirty, err := st.ledger.DirtyDays(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirty {
			if d == day {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("day %v never became dirty (dirty: %v)", day, dirty)
		}
		time.Sleep(time.Millisecond)
	}
}
