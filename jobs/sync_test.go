package jobs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/reconcile"
)

var cst = time.FixedZone("CST", 8*3600)

func at(date, hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+hhmm, cst)
	if err != nil {
		panic(err)
	}
	return t
}

// fakeSource serves the punches whose time lies in the pulled window, and
// fails when told to.
type fakeSource struct {
	mu     sync.Mutex
	name   string
	tenant string // default t1
	events []mapping.Event
	users  []connectors.User
	fail   error
	pulls  []connectors.Window
}

func (f *fakeSource) Name() string     { return f.name }
func (f *fakeSource) Platform() string { return "fake" }
func (f *fakeSource) Tenant() string {
	if f.tenant == "" {
		return "t1"
	}
	return f.tenant
}

func (f *fakeSource) Pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	f.mu.Lock()
	f.pulls = append(f.pulls, w)
	fail := f.fail
	var batch []mapping.Event
	for _, e := range f.events {
		if !e.Time.Before(w.From) && e.Time.Before(w.To) {
			batch = append(batch, e)
		}
	}
	f.mu.Unlock()
	if fail != nil {
		return connectors.PullStats{}, fail
	}
	if err := emit(ctx, batch); err != nil {
		return connectors.PullStats{}, err
	}
	return connectors.PullStats{Events: len(batch), APICalls: map[string]int{"list": 1}}, nil
}

func (f *fakeSource) Users(context.Context) ([]connectors.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]connectors.User(nil), f.users...), nil
}

func (f *fakeSource) add(user string, t time.Time, received time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("fake/%s/punch/%s-%d", f.Tenant(), user, t.Unix()), Kind: mapping.KindPunch,
		Platform: "fake", Connector: f.name, Tenant: f.Tenant(), UserID: user, Time: t, ReceivedAt: received, Via: mapping.ViaPull,
		Punch: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodApp},
	})
}

// fakeSink records deliveries and can fail.
type fakeSink struct {
	mu   sync.Mutex
	got  map[string]int
	fail error
}

func (s *fakeSink) Name() string { return "hr" }
func (s *fakeSink) Deliver(_ context.Context, d connectors.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.got == nil {
		s.got = map[string]int{}
	}
	s.got[d.IdempotencyKey]++
	return nil
}

func (s *fakeSink) delivered() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

