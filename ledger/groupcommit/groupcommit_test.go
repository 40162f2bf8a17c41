package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/groupcommit"
	"github.com/punchbridge/punchbridge/ledger/ledgertest"
	"github.com/punchbridge/punchbridge/ledger/postgres"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// Both ledgers commit several callers' appends in one transaction.
var (
	_ groupcommit.BatchAppender = (*sqlite.Ledger)(nil)
	_ groupcommit.BatchAppender = (*postgres.Ledger)(nil)
)

func openSQLite(t testing.TB) *sqlite.Ledger {
	t.Helper()
	l, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestConformance runs the shared ledger suite over the wrapper: whatever
// the batching does, the ledger must behave as the contract says.
func TestConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
		return groupcommit.New(openSQLite(t), groupcommit.Options{BatchWait: time.Millisecond})
	})
}

var cst = time.FixedZone("CST", 8*3600)

// punch returns the nth punch of employee E<n%7>, or a quarantined one
// when employee is false.
func punch(n int, mapped bool) mapping.Event {
	tm := time.Date(2026, 11, 20, 8, 0, 0, 0, cst).Add(time.Duration(n) * time.Second)
	e := mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/punch/%d", n), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: fmt.Sprintf("u%d", n%7),
		Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaWebhook,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, PlatformResult: "normal"},
	}
	if mapped {
		e.EmployeeID = fmt.Sprintf("E%d", n%7)
	}
	return e
}

// TestConcurrentCallersStoreEachEventOnce races callers whose batches
// overlap: every event must be stored once, and the callers' results must
// add up to exactly that.
func TestConcurrentCallersStoreEachEventOnce(t *testing.T) {
	g := groupcommit.New(openSQLite(t), groupcommit.Options{BatchSize: 16, BatchWait: time.Millisecond})
	defer g.Close()
	const callers, distinct = 40, 60
	results := make([]ledger.AppendResult, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			// Each caller sends three events, the next caller two of
			// the same: duplicates across callers and batches.
			var events []mapping.Event
			for k := range 3 {
				events = append(events, punch((c*2+k)%distinct, true))
			}
			results[c], errs[c] = g.Append(t.Context(), events)
		})
	}
	wg.Wait()
	stored, dups, changed := 0, 0, 0
	for c := range callers {
		if errs[c] != nil {
			t.Fatalf("caller %d: %v", c, errs[c])
		}
		stored += results[c].Stored
		dups += results[c].Duplicates
		changed += len(results[c].Changed)
	}
	// Callers 0..39 send events 0..80 mod 60: ids 0..60 are distinct.
	seen := map[int]bool{}
	for c := range callers {
		for k := range 3 {
			seen[(c*2+k)%distinct] = true
		}
	}
	if stored != len(seen) || changed != len(seen) || stored+dups != callers*3 {
		t.Errorf("stored %d, changed %d, duplicates %d; want %d stored and changed, %d in all", stored, changed, dups, len(seen), callers*3)
	}
	n := 0
	for e := range 7 {
		got, err := g.Events(t.Context(), fmt.Sprintf("E%d", e), time.Date(2026, 11, 20, 0, 0, 0, 0, cst), time.Date(2026, 11, 21, 0, 0, 0, 0, cst))
		if err != nil {
			t.Fatal(err)
		}
		n += len(got)
	}
	if n != len(seen) {
		t.Errorf("the ledger holds %d events, want %d", n, len(seen))
	}
	if st := g.Stats(); st.Requests != callers || st.Batches > st.Requests || st.MaxBatch > 16 {
		t.Errorf("stats %+v: want %d requests in at most as many batches of at most 16 items", st, callers)
	}
}

