package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

func enqueue(t *testing.T, l ledger.Ledger, sink string, recs ...mapping.DayRecord) {
	t.Helper()
	for _, r := range recs {
		if err := l.Enqueue(t.Context(), sink, r); err != nil {
			t.Fatalf("Enqueue(%s, %v v%d): %v", sink, r.Key(), r.Version, err)
		}
	}
}

// entryID names an outbox entry by what it delivers.
type entryID struct {
	sink    string
	key     mapping.DayKey
	version int
	state   ledger.DeliveryState
}

func entryIDs(es []ledger.OutboxEntry) []entryID {
	out := make([]entryID, len(es))
	for i, e := range es {
		out[i] = entryID{e.Sink, e.Record.Key(), e.Record.Version, e.State}
	}
	return out
}

func sameEntries(t *testing.T, what string, got []ledger.OutboxEntry, want ...entryID) {
	t.Helper()
	g := entryIDs(got)
	if len(g) != len(want) {
		t.Errorf("%s = %v, want %v", what, g, want)
		return
	}
	for i := range g {
		if g[i] != want[i] {
			t.Errorf("%s = %v, want %v", what, g, want)
			return
		}
	}
}

func due(t *testing.T, l ledger.Ledger, sink string, now time.Time, limit int) []ledger.OutboxEntry {
	t.Helper()
	es, err := l.Due(t.Context(), sink, now, limit)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	return es
}

func outbox(t *testing.T, l ledger.Ledger, sink string, state ledger.DeliveryState) []ledger.OutboxEntry {
	t.Helper()
	es, err := l.Outbox(t.Context(), sink, state, 0)
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	return es
}

var (
	dayA1 = versioned(record("E1", "2026-11-20", "standard", 540), 1)
	dayA2 = versioned(record("E1", "2026-11-20", "standard", 545), 2)
	dayB1 = versioned(record("E2", "2026-11-20", "standard", 530), 1)
)

func pending(sink string, r mapping.DayRecord) entryID {
	return entryID{sink, r.Key(), r.Version, ledger.DeliveryPending}
}

func inState(sink string, r mapping.DayRecord, s ledger.DeliveryState) entryID {
	return entryID{sink, r.Key(), r.Version, s}
}

