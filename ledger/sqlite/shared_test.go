package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// TestConcurrentOutboxUpdatesShareTransactions races push workers marking
// entries delivered and failed, with some unknown ids among them: the
// unknown ones fail alone with ErrNotFound, every other update lands.
func TestConcurrentOutboxUpdatesShareTransactions(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	defer l.Close()
	var recs []mapping.DayRecord
	for i := range 60 {
		recs = append(recs, mapping.DayRecord{EmployeeID: fmt.Sprintf("E%d", i), Date: "2026-11-20", Shift: "standard", Status: mapping.DayPresent})
	}
	if _, err := l.PutDays(t.Context(), ledger.PrepareDays(recs), []string{"hr"}); err != nil {
		t.Fatal(err)
	}
	due, err := l.Due(t.Context(), "hr", time.Now(), 0)
	if err != nil || len(due) != 60 {
		t.Fatalf("due %d entries, %v; want 60", len(due), err)
	}
	at := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make([]error, len(due)+10)
	for i, e := range due {
		wg.Go(func() {
			if i%3 == 0 {
				errs[i] = l.MarkFailed(t.Context(), e.ID, "timeout", at.Add(time.Minute), false)
				return
			}
			errs[i] = l.MarkDelivered(t.Context(), e.ID, at)
		})
	}
	for k := range 10 {
		wg.Go(func() { errs[len(due)+k] = l.MarkDelivered(t.Context(), 1_000_000+int64(k), at) })
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i >= len(due) && !errors.Is(err, ledger.ErrNotFound):
			t.Errorf("unknown id: err %v, want ErrNotFound", err)
		case i < len(due) && err != nil:
			t.Errorf("entry %d: %v", due[i].ID, err)
		}
	}
	delivered, err := l.Outbox(t.Context(), "hr", ledger.DeliveryDelivered, 0)
	if err != nil || len(delivered) != 40 {
		t.Errorf("%d delivered, %v; want 40", len(delivered), err)
	}
	pending, err := l.Outbox(t.Context(), "hr", ledger.DeliveryPending, 0)
	if err != nil || len(pending) != 20 || pending[0].Attempts != 1 {
		t.Errorf("%d pending (%v), want the 20 failed ones with one attempt each", len(pending), err)
	}
}
