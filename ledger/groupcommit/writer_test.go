package groupcommit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// gated is a ledger whose appends wait for the test to open a gate, so that
// the test can queue callers behind a commit in a known order, and which
// records the batches it was given.
type gated struct {
	ledger.Ledger
	batch BatchAppender
	gate  chan struct{}
	once  sync.Once
	fail  error

	mu      sync.Mutex
	batches [][][]mapping.Event
	dirty   [][]mapping.EmployeeDay
}

func (l *gated) AppendBatches(ctx context.Context, bs [][]mapping.Event) ([]ledger.AppendResult, error) {
	<-l.gate
	l.mu.Lock()
	l.batches = append(l.batches, bs)
	l.mu.Unlock()
	if l.fail != nil {
		return nil, l.fail
	}
	return l.batch.AppendBatches(ctx, bs)
}

// open lets every append through.
func (l *gated) open() { l.once.Do(func() { close(l.gate) }) }

func (l *gated) MarkDirty(ctx context.Context, days []mapping.EmployeeDay) error {
	l.mu.Lock()
	l.dirty = append(l.dirty, days)
	l.mu.Unlock()
	return l.Ledger.MarkDirty(ctx, days)
}

// plain hides every optional method of a ledger but Append's contract.
type plain struct{ ledger.Ledger }

func openSQLite(t *testing.T) *sqlite.Ledger {
	t.Helper()
	l, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newGated(t *testing.T) *gated {
	l := openSQLite(t)
	return &gated{Ledger: l, batch: l, gate: make(chan struct{})}
}

// newWriter wraps gl; the test's end opens the gate, then closes.
func newWriter(t *testing.T, gl *gated, o Options) *Ledger {
	g := New(gl, o)
	t.Cleanup(func() {
		gl.open()
		g.Close()
	})
	return g
}

var cst = time.FixedZone("CST", 8*3600)

func punch(n int, employee string) mapping.Event {
	tm := time.Date(2026, 11, 20, 8, 0, 0, 0, cst).Add(time.Duration(n) * time.Minute)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/punch/%d", n), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u1", EmployeeID: employee,
		Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaWebhook,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, PlatformResult: "normal"},
	}
}

// revised is e with new content under the same id.
func revised(e mapping.Event) mapping.Event {
	p := *e.Punch
	p.PlatformResult = "late"
	e.Punch = &p
	return e
}

// call is one caller's Append, run in its own goroutine.
type call struct {
	res  ledger.AppendResult
	err  error
	done chan struct{}
}

func appendAsync(ctx context.Context, g *Ledger, events ...mapping.Event) *call {
	c := &call{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.res, c.err = g.Append(ctx, events)
	}()
	return c
}

// waitQueued waits until n requests wait in g's queue.
func waitQueued(t *testing.T, g *Ledger, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(g.b.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(g.b.reqs), n)
		}
		runtime.Gosched()
	}
}

// waitBlocked waits until the writer has taken its first batch (and is
// held at the gate).
func waitBlocked(t *testing.T, g *Ledger) {
	t.Helper()
	waitQueued(t, g, 0)
	deadline := time.Now().Add(5 * time.Second)
	for g.b.batches.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the writer took no batch")
		}
		runtime.Gosched()
	}
}

// TestResultsAreSplitPerCaller queues callers behind a held commit, so that
// they share the next one, and checks that each gets what a sequential
// Append of its events in queue order gives on a ledger of its own.
func TestResultsAreSplitPerCaller(t *testing.T) {
	e1, e2, e3, q := punch(1, "E1"), punch(2, "E1"), punch(3, "E2"), punch(4, "")
	callers := [][]mapping.Event{
		{e1, e2},          // two new events
		{e1, e3},          // a duplicate of the first caller's, one new
		{revised(e2)},     // a revision of the first caller's
		{q},               // quarantined
		{punch(4, "E3")},  // the quarantined one again, now mapped: a remap
		{e3, revised(e2)}, // duplicates of both
	}

	// What sequential appends give.
	ref := openSQLite(t)
	defer ref.Close()
	mustAppend(t, ref, punch(0, "E0"))
	var want []ledger.AppendResult
	for _, events := range callers {
		res, err := ref.Append(t.Context(), events)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res)
	}

	gl := newGated(t)
	g := newWriter(t, gl, Options{BatchSize: 100, BatchWait: -1})
	first := appendAsync(t.Context(), g, punch(0, "E0"))
	waitBlocked(t, g)
	var calls []*call
	for i, events := range callers {
		calls = append(calls, appendAsync(t.Context(), g, events...))
		waitQueued(t, g, i+1)
	}
	gl.open()
	<-first.done
	for i, c := range calls {
		<-c.done
		if c.err != nil {
			t.Fatalf("caller %d: %v", i, c.err)
		}
		// Compared as text: a remapped event read back from the ledger
		// carries an equal but distinct time zone value.
		if summary(c.res) != summary(want[i]) {
			t.Errorf("caller %d got %+v\nwant %+v", i, summary(c.res), summary(want[i]))
		}
	}
	if len(gl.batches) != 2 || len(gl.batches[1]) != len(callers) {
		t.Errorf("the ledger got %d commits (the second of %d batches); want 2, the second holding all %d callers",
			len(gl.batches), len(gl.batches[len(gl.batches)-1]), len(callers))
	}
}