var outboxTests = []test{
	{"enqueueing a version twice keeps one entry", func(t *testing.T, l ledger.Ledger) {
		enqueue(t, l, "hr", dayA1, dayA1, dayA2)
		enqueue(t, l, "payroll", dayA1)
		es := outbox(t, l, "hr", "")
		sameEntries(t, "Outbox(hr)", es, pending("hr", dayA1), pending("hr", dayA2))
		e := es[0]
		if e.ID == 0 || e.Attempts != 0 || e.LastError != "" || e.CreatedAt.IsZero() || e.Record.ContentHash() != dayA1.ContentHash() {
			t.Errorf("new entry = %+v", e)
		}
		sameEntries(t, "Outbox(all)", outbox(t, l, "", ""), pending("hr", dayA1), pending("hr", dayA2), pending("payroll", dayA1))
	}},
	{"an unversioned record is refused", func(t *testing.T, l ledger.Ledger) {
		if err := l.Enqueue(t.Context(), "hr", versioned(dayA1, 0)); err == nil {
			t.Error("Enqueue of version 0 succeeded")
		}
		if err := l.Enqueue(t.Context(), "", dayA1); err == nil {
			t.Error("Enqueue to an empty sink succeeded")
		}
	}},
	{"Due lists pending entries oldest first, up to limit, per sink", func(t *testing.T, l ledger.Ledger) {
		now := at(21, 2, 0)
		enqueue(t, l, "hr", dayB1, dayA1, dayA2)
		enqueue(t, l, "payroll", dayA1)
		sameEntries(t, "Due", due(t, l, "hr", now, 0), pending("hr", dayB1), pending("hr", dayA1), pending("hr", dayA2))
		sameEntries(t, "Due limit 2", due(t, l, "hr", now, 2), pending("hr", dayB1), pending("hr", dayA1))
		sameEntries(t, "Due(unknown sink)", due(t, l, "nobody", now, 0))
	}},
	{"DueAfter lists the due entries after an entry, for reading the next round early", func(t *testing.T, l ledger.Ledger) {
		da, ok := l.(interface {
			DueAfter(ctx context.Context, sink string, now time.Time, after int64, limit int) ([]ledger.OutboxEntry, error)
		})
		if !ok {
			t.Skipf("%T lists due entries from the start only", l)
		}
		now := at(21, 2, 0)
		enqueue(t, l, "hr", dayB1, dayA1, dayA2)
		all := due(t, l, "hr", now, 0)
		for _, tc := range []struct {
			after int64
			limit int
			want  []entryID
		}{
			{0, 0, []entryID{pending("hr", dayB1), pending("hr", dayA1), pending("hr", dayA2)}},
			{all[0].ID, 0, []entryID{pending("hr", dayA1), pending("hr", dayA2)}},
			{all[0].ID, 1, []entryID{pending("hr", dayA1)}},
			{all[2].ID, 0, nil},
		} {
			got, err := da.DueAfter(t.Context(), "hr", now, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			sameEntries(t, fmt.Sprintf("DueAfter(%d, limit %d)", tc.after, tc.limit), got, tc.want...)
		}
	}},
	{"a failed entry waits for its next attempt", func(t *testing.T, l ledger.Ledger) {
		now := at(21, 2, 0)
		enqueue(t, l, "hr", dayA1, dayB1)
		first := due(t, l, "hr", now, 1)[0]
		next := now.Add(30 * time.Second)
		if err := l.MarkFailed(t.Context(), first.ID, "hr: 503 Service Unavailable", next, false); err != nil {
			t.Fatal(err)
		}
		sameEntries(t, "Due before next", due(t, l, "hr", next.Add(-time.Second), 0), pending("hr", dayB1))
		got := due(t, l, "hr", next, 0)
		sameEntries(t, "Due at next", got, pending("hr", dayA1), pending("hr", dayB1))
		if e := got[0]; e.Attempts != 1 || e.LastError != "hr: 503 Service Unavailable" || !e.NextAt.Equal(next) {
			t.Errorf("failed entry = attempts %d, last error %q, next %v; want 1, the error, %v", e.Attempts, e.LastError, e.NextAt, next)
		}
	}},
	{"MarkFailed with dead moves the entry to the dead letters", func(t *testing.T, l ledger.Ledger) {
		now := at(21, 2, 0)
		enqueue(t, l, "hr", dayA1)
		id := due(t, l, "hr", now, 0)[0].ID
		for i := 1; i <= 3; i++ {
			if err := l.MarkFailed(t.Context(), id, "hr: 500", now.Add(time.Duration(i)*time.Minute), i == 3); err != nil {
				t.Fatal(err)
			}
		}
		sameEntries(t, "Due", due(t, l, "hr", now.Add(time.Hour), 0))
		dead := outbox(t, l, "hr", ledger.DeliveryDead)
		sameEntries(t, "Outbox(dead)", dead, inState("hr", dayA1, ledger.DeliveryDead))
		if dead[0].Attempts != 3 || dead[0].LastError != "hr: 500" {
			t.Errorf("dead entry = attempts %d, last error %q; want 3, hr: 500", dead[0].Attempts, dead[0].LastError)
		}
		sameEntries(t, "Outbox(pending)", outbox(t, l, "hr", ledger.DeliveryPending))
	}},
	{"MarkDelivered writes the delivery log once", func(t *testing.T, l ledger.Ledger) {
		now := at(21, 2, 0)
		enqueue(t, l, "hr", dayA1, dayB1)
		enqueue(t, l, "payroll", dayA1)
		id := due(t, l, "hr", now, 1)[0].ID
		if ok, err := l.Delivered(t.Context(), "hr", dayA1.Key(), 1); ok || err != nil {
			t.Fatalf("Delivered before delivery = %v, %v", ok, err)
		}
		for range 2 {
			if err := l.MarkDelivered(t.Context(), id, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			sink    string
			key     mapping.DayKey
			version int
			want    bool
		}{
			{"hr", dayA1.Key(), 1, true},
			{"hr", dayA1.Key(), 2, false},
			{"hr", dayB1.Key(), 1, false},
			{"payroll", dayA1.Key(), 1, false},
		} {
			if ok, err := l.Delivered(t.Context(), tc.sink, tc.key, tc.version); ok != tc.want || err != nil {
				t.Errorf("Delivered(%s, %v, %d) = %v, %v; want %v", tc.sink, tc.key, tc.version, ok, err, tc.want)
			}
		}
		// DeliveredAll answers as Delivered, record by record, for a batch
		// larger than one statement, with repeats and a malformed date.
		bad := versioned(record("E1", "2026-13-40", "standard", 540), 1)
		recs := []mapping.DayRecord{dayB1, dayA1, dayA2, bad}
		for i := range 600 {
			recs = append(recs, versioned(record(fmt.Sprintf("X%03d", i), "2026-11-20", "standard", 480), 1))
		}
		recs = append(recs, dayA1)
		done, err := l.DeliveredAll(t.Context(), "hr", recs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			want := r.Key() == dayA1.Key() && r.Version == 1
			if i >= len(done) || done[i] != want {
				t.Errorf("DeliveredAll(hr) record %d (%v v%d) = %v, want %v", i, r.Key(), r.Version, done, want)
				break
			}
		}
		if done, err := l.DeliveredAll(t.Context(), "payroll", []mapping.DayRecord{dayA1}); err != nil || done[0] {
			t.Errorf("DeliveredAll(payroll, A1) = %v, %v; want false", done, err)
		}
		if done, err := l.DeliveredAll(t.Context(), "hr", nil); err != nil || len(done) != 0 {
			t.Errorf("DeliveredAll of none = %v, %v", done, err)
		}
		sameEntries(t, "Due", due(t, l, "hr", now, 0), pending("hr", dayB1))
		sameEntries(t, "Outbox(delivered)", outbox(t, l, "", ledger.DeliveryDelivered), inState("hr", dayA1, ledger.DeliveryDelivered))
		// A failure reported late by a racing attempt cannot undo a delivery.
		if err := l.MarkFailed(t.Context(), id, "timeout", now, true); err != nil {
			t.Fatal(err)
		}
		sameEntries(t, "Outbox(delivered) after a late failure", outbox(t, l, "hr", ledger.DeliveryDelivered), inState("hr", dayA1, ledger.DeliveryDelivered))
		// Enqueueing a delivered version again does not resend it.
		enqueue(t, l, "hr", dayA1)
		sameEntries(t, "Due after enqueueing again", due(t, l, "hr", now, 0), pending("hr", dayB1))
	}},
	{"MarkDeliveredAll marks a batch, all or nothing", func(t *testing.T, l ledger.Ledger) {
		now := at(21, 2, 0)
		enqueue(t, l, "hr", dayA1, dayA2, dayB1)
		es := due(t, l, "hr", now, 0)
		if len(es) != 3 {
			t.Fatalf("Due = %d entries, want 3", len(es))
		}
		// An unknown id among known ones marks none of them.
		if err := l.MarkDeliveredAll(t.Context(), []int64{es[0].ID, 4040}, now); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("MarkDeliveredAll with an unknown id = %v, want ErrNotFound", err)
		}
		sameEntries(t, "Due after a refused batch", due(t, l, "hr", now, 0), pending("hr", dayA1), pending("hr", dayA2), pending("hr", dayB1))
		if err := l.MarkDeliveredAll(t.Context(), nil, now); err != nil {
			t.Fatalf("MarkDeliveredAll(nil) = %v", err)
		}
		// A batch that repeats an id, and a batch marked twice, log once.
		for range 2 {
			if err := l.MarkDeliveredAll(t.Context(), []int64{es[0].ID, es[2].ID, es[0].ID}, now); err != nil {
				t.Fatal(err)
			}
		}
		sameEntries(t, "Due", due(t, l, "hr", now, 0), pending("hr", dayA2))
		sameEntries(t, "Outbox(delivered)", outbox(t, l, "hr", ledger.DeliveryDelivered),
			inState("hr", dayA1, ledger.DeliveryDelivered), inState("hr", dayB1, ledger.DeliveryDelivered))
		for _, tc := range []struct {
			key     mapping.DayKey
			version int
			want    bool
		}{
			{dayA1.Key(), 1, true},
			{dayA2.Key(), 2, false},
			{dayB1.Key(), 1, true},
		} {
			if ok, err := l.Delivered(t.Context(), "hr", tc.key, tc.version); ok != tc.want || err != nil {
				t.Errorf("Delivered(hr, %v, %d) = %v, %v; want %v", tc.key, tc.version, ok, err, tc.want)
			}
		}
	}},
	{"unknown entries are not found", func(t *testing.T, l ledger.Ledger) {
		if err := l.MarkDelivered(t.Context(), 4040, at(21, 0, 0)); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("MarkDelivered = %v, want ErrNotFound", err)
		}
		if err := l.MarkFailed(t.Context(), 4040, "x", at(21, 0, 0), false); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("MarkFailed = %v, want ErrNotFound", err)
		}
	}},
}