// TestObserveSeesEveryCommit checks that Options.Observe is told about
// each batch, with the requests and items the writer's stats count, and
// that a batch waiting for company shows that wait.
func TestObserveSeesEveryCommit(t *testing.T) {
	var (
		mu      sync.Mutex
		commits []groupcommit.Commit
	)
	const wait = 20 * time.Millisecond
	g := groupcommit.New(openSQLite(t), groupcommit.Options{BatchSize: 8, BatchWait: wait, Observe: func(c groupcommit.Commit) {
		mu.Lock()
		defer mu.Unlock()
		commits = append(commits, c)
	}})
	defer g.Close()
	// A lone caller's batch waits BatchWait for company, then commits.
	if _, err := g.Append(t.Context(), []mapping.Event{punch(0, true), punch(1, true)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for c := range 12 {
		wg.Go(func() {
			if _, err := g.Append(t.Context(), []mapping.Event{punch(10+c*3, true), punch(11+c*3, true), punch(12+c*3, true)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Observe runs after a commit has answered its callers, so the last
	// commit's call may still be on its way.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := int64(len(commits))
		mu.Unlock()
		if n >= g.Stats().Batches || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(commits) == 0 {
		t.Fatal("Observe was never called")
	}
	if first := commits[0]; first.Requests != 1 || first.Items != 2 || first.Waited < wait || first.Took <= 0 {
		t.Errorf("first commit %+v: want 1 request of 2 items that waited at least %v", first, wait)
	}
	var requests, items int
	for _, c := range commits {
		if c.Items > 8 || c.Requests < 1 || c.Took <= 0 || c.Waited < 0 {
			t.Errorf("commit %+v: want 1 or more requests, at most 8 items and positive durations", c)
		}
		requests += c.Requests
		items += c.Items
	}
	st := g.Stats()
	if int64(len(commits)) != st.Batches || int64(requests) != st.Requests || int64(items) != st.Items || items != 2+12*3 {
		t.Errorf("observed %d commits, %d requests, %d items; stats %+v; want %d items", len(commits), requests, items, st, 2+12*3)
	}
}

// TestDirtyDaysAreMarked checks that coalesced MarkDirty calls from many
// callers mark every day, once each.
func TestDirtyDaysAreMarked(t *testing.T) {
	g := groupcommit.New(openSQLite(t), groupcommit.Options{})
	defer g.Close()
	var wg sync.WaitGroup
	for c := range 20 {
		wg.Go(func() {
			days := []mapping.EmployeeDay{{EmployeeID: fmt.Sprintf("E%d", c%5), Date: "2026-11-20"}, {EmployeeID: "E0", Date: "2026-11-21"}}
			if err := g.MarkDirty(t.Context(), days); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := g.DirtyDays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Errorf("dirty days %v, want E0..E4 on 2026-11-20 and E0 on 2026-11-21", got)
	}
}

// TestRawPayloadsAreKept checks the coalesced StoreRaw.
func TestRawPayloadsAreKept(t *testing.T) {
	g := groupcommit.New(openSQLite(t), groupcommit.Options{})
	defer g.Close()
	// A payload belongs to a stored revision, so the events come first.
	events := make([]mapping.Event, 4)
	for c := range events {
		events[c] = punch(c, true)
	}
	if _, err := g.Append(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for c := range 10 {
		wg.Go(func() {
			e := events[c%4]
			p := ledger.RawPayload{EventID: e.ID, Fingerprint: mapping.Fingerprint(e), Connector: "hq",
				ReceivedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Body: []byte(`{"n":1}`)}
			if err := g.StoreRaw(t.Context(), []ledger.RawPayload{p}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for c := range 4 {
		got, err := g.RawFor(t.Context(), events[c].ID)
		if err != nil || len(got) != 1 {
			t.Errorf("RawFor(%d) = %d payloads, %v; want 1", c, len(got), err)
		}
	}
}

// TestClosedLedgerRefusesWrites checks ErrClosed.
func TestClosedLedgerRefusesWrites(t *testing.T) {
	g := groupcommit.New(openSQLite(t), groupcommit.Options{})
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Append(t.Context(), []mapping.Event{punch(1, true)}); err != groupcommit.ErrClosed {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
}

// onlyLedger hides the wrapped ledger's batch methods, so that the wrapper
// takes its fallback path.
type onlyLedger struct{ ledger.Ledger }

func (o onlyLedger) StoreRaw(ctx context.Context, ps []ledger.RawPayload) error {
	return o.Ledger.(ledger.RawStore).StoreRaw(ctx, ps)
}

func (o onlyLedger) RawFor(ctx context.Context, id string) ([]ledger.RawPayload, error) {
	return o.Ledger.(ledger.RawStore).RawFor(ctx, id)
}

func (o onlyLedger) PurgeRaw(ctx context.Context, cutoff time.Time) (int, error) {
	return o.Ledger.(ledger.RawStore).PurgeRaw(ctx, cutoff)
}

// TestIngestBatchWritesAllThree checks that concurrent IngestBatch calls
// store each caller's events, raw payloads and dirty days, in one
// transaction with an IngestBatcher and one after another without.
func TestIngestBatchWritesAllThree(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(l ledger.Ledger) ledger.Ledger
	}{
		{"ingest batcher", func(l ledger.Ledger) ledger.Ledger { return l }},
		{"fallback", func(l ledger.Ledger) ledger.Ledger { return onlyLedger{l} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := groupcommit.New(tc.wrap(openSQLite(t)), groupcommit.Options{})
			defer g.Close()
			const callers = 12
			var wg sync.WaitGroup
			for c := range callers {
				wg.Go(func() {
					e := punch(c, c%3 != 0) // every third one unmapped: no dirty day
					e.Raw = []byte(fmt.Sprintf(`{"id":%d}`, c))
					ps, err := ledger.PrepareEvents([]mapping.Event{e}, nil)
					if err != nil {
						t.Error(err)
						return
					}
					b := ledger.IngestBatch{Events: ps,
						Raw: []ledger.RawPayload{{EventID: e.ID, Fingerprint: ps[0].Fingerprint, Connector: e.Connector, ReceivedAt: e.ReceivedAt, Body: e.Raw}},
						Dirty: func(changed []mapping.Event) []mapping.EmployeeDay {
							var days []mapping.EmployeeDay
							for _, ch := range changed {
								days = append(days, mapping.EmployeeDay{EmployeeID: ch.EmployeeID, Date: ch.Time.In(cst).Format(time.DateOnly)})
							}
							return days
						}}
					res, err := g.IngestBatch(t.Context(), b)
					if err != nil || res.Stored != 1 {
						t.Errorf("caller %d: %+v, %v; want 1 stored", c, res, err)
					}
				})
			}
			wg.Wait()
			for c := range callers {
				e := punch(c, false)
				if got, err := g.RawFor(t.Context(), e.ID); err != nil || len(got) != 1 {
					t.Errorf("RawFor(%s) = %d payloads, %v; want 1", e.ID, len(got), err)
				}
			}
			dirty, err := g.DirtyDays(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := map[mapping.EmployeeDay]bool{}
			for c := range callers {
				if c%3 != 0 {
					want[mapping.EmployeeDay{EmployeeID: fmt.Sprintf("E%d", c%7), Date: "2026-11-20"}] = true
				}
			}
			if len(dirty) != len(want) {
				t.Errorf("dirty days %v, want %v", dirty, want)
			}
			for _, d := range dirty {
				if !want[d] {
					t.Errorf("dirty day %v not wanted", d)
				}
			}
		})
	}
}

// rawFails is onlyLedger whose raw payloads cannot be kept.
type rawFails struct{ onlyLedger }

func (rawFails) StoreRaw(context.Context, []ledger.RawPayload) error { return errors.New("disk full") }

// TestIngestBatchFallbackMarksDaysBeforeRaw checks that without an
// IngestBatcher a failure to keep raw payloads comes after the events and
// their dirty days are stored, and says so with ledger.ErrRawNotKept.
func TestIngestBatchFallbackMarksDaysBeforeRaw(t *testing.T) {
	inner := openSQLite(t)
	g := groupcommit.New(rawFails{onlyLedger{inner}}, groupcommit.Options{})
	defer g.Close()
	e := punch(1, true)
	ps, err := ledger.PrepareEvents([]mapping.Event{e}, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := mapping.EmployeeDay{EmployeeID: e.EmployeeID, Date: "2026-11-20"}
	res, err := g.IngestBatch(t.Context(), ledger.IngestBatch{Events: ps,
		Raw:   []ledger.RawPayload{{EventID: e.ID, Fingerprint: ps[0].Fingerprint, Connector: e.Connector, ReceivedAt: e.ReceivedAt, Body: []byte(`{}`)}},
		Dirty: func([]mapping.Event) []mapping.EmployeeDay { return []mapping.EmployeeDay{day} }})
	if !errors.Is(err, ledger.ErrRawNotKept) || res.Stored != 1 {
		t.Fatalf("IngestBatch = %+v, %v; want 1 stored and ErrRawNotKept", res, err)
	}
	dirty, err := g.DirtyDays(t.Context())
	if err != nil || len(dirty) != 1 || dirty[0] != day {
		t.Fatalf("dirty days %v, %v; want %v", dirty, err, day)
	}
}