func summary(r ledger.AppendResult) string {
	ids := make([]string, len(r.Changed))
	for i, e := range r.Changed {
		b, _ := json.Marshal(e)
		ids[i] = string(b)
	}
	return fmt.Sprintf("stored %d revisions %d duplicates %d quarantined %d changed %v", r.Stored, r.Revisions, r.Duplicates, r.Quarantined, ids)
}

func mustAppend(t *testing.T, l ledger.Ledger, events ...mapping.Event) {
	t.Helper()
	if _, err := l.Append(t.Context(), events); err != nil {
		t.Fatal(err)
	}
}

// TestFailedCommitFailsEveryCaller checks that the error of a shared commit
// reaches every caller in it.
func TestFailedCommitFailsEveryCaller(t *testing.T) {
	gl := newGated(t)
	gl.fail = errors.New("disk full")
	g := newWriter(t, gl, Options{BatchWait: -1})
	var calls []*call
	calls = append(calls, appendAsync(t.Context(), g, punch(0, "E0")))
	waitBlocked(t, g)
	for i := range 5 {
		calls = append(calls, appendAsync(t.Context(), g, punch(i+1, "E1")))
		waitQueued(t, g, i+1)
	}
	gl.open()
	for i, c := range calls {
		<-c.done
		if !errors.Is(c.err, gl.fail) {
			t.Errorf("caller %d: err %v, want %v", i, c.err, gl.fail)
		}
	}
	if got, err := gl.Ledger.Employees(t.Context()); err != nil || len(got) != 0 {
		t.Errorf("employees with events %v, %v; want none stored", got, err)
	}
}

// TestBadInputIsRefusedAlone checks that an event without an id fails its
// own caller before it joins a batch.
func TestBadInputIsRefusedAlone(t *testing.T) {
	g := New(openSQLite(t), Options{})
	defer g.Close()
	bad := punch(1, "E1")
	bad.ID = ""
	if _, err := g.Append(t.Context(), []mapping.Event{punch(2, "E1"), bad}); err == nil {
		t.Error("Append of an event without an id succeeded")
	}
	if err := g.MarkDirty(t.Context(), []mapping.EmployeeDay{{Date: "2026-11-20"}}); err == nil {
		t.Error("MarkDirty of a day without an employee succeeded")
	}
	if g.Stats().Requests != 0 {
		t.Errorf("stats %+v: bad input reached the writer", g.Stats())
	}
}