type fixture struct {
	src    *fakeSource
	sink   *fakeSink
	ledger ledger.Ledger
	job    *Sync
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	engine, err := reconcile.Compile(reconcile.Rules{
		Timezone: "Asia/Shanghai",
		Shifts: map[string]reconcile.Shift{"standard": {
			Start: "09:00", End: "18:00", CheckinOpensBefore: time.Hour, CheckoutClosesAfter: time.Hour,
			LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute, HalfDayBelow: 4 * time.Hour, AbsentBelow: 2 * time.Hour,
			Directions: "alternate", WorkingHours: "first_last",
		}},
		Assign: reconcile.Assign{Default: reconcile.ShiftList{"standard"}, RestDays: []string{"sat", "sun"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := mapping.NewIdentities()
	src := &fakeSource{name: "src", users: []connectors.User{{UserID: "u1", JobNumber: "E1"}, {UserID: "u2", JobNumber: "E2"}, {UserID: "u3"}}}
	sink := &fakeSink{}
	job := &Sync{
		Name: "nightly", Sources: []connectors.Source{src}, Directories: []connectors.Directory{src},
		Sinks: []connectors.Sink{sink}, Ledger: l, Ingester: ingest.New(l, ids, engine, nil), Identities: ids,
		Engine: engine, Lookback: 72 * time.Hour, Push: PushOptions{MaxAttempts: 2, Backoff: func(int) time.Duration { return time.Minute }},
	}
	return &fixture{src: src, sink: sink, ledger: l, job: job}
}

// week gives u1, u2 and the unmapped u3 a full Wednesday to Friday.
func (f *fixture) week() {
	for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-20"} {
		for _, u := range []string{"u1", "u2", "u3"} {
			f.src.add(u, at(d, "08:55"), at(d, "08:56"))
			f.src.add(u, at(d, "18:05"), at(d, "18:06"))
		}
	}
}

func TestSyncEndToEnd(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.week()
	// u2 forgot to punch out on Thursday.
	f.src.mu.Lock()
	for i, e := range f.src.events {
		if e.UserID == "u2" && e.Time.Equal(at("2026-11-19", "18:05")) {
			f.src.events = append(f.src.events[:i], f.src.events[i+1:]...)
			break
		}
	}
	f.src.mu.Unlock()

	now := at("2026-11-21", "02:00")
	rep, err := f.job.Run(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.EventsPulled != 17 || rep.EventsStored != 17 || rep.Quarantined != 6 {
		t.Fatalf("pulled %d stored %d quarantined %d, want 17, 17, 6", rep.EventsPulled, rep.EventsStored, rep.Quarantined)
	}
	if rep.RecordsPushed != 6 || len(f.sink.delivered()) != 6 {
		t.Fatalf("pushed %d (sink saw %d), want 2 employees × 3 days", rep.RecordsPushed, len(f.sink.delivered()))
	}
	if !rep.Watermark.Equal(now) {
		t.Fatalf("watermark %v, want the checkpoint %v", rep.Watermark, now)
	}
	thu, err := f.ledger.Day(ctx, mapping.DayKey{EmployeeID: "E2", Date: "2026-11-19", Shift: "standard"})
	if err != nil {
		t.Fatal(err)
	}
	if thu.Status != mapping.DayAbsent || thu.Version != 1 {
		t.Fatalf("E2 Thursday with one punch: %s v%d, want absent v1", thu.Status, thu.Version)
	}

	// The missing punch arrives two days late, from a device that was
	// offline; the next run stores it and pushes Thursday as version 2.
	f.src.add("u2", at("2026-11-19", "18:05"), at("2026-11-21", "09:00"))
	rep, err = f.job.Run(ctx, at("2026-11-22", "02:00"))
	if err != nil {
		t.Fatal(err)
	}
	// Pushed: Thursday's correction, and Saturday's rest_day records, which
	// became final with this run.
	if rep.EventsStored != 1 || rep.RecordsPushed != 3 {
		t.Fatalf("late punch: stored %d pushed %d, want 1 and 3", rep.EventsStored, rep.RecordsPushed)
	}
	for _, key := range []string{"hr:E2:2026-11-19:standard:v2", "hr:E1:2026-11-21:standard:v1", "hr:E2:2026-11-21:standard:v1"} {
		if f.sink.delivered()[key] != 1 {
			t.Errorf("%s not delivered once: %v", key, f.sink.delivered())
		}
	}
	thu, err = f.ledger.Day(ctx, mapping.DayKey{EmployeeID: "E2", Date: "2026-11-19", Shift: "standard"})
	if err != nil {
		t.Fatal(err)
	}
	if thu.Status != mapping.DayPresent || thu.Version != 2 {
		t.Fatalf("E2 Thursday after the late punch: %s v%d, want present v2", thu.Status, thu.Version)
	}
	for k, n := range f.sink.delivered() {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}

	// HR maps u3; the next run takes its events out of quarantine and
	// pushes its days.
	f.src.mu.Lock()
	f.src.users[2].JobNumber = "E3"
	f.src.mu.Unlock()
	rep, err = f.job.Run(ctx, at("2026-11-22", "03:00"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Remapped != 6 || rep.RecordsPushed != 4 {
		t.Fatalf("after mapping u3: remapped %d pushed %d, want 6 and 3 work days + Saturday", rep.Remapped, rep.RecordsPushed)
	}
	for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-20"} {
		day, err := f.ledger.Day(ctx, mapping.DayKey{EmployeeID: "E3", Date: d, Shift: "standard"})
		if err != nil || day.Status != mapping.DayPresent {
			t.Errorf("E3 %s: %v %v, want present", d, day.Status, err)
		}
	}
}

func TestSyncSourceFailureKeepsCheckpoint(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.week()
	first := at("2026-11-21", "02:00")
	if _, err := f.job.Run(ctx, first); err != nil {
		t.Fatal(err)
	}
	f.src.fail = errors.New("platform busy")
	_, err := f.job.Run(ctx, at("2026-11-22", "02:00"))
	if err == nil || !errors.Is(err, f.src.fail) {
		t.Fatalf("Run = %v, want the source's error", err)
	}
	cp, ok, err := f.ledger.Checkpoint(ctx, "src")
	if err != nil || !ok || !cp.Equal(first) {
		t.Fatalf("checkpoint %v %v %v, want it left at %v", cp, ok, err, first)
	}
	// The next pull starts from the old checkpoint minus the look-back.
	f.src.fail = nil
	if _, err := f.job.Run(ctx, at("2026-11-23", "02:00")); err != nil {
		t.Fatal(err)
	}
	last := f.src.pulls[len(f.src.pulls)-1]
	if want := first.Add(-72 * time.Hour); !last.From.Equal(want) {
		t.Fatalf("pull after a failure starts at %v, want %v", last.From, want)
	}
}

func TestSyncDeadLetters(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		err      error
		runs     int
		wantDead int
	}{
		{"permanent failure is dead at once", fmt.Errorf("422: %w", connectors.ErrPermanent), 1, 6},
		{"transient failure is dead after MaxAttempts", errors.New("503"), 2, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.week()
			f.sink.fail = tc.err
			now := at("2026-11-21", "02:00")
			dead := 0
			for i := 0; i < tc.runs; i++ {
				rep, err := f.job.Run(ctx, now)
				if err != nil {
					t.Fatal(err)
				}
				dead += rep.DeadLettered
				now = now.Add(time.Hour) // past the one-minute backoff
			}
			if dead != tc.wantDead {
				t.Fatalf("dead-lettered %d, want %d", dead, tc.wantDead)
			}
			entries, err := f.ledger.Outbox(ctx, "hr", ledger.DeliveryDead, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != tc.wantDead || entries[0].LastError == "" {
				t.Fatalf("dead-letter queue holds %d entries (first error %q), want %d with their errors", len(entries), entries[0].LastError, tc.wantDead)
			}
		})
	}
}

// TestWatermarkPerTenant: an employee's days wait only for the sources that
// feed that employee. While the branch office's source fails, head office
// employees are still reconciled and pushed; the branch's wait.
func TestWatermarkPerTenant(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.week()
	branch := &fakeSource{name: "branch", tenant: "t2", users: []connectors.User{{UserID: "b1", JobNumber: "B1"}}}
	branch.add("b1", at("2026-11-20", "08:50"), at("2026-11-20", "08:51"))
	branch.add("b1", at("2026-11-20", "18:10"), at("2026-11-20", "18:11"))
	f.job.Sources = append(f.job.Sources, branch)
	f.job.Directories = append(f.job.Directories, branch)

	branch.fail = errors.New("branch platform down")
	if _, err := f.job.Run(ctx, at("2026-11-21", "02:00")); !errors.Is(err, branch.fail) {
		t.Fatalf("Run = %v, want the branch's error", err)
	}
	if _, err := f.ledger.Day(ctx, mapping.DayKey{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard"}); err != nil {
		t.Fatalf("head office day not reconciled while the branch fails: %v", err)
	}
	if _, err := f.ledger.Day(ctx, mapping.DayKey{EmployeeID: "B1", Date: "2026-11-20", Shift: "standard"}); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("branch day reconciled before its source was ever pulled: %v", err)
	}

	branch.fail = nil
	if _, err := f.job.Run(ctx, at("2026-11-21", "03:00")); err != nil {
		t.Fatal(err)
	}
	day, err := f.ledger.Day(ctx, mapping.DayKey{EmployeeID: "B1", Date: "2026-11-20", Shift: "standard"})
	if err != nil || day.Status != mapping.DayPresent {
		t.Fatalf("branch day after recovery: %v %v, want present", day.Status, err)
	}
}

// flushingSink counts flushes, as the csvfile sink closes periods on them.
type flushingSink struct {
	fakeSink
	flushes int
}

func (f *flushingSink) Flush(context.Context) error {
	f.flushes++
	return nil
}

// TestPushFlushesSinks: every push flushes the sinks that can be flushed,
// also when nothing was due, so that a payroll period closes on a quiet
// night.
func TestPushFlushesSinks(t *testing.T) {
	f := newFixture(t)
	fs := &flushingSink{}
	f.job.Sinks = []connectors.Sink{fs}
	ctx := context.Background()
	if _, err := f.job.PushDue(ctx, at("2026-11-21", "02:00")); err != nil {
		t.Fatal(err)
	}
	if fs.flushes != 1 {
		t.Fatalf("flushed %d times, want 1 after a push with nothing due", fs.flushes)
	}
}

// quotaSource is a fakeSource that reports its quota use.
type quotaSource struct{ *fakeSource }

func (q quotaSource) Pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	st, err := q.fakeSource.Pull(ctx, w, emit)
	st.Quota = map[string]connectors.QuotaUse{"list": {Calls: 19, Limit: 20, Window: time.Second, Elapsed: time.Second, Utilisation: 0.95}}
	return st, err
}

func TestRunReportsQuotaUse(t *testing.T) {
	f := newFixture(t)
	f.week()
	f.job.Sources = []connectors.Source{quotaSource{f.src}}
	rep, err := f.job.Run(t.Context(), at("2026-11-21", "02:00"))
	if err != nil {
		t.Fatal(err)
	}
	if q := rep.Quota["src"]["list"]; q.Calls != 19 || q.Utilisation != 0.95 {
		t.Fatalf("report's quota = %+v, want the source's use of its list API", rep.Quota)
	}
}

// slowSource takes 3 s a pull, slowDays 5 s a PutDays and slowSink 7 s a
// delivery, by a fake phase clock.
type (
	slowSource struct {
		*fakeSource
		clock *clocktest.Clock
	}
	slowDays struct {
		ledger.Ledger
		clock *clocktest.Clock
		calls int
	}
	slowSink struct {
		*fakeSink
		clock *clocktest.Clock
	}
)

func (s slowSource) Pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	s.clock.Advance(3 * time.Second)
	return s.fakeSource.Pull(ctx, w, emit)
}

func (s *slowDays) PutDays(ctx context.Context, days []ledger.PreparedDay, sinks []string) ([]bool, error) {
	s.clock.Advance(5 * time.Second)
	s.calls++
	return s.Ledger.(DayBatcher).PutDays(ctx, days, sinks)
}

func (s slowSink) Deliver(ctx context.Context, d connectors.Delivery) error {
	s.clock.Advance(7 * time.Second)
	return s.fakeSink.Deliver(ctx, d)
}

// TestRunTimesItsPhases: a run's report says how long each of its phases
// took by the job's phase clock, not by the as-of time it was given.
func TestRunTimesItsPhases(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.week()
	clock := clocktest.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	days := &slowDays{Ledger: f.ledger, clock: clock}
	f.job.PhaseClock = clock.Now
	f.job.Sources = []connectors.Source{slowSource{f.src, clock}}
	f.job.Ledger = days
	f.job.Sinks = []connectors.Sink{slowSink{f.sink, clock}}
	rep, err := f.job.Run(ctx, at("2026-11-21", "02:00"))
	if err != nil {
		t.Fatal(err)
	}
	if days.calls == 0 || rep.RecordsPushed == 0 {
		t.Fatalf("the run stored %d batches and pushed %d records; the test needs some of each", days.calls, rep.RecordsPushed)
	}
	want := map[string]int64{"identities": 0, "pull": 3000, "reconcile": 5000 * int64(days.calls), "push": 7000 * int64(rep.RecordsPushed)}
	if !reflect.DeepEqual(rep.PhaseMS, want) {
		t.Errorf("phases %v, want %v", rep.PhaseMS, want)
	}
	rep, err = f.job.PushDue(ctx, at("2026-11-21", "03:00"))
	if err != nil || !reflect.DeepEqual(rep.PhaseMS, map[string]int64{"push": 0}) {
		t.Errorf("PushDue with nothing due: phases %v, %v; want a push of 0 ms", rep.PhaseMS, err)
	}
}
