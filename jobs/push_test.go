package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// batchSink delivers in batches of size and fails the records of refused
// employees.
type batchSink struct {
	size    int
	refused string // employee id whose records fail
	mu      sync.Mutex
	calls   []int // records per DeliverBatch call
	got     map[string]int
}

func (s *batchSink) Name() string   { return "hr" }
func (s *batchSink) BatchSize() int { return s.size }
func (s *batchSink) Deliver(ctx context.Context, d connectors.Delivery) error {
	return s.DeliverBatch(ctx, []connectors.Delivery{d})[0]
}

func (s *batchSink) DeliverBatch(_ context.Context, ds []connectors.Delivery) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, len(ds))
	if s.got == nil {
		s.got = map[string]int{}
	}
	errs := make([]error, len(ds))
	for i, d := range ds {
		if d.Record.EmployeeID == s.refused {
			errs[i] = fmt.Errorf("employee %s unknown to HR: %w", s.refused, connectors.ErrPermanent)
			continue
		}
		s.got[d.IdempotencyKey]++
	}
	return errs
}

func TestPushBatches(t *testing.T) {
	now := at("2026-11-21", "02:00")
	var days []mapping.DayRecord
	for e := 1; e <= 3; e++ {
		for d := 16; d <= 20; d++ {
			days = append(days, mapping.DayRecord{Schema: mapping.DaySchema, EmployeeID: fmt.Sprintf("E%d", e),
				Date: fmt.Sprintf("2026-11-%d", d), Shift: "standard", Version: 1, Status: mapping.DayPresent})
		}
	}
	for _, tc := range []struct {
		name      string
		size      int
		refused   string
		delivered int
		dead      int
		maxCall   int
	}{
		{"batches of 4", 4, "", 15, 0, 4},
		{"one record a call", 1, "", 15, 0, 1},
		{"a refused record fails alone", 4, "E2", 10, 5, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sink := &batchSink{size: tc.size, refused: tc.refused}
			f.job.Sinks = []connectors.Sink{sink}
			f.job.Push.Workers = 2
			for _, d := range days {
				if err := f.ledger.Enqueue(t.Context(), "hr", d); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := f.job.PushDue(t.Context(), now)
			if err != nil {
				t.Fatal(err)
			}
			if rep.RecordsPushed != tc.delivered || rep.DeadLettered != tc.dead || len(sink.got) != tc.delivered {
				t.Fatalf("pushed %d, dead-lettered %d, sink applied %d; want %d, %d, %d",
					rep.RecordsPushed, rep.DeadLettered, len(sink.got), tc.delivered, tc.dead, tc.delivered)
			}
			total := 0
			for _, n := range sink.calls {
				if n > tc.maxCall {
					t.Errorf("a call carried %d records, more than %d", n, tc.maxCall)
				}
				total += n
			}
			if total != len(days) {
				t.Errorf("calls carried %d records in all, want each of %d once", total, len(days))
			}
			for _, d := range days {
				ok, err := f.ledger.Delivered(t.Context(), "hr", d.Key(), 1)
				if err != nil {
					t.Fatal(err)
				}
				if want := d.EmployeeID != tc.refused; ok != want {
					t.Errorf("%s %s in the delivery log = %v, want %v", d.EmployeeID, d.Date, ok, want)
				}
			}
			dead, err := f.ledger.Outbox(t.Context(), "hr", ledger.DeliveryDead, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range dead {
				if e.Record.EmployeeID != tc.refused || !strings.Contains(e.LastError, "unknown to HR") {
					t.Errorf("dead letter %s %s: %q", e.Record.EmployeeID, e.Record.Date, e.LastError)
				}
			}
			// Nothing is due any more: a second push sends nothing.
			rep, err = f.job.PushDue(t.Context(), now.Add(time.Hour))
			if err != nil || rep.RecordsPushed != 0 {
				t.Fatalf("second push: %d pushed, %v", rep.RecordsPushed, err)
			}
		})
	}
}

// failingMarks fails every batch delivery-log write.
type failingMarks struct{ ledger.Ledger }

func (failingMarks) MarkDeliveredAll(context.Context, []int64, time.Time) error {
	return errors.New("disk full")
}

func TestPushBatchUnrecordedStaysDue(t *testing.T) {
	f := newFixture(t)
	sink := &batchSink{size: 10}
	f.job.Sinks = []connectors.Sink{sink}
	f.job.Ledger = failingMarks{f.ledger}
	rec := mapping.DayRecord{Schema: mapping.DaySchema, EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Version: 1, Status: mapping.DayPresent}
	if err := f.ledger.Enqueue(t.Context(), "hr", rec); err != nil {
		t.Fatal(err)
	}
	_, err := f.job.PushDue(t.Context(), at("2026-11-21", "02:00"))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("PushDue = %v, want the ledger's error", err)
	}
	// The sink took it, the ledger did not record it: it stays due, and the
	// idempotency key makes the next attempt a duplicate at the HR system.
	due, err := f.ledger.Due(t.Context(), "hr", at("2026-11-21", "03:00"), 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("Due = %d entries, %v; want the unrecorded one", len(due), err)
	}
}