// TestWithoutBatchAppender checks the fallback: one Append per caller,
// still from the one writer, with each caller's own result.
func TestWithoutBatchAppender(t *testing.T) {
	g := New(plain{openSQLite(t)}, Options{})
	defer g.Close()
	var wg sync.WaitGroup
	results := make([]ledger.AppendResult, 10)
	for i := range results {
		wg.Go(func() {
			res, err := g.Append(t.Context(), []mapping.Event{punch(i%5, "E1")})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	stored, dups := 0, 0
	for _, r := range results {
		stored, dups = stored+r.Stored, dups+r.Duplicates
	}
	if stored != 5 || dups != 5 {
		t.Errorf("stored %d, duplicates %d; want 5 and 5", stored, dups)
	}
}

// TestBatchSizeBoundsABatch queues more callers than a batch holds.
func TestBatchSizeBoundsABatch(t *testing.T) {
	gl := newGated(t)
	g := newWriter(t, gl, Options{BatchSize: 4, BatchWait: -1})
	first := appendAsync(t.Context(), g, punch(0, "E0"))
	waitBlocked(t, g)
	var calls []*call
	for i := range 9 {
		calls = append(calls, appendAsync(t.Context(), g, punch(i+1, "E1")))
		waitQueued(t, g, i+1)
	}
	gl.open()
	<-first.done
	for _, c := range calls {
		<-c.done
		if c.err != nil {
			t.Fatal(c.err)
		}
	}
	var sizes []int
	for _, b := range gl.batches {
		n := 0
		for _, events := range b {
			n += len(events)
		}
		sizes = append(sizes, n)
	}
	if want := []int{1, 4, 4, 1}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batches of %v events, want %v", sizes, want)
	}
}

// TestFullBatchDoesNotWait checks that a batch commits once it holds
// BatchSize items, however long BatchWait is.
func TestFullBatchDoesNotWait(t *testing.T) {
	g := New(openSQLite(t), Options{BatchSize: 3, BatchWait: time.Hour})
	defer g.Close()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := g.Append(t.Context(), []mapping.Event{punch(i, "E1")}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait() // hangs (and the test times out) if the batch waits the hour
	if st := g.Stats(); st.Batches != 1 || st.MaxBatch != 3 {
		t.Errorf("stats %+v, want one batch of 3", st)
	}
}

// TestNoWaitCommitsAtOnce checks that a request marked NoWait does not wait
// BatchWait for company, for its writes and for its claims alike.
func TestNoWaitCommitsAtOnce(t *testing.T) {
	g := New(openSQLite(t), Options{BatchWait: time.Hour})
	defer g.Close()
	for i := range 3 {
		// Each call hangs (and the test times out) if its batch waits.
		if _, err := g.Append(NoWait(t.Context()), []mapping.Event{punch(i, "E1")}); err != nil {
			t.Fatal(err)
		}
	}
	if st := g.Stats(); st.Batches != 3 || st.Requests != 3 {
		t.Errorf("stats %+v, want three batches of one request", st)
	}
}

// TestCancelledCallerIsLeftOut checks that a caller that gave up before its
// batch committed gets its context's error and that its events are not
// written.
func TestCancelledCallerIsLeftOut(t *testing.T) {
	gl := newGated(t)
	g := newWriter(t, gl, Options{BatchWait: -1})
	first := appendAsync(t.Context(), g, punch(0, "E0"))
	waitBlocked(t, g)
	ctx, cancel := context.WithCancel(t.Context())
	gone := appendAsync(ctx, g, punch(1, "E1"))
	waitQueued(t, g, 1)
	stays := appendAsync(t.Context(), g, punch(2, "E2"))
	waitQueued(t, g, 2)
	cancel()
	<-gone.done
	gl.open()
	<-first.done
	<-stays.done
	if !errors.Is(gone.err, context.Canceled) {
		t.Errorf("cancelled caller: err %v, want context.Canceled", gone.err)
	}
	if stays.err != nil || stays.res.Stored != 1 {
		t.Errorf("other caller: %+v, %v; want 1 stored", stays.res, stays.err)
	}
	if got, _ := gl.Ledger.Employees(t.Context()); !reflect.DeepEqual(got, []string{"E0", "E2"}) {
		t.Errorf("employees with events %v, want [E0 E2]", got)
	}
}

// TestCloseCommitsWhatIsQueued checks that Close answers every caller that
// got in before it.
func TestCloseCommitsWhatIsQueued(t *testing.T) {
	gl := newGated(t)
	g := New(gl, Options{BatchSize: 2, BatchWait: -1})
	first := appendAsync(t.Context(), g, punch(0, "E0"))
	waitBlocked(t, g)
	var calls []*call
	for i := range 5 {
		calls = append(calls, appendAsync(t.Context(), g, punch(i+1, "E1")))
		waitQueued(t, g, i+1)
	}
	closed := make(chan error, 1)
	go func() { closed <- g.Close() }()
	gl.open()
	<-first.done
	for i, c := range calls {
		<-c.done
		if c.err != nil || c.res.Stored != 1 {
			t.Errorf("caller %d: %+v, %v; want 1 stored", i, c.res, c.err)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestDirtyDaysShareOneCall checks that the days of a batch reach the
// ledger in one MarkDirty, without repeats.
func TestDirtyDaysShareOneCall(t *testing.T) {
	gl := newGated(t)
	g := newWriter(t, gl, Options{BatchWait: -1})
	first := appendAsync(t.Context(), g, punch(0, "E0"))
	waitBlocked(t, g)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			days := []mapping.EmployeeDay{{EmployeeID: "E1", Date: "2026-11-20"}, {EmployeeID: fmt.Sprintf("E%d", i), Date: "2026-11-21"}}
			if err := g.MarkDirty(t.Context(), days); err != nil {
				t.Error(err)
			}
		})
		waitQueued(t, g, i+1)
	}
	gl.open()
	<-first.done
	wg.Wait()
	if len(gl.dirty) != 1 || len(gl.dirty[0]) != 5 {
		t.Errorf("MarkDirty calls %v, want one of 5 days", gl.dirty)
	}
}
