package ledgertest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// IngestBatcher is a ledger that writes events, their raw payloads and
// their dirty days in one transaction, as groupcommit's IngestBatcher.
type IngestBatcher interface {
	ledger.Ledger
	ledger.RawStore
	IngestBatches(ctx context.Context, batches []ledger.IngestBatch) ([]ledger.AppendResult, error)
}

// RunIngestBatcher checks a ledger's IngestBatches: each batch's result is
// what Append gives for the same events in the same order, the three
// writes are all or nothing, and events not prepared are refused.
func RunIngestBatcher(t *testing.T, open Open) {
	open = closing(open)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	punch := func(n int, user, employee string, minutes int) mapping.Event {
		at := t0.Add(time.Duration(minutes) * time.Minute)
		return mapping.Event{Schema: mapping.EventSchema, ID: fmt.Sprintf("fake/t1/punch/%d", n), Kind: mapping.KindPunch,
			Platform: "fake", Tenant: "t1", UserID: user, EmployeeID: employee, Time: at, ReceivedAt: at, Via: mapping.ViaPull,
			Raw: fmt.Appendf(nil, `{"id":%d}`, n), Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp}}
	}
	asBatcher := func(t *testing.T) IngestBatcher {
		l, ok := open(t).(IngestBatcher)
		if !ok {
			t.Fatal("the ledger does not write ingests in one transaction")
		}
		return l
	}
	ingest := func(events []mapping.Event, dirty func([]mapping.Event) []mapping.EmployeeDay) ledger.IngestBatch {
		ps, err := ledger.PrepareEvents(events, nil)
		if err != nil {
			t.Fatal(err)
		}
		var raw []ledger.RawPayload
		for _, p := range ps {
			raw = append(raw, ledger.RawPayload{EventID: p.Event.ID, Fingerprint: p.Fingerprint, Connector: "c", ReceivedAt: t0, Body: p.Event.Raw})
		}
		return ledger.IngestBatch{Events: ps, Raw: raw, Dirty: dirty}
	}
	daysOf := func(changed []mapping.Event) []mapping.EmployeeDay {
		var days []mapping.EmployeeDay
		for _, e := range changed {
			days = append(days, mapping.EmployeeDay{EmployeeID: e.EmployeeID, Date: e.Time.Format(time.DateOnly)})
		}
		return days
	}

	t.Run("results as Append gives them", func(t *testing.T) {
		revised := punch(2, "u1", "E1", 5)
		revised.Punch.Method = mapping.MethodDevice
		runs := [][][]mapping.Event{
			{{punch(1, "u1", "E1", 0), punch(2, "u1", "E1", 1)}, {punch(1, "u1", "E1", 0), punch(3, "u9", "", 2)}},
			{{revised, punch(3, "u9", "E9", 2)}, {punch(4, "u2", "E2", 3), punch(4, "u2", "E2", 3)}},
		}
		batched, single := asBatcher(t), open(t)
		for r, run := range runs {
			ibs := make([]ledger.IngestBatch, len(run))
			for i, events := range run {
				ibs[i] = ingest(events, daysOf)
			}
			got, err := batched.IngestBatches(t.Context(), ibs)
			if err != nil {
				t.Fatal(err)
			}
			for i, events := range run {
				want, err := single.Append(t.Context(), events)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("run %d batch %d: IngestBatches result %+v, Append %+v", r, i, got[i], want)
				}
			}
		}
		for _, emp := range []string{"E1", "E2", "E9"} {
			got, err := batched.Events(t.Context(), emp, t0.Add(-time.Hour), t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want, err := single.Events(t.Context(), emp, t0.Add(-time.Hour), t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("events of %s: ingested %+v, appended %+v", emp, got, want)
			}
		}
		dirty, err := batched.DirtyDays(t.Context())
		if err != nil || len(dirty) != 3 {
			t.Errorf("dirty days %v, %v; want E1's, E2's and E9's", dirty, err)
		}
		if raw, err := batched.RawFor(t.Context(), "fake/t1/punch/2"); err != nil || len(raw) != 2 {
			t.Errorf("raw payloads of the revised event: %d, %v; want both revisions'", len(raw), err)
		}
	})

	t.Run("all or nothing", func(t *testing.T) {
		l := asBatcher(t)
		e := punch(1, "u1", "E1", 0)
		for _, tc := range []struct {
			name   string
			date   string
			stored bool
		}{
			{"a bad dirty day undoes the events", "20-11-2026", false},
			{"all three are written", "2026-11-20", true},
		} {
			var seen []mapping.Event
			_, err := l.IngestBatches(t.Context(), []ledger.IngestBatch{ingest([]mapping.Event{e}, func(changed []mapping.Event) []mapping.EmployeeDay {
				seen = changed
				return []mapping.EmployeeDay{{EmployeeID: "E1", Date: tc.date}}
			})})
			if (err == nil) != tc.stored {
				t.Fatalf("%s: IngestBatches = %v, want stored %v", tc.name, err, tc.stored)
			}
			if len(seen) != 1 || seen[0].ID != e.ID {
				t.Errorf("%s: Dirty got %v, want the stored event", tc.name, seen)
			}
			events, err := l.Events(t.Context(), "E1", t0.Add(-time.Hour), t0.Add(time.Hour))
			if err != nil || (len(events) == 1) != tc.stored {
				t.Errorf("%s: events stored: %d, %v; want stored %v", tc.name, len(events), err, tc.stored)
			}
			rs, err := l.RawFor(t.Context(), e.ID)
			if err != nil || (len(rs) == 1) != tc.stored {
				t.Errorf("%s: raw payloads: %d, %v; want stored %v", tc.name, len(rs), err, tc.stored)
			}
			dirty, err := l.DirtyDays(t.Context())
			if err != nil || (len(dirty) == 1) != tc.stored {
				t.Errorf("%s: dirty days: %v, %v; want stored %v", tc.name, dirty, err, tc.stored)
			}
		}
	})

	t.Run("refuses events not prepared", func(t *testing.T) {
		l := asBatcher(t)
		e := punch(1, "u1", "E1", 0)
		for _, p := range []ledger.PreparedEvent{{Event: e}, {Event: e, Fingerprint: mapping.Fingerprint(e)}} {
			if _, err := l.IngestBatches(t.Context(), []ledger.IngestBatch{{Events: []ledger.PreparedEvent{p}}}); err == nil {
				t.Errorf("IngestBatches of %+v succeeded; want it refused", p)
			}
		}
	})
}
