package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// dayCalendar says an instant affects its own UTC+8 date only.
type dayCalendar struct{}

func (dayCalendar) DatesFor(_ string, t time.Time) []string {
	return []string{t.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)}
}

func (c dayCalendar) DatesBetween(emp string, start, end time.Time) []string {
	var out []string
	for d := start; !d.After(end); d = d.Add(24 * time.Hour) {
		out = append(out, c.DatesFor(emp, d)...)
	}
	return out
}

func punch(user string, t time.Time) mapping.Event {
	return mapping.Event{
		Schema: mapping.EventSchema, ID: "fake/t1/punch/" + user + t.Format("150405"), Kind: mapping.KindPunch,
		Platform: "fake", Connector: "c", Tenant: "t1", UserID: user, Time: t, ReceivedAt: t, Via: mapping.ViaPull,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp},
	}
}

func TestIngest(t *testing.T) {
	ctx := context.Background()
	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ids := mapping.NewIdentities()
	ids.Set("fake", "t1", "u1", "E1")
	in := New(l, ids, dayCalendar{}, nil)

	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	good := punch("u1", t0)
	unmapped := punch("u9", t0)
	bad := punch("u1", t0.Add(time.Minute))
	lat := 123.0
	bad.Punch.Lat, bad.Punch.Lng = &lat, &lat

	c, err := in.Ingest(ctx, []mapping.Event{good, unmapped, bad})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Received: 3, Stored: 2, Rejected: 1, Quarantined: 1}
	if c != want {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
	rej, err := l.Rejections(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 1 || !strings.Contains(rej[0].Reason, `punch.lat="123"`) || rej[0].ID != bad.ID {
		t.Fatalf("rejections %+v, want the bad event with a reason naming punch.lat", rej)
	}
	dirty, err := l.DirtyDays(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wantDirty := []mapping.EmployeeDay{{EmployeeID: "E1", Date: "2026-11-20"}}; !reflect.DeepEqual(dirty, wantDirty) {
		t.Fatalf("dirty days %v, want %v (the unmapped user's day is not dirty)", dirty, wantDirty)
	}

	// The same events again are duplicates, and nothing new is dirty.
	c, err = in.Ingest(ctx, []mapping.Event{good, unmapped})
	if err != nil {
		t.Fatal(err)
	}
	if c.Duplicates != 2 || c.Stored != 0 {
		t.Fatalf("second copy: %+v, want 2 duplicates", c)
	}

	// Mapping u9 releases its event from quarantine and marks its day.
	ids.Set("fake", "t1", "u9", "E9")
	n, err := in.RemapQuarantined(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RemapQuarantined = %d, %v; want 1", n, err)
	}
	dirty, _ = l.DirtyDays(ctx)
	if len(dirty) != 2 || dirty[1].EmployeeID != "E9" {
		t.Fatalf("dirty days after remap %v, want E9's day too", dirty)
	}
	if tot := in.Totals(); tot.Received != 5 || tot.Duplicates != 2 {
		t.Fatalf("totals %+v", tot)
	}
}

func TestDirtyDaysSpansApprovals(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	leave := mapping.Event{EmployeeID: "E1", Approval: &mapping.Approval{
		Start: time.Date(2026, 11, 18, 9, 0, 0, 0, cst), End: time.Date(2026, 11, 20, 18, 0, 0, 0, cst)}}
	p := mapping.Event{EmployeeID: "E2", Time: time.Date(2026, 11, 18, 9, 0, 0, 0, cst)}
	got := DirtyDays(dayCalendar{}, []mapping.Event{leave, p, {Time: p.Time}})
	want := []mapping.EmployeeDay{{EmployeeID: "E1", Date: "2026-11-18"}, {EmployeeID: "E1", Date: "2026-11-19"}, {EmployeeID: "E1", Date: "2026-11-20"}, {EmployeeID: "E2", Date: "2026-11-18"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// rawLost is a ledger whose ingest writes store events and dirty days but
// not raw payloads, as groupcommit reports with ErrRawNotKept.
type rawLost struct{ *sqlite.Ledger }

func (l rawLost) IngestBatch(ctx context.Context, b ledger.IngestBatch) (ledger.AppendResult, error) {
	b.Raw = nil
	res, err := l.Ledger.IngestBatch(ctx, b)
	if err != nil {
		return res, err
	}
	return res, fmt.Errorf("%w: disk full", ledger.ErrRawNotKept)
}

// TestRawNotKeptIsNoFailure checks that events whose raw payloads could not
// be kept are stored and counted, and their days marked, without an error.
func TestRawNotKeptIsNoFailure(t *testing.T) {
	l, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ids := mapping.NewIdentities()
	ids.Set("fake", "t1", "u1", "E1")
	in := New(rawLost{l}, ids, dayCalendar{}, nil)
	e := punch("u1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	e.Raw = []byte(`{"id":1}`)
	c, err := in.Ingest(t.Context(), []mapping.Event{e})
	if err != nil || c.Stored != 1 {
		t.Fatalf("Ingest = %+v, %v; want 1 stored and no error", c, err)
	}
	dirty, err := l.DirtyDays(t.Context())
	if err != nil || len(dirty) != 1 {
		t.Fatalf("dirty days %v, %v; want the punch's day", dirty, err)
	}
}
