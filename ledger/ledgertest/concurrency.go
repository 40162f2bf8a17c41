package ledgertest

import (
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// writers is how many goroutines race in the concurrency tests.
const writers = 6

// race runs fn in writers goroutines at once and waits for them.
func race(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

var concurrencyTests = []test{
	{"events appended by racing writers are stored exactly once", func(t *testing.T, l ledger.Ledger) {
		var batch []mapping.Event
		for i := range 40 {
			batch = append(batch, punch(i, "u1", "E1", at(20, 8, 0).Add(time.Duration(i)*time.Minute)))
		}
		valid(t, batch...)
		results := make([]ledger.AppendResult, writers)
		errs := make([]error, writers)
		race(func(i int) {
			// Each writer sends the batch in its own order.
			mine := make([]mapping.Event, len(batch))
			for j := range batch {
				mine[j] = batch[(j+i*7)%len(batch)]
			}
			results[i], errs[i] = l.Append(t.Context(), mine)
			// Readers run beside the writers.
			if _, err := l.Events(t.Context(), "E1", at(20, 0, 0), at(21, 0, 0)); err != nil && errs[i] == nil {
				errs[i] = err
			}
		})
		var stored, dups, changed int
		for i, r := range results {
			if errs[i] != nil {
				t.Fatalf("writer %d: %v", i, errs[i])
			}
			stored, dups, changed = stored+r.Stored+r.Revisions, dups+r.Duplicates, changed+len(r.Changed)
		}
		if want := len(batch); stored != want || changed != want || dups != (writers-1)*want {
			t.Errorf("stored %d, changed %d, duplicates %d; want %d, %d, %d", stored, changed, dups, want, want, (writers-1)*want)
		}
		sameEvents(t, "Events", events(t, l, "E1"), batch)
	}},
	{"racing PutDay of one record stores one version", func(t *testing.T, l ledger.Ledger) {
		rec := record("E1", "2026-11-20", "standard", 540)
		changed := make([]bool, writers)
		errs := make([]error, writers)
		race(func(i int) {
			var got mapping.DayRecord
			got, changed[i], errs[i] = l.PutDay(t.Context(), rec)
			if errs[i] == nil && got.Version != 1 {
				t.Errorf("writer %d got version %d, want 1", i, got.Version)
			}
		})
		n := 0
		for i := range writers {
			if errs[i] != nil {
				t.Fatalf("writer %d: %v", i, errs[i])
			}
			if changed[i] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d writers stored a new version, want 1", n)
		}
		hist, err := l.DayHistory(t.Context(), rec.Key())
		if err != nil || len(hist) != 1 {
			t.Errorf("DayHistory = %d versions, %v; want 1", len(hist), err)
		}
	}},
	{"racing Enqueue of one version makes one entry", func(t *testing.T, l ledger.Ledger) {
		errs := make([]error, writers)
		race(func(i int) { errs[i] = l.Enqueue(t.Context(), "hr", dayA1) })
		for i, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v", i, err)
			}
		}
		sameEntries(t, "Outbox", outbox(t, l, "hr", ""), pending("hr", dayA1))
	}},
}
