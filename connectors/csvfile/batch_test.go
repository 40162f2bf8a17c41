package csvfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/csvfile"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// month returns n records of November 2026, each its own employee's day.
func month(n, version int) []connectors.Delivery {
	ds := make([]connectors.Delivery, n)
	for i := range ds {
		rec := day(fmt.Sprintf("E%04d", i), fmt.Sprintf("2026-11-%02d", 1+i%30), mapping.DayPresent, 480+version, version)
		ds[i] = connectors.Delivery{Record: rec, IdempotencyKey: connectors.IdempotencyKey("payroll", rec)}
	}
	return ds
}

func rows(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\r\n") - 1 // less the header
}

func deliverBatch(t *testing.T, s *csvfile.Sink, ds []connectors.Delivery) {
	t.Helper()
	for i, err := range s.DeliverBatch(t.Context(), ds) {
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}

func flush(t *testing.T, s *csvfile.Sink) {
	t.Helper()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestBatchBackfillsAClosedPeriod: a push's batches of a closed period not
// yet exported (the first run after installing) go whole into the
// period's file when the push flushes; the next push's corrections are
// that day's adjustments, every one of them in the file.
func TestBatchBackfillsAClosedPeriod(t *testing.T) {
	dir := t.TempDir()
	c := clocktest.New(time.Date(2026, 12, 10, 2, 0, 0, 0, cst))
	s := newSink(t, dir, c, func(cfg *csvfile.Config) { cfg.Formats = []string{"csv"} })
	if s.BatchSize() < 2 {
		t.Fatalf("BatchSize() = %d, want batches", s.BatchSize())
	}
	first := month(300, 1)
	deliverBatch(t, s, first[:120])
	deliverBatch(t, s, first[120:])
	flush(t, s)
	if got := rows(t, filepath.Join(dir, "attendance-2026-11.csv")); got != len(first) {
		t.Errorf("the closed period's file holds %d rows, want every one of the push's %d", got, len(first))
	}
	// Corrections of every record, and 200 new days, in two batches.
	second := append(month(300, 2), month(500, 1)[300:]...)
	deliverBatch(t, s, second[:250])
	deliverBatch(t, s, second[250:])
	adj := filepath.Join(dir, "attendance-2026-11-adjustments-2026-12-10.csv")
	if _, err := os.Stat(adj); err == nil {
		t.Error("the adjustments file was written before the push's flush")
	}
	flush(t, s)
	if got := rows(t, adj); got != len(second) {
		t.Errorf("the adjustments file holds %d rows, want %d", got, len(second))
	}
	// A record of an exported version changes nothing; a malformed one
	// fails alone.
	bad := day("E9999", "2026-13-01", mapping.DayAbsent, 0, 1)
	errs := s.DeliverBatch(t.Context(), []connectors.Delivery{first[0], {Record: bad, IdempotencyKey: "bad"}})
	if errs[0] != nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "2026-13-01") {
		t.Errorf("errors %v; want none for the redelivery and one naming the bad date", errs)
	}
	before, err := os.Stat(adj)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	if after, err := os.Stat(adj); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a flush after nothing was added rewrote the adjustments file (%v)", err)
	}
	if got := rows(t, adj); got != len(second) {
		t.Errorf("after a redelivery the adjustments file holds %d rows, want %d", got, len(second))
	}
}

// TestBatchMatchesOneByOne: in an exported period, a batch writes what the
// same records delivered one by one write.
func TestBatchMatchesOneByOne(t *testing.T) {
	read := func(batched bool) string {
		dir := t.TempDir()
		c := clocktest.New(time.Date(2026, 12, 10, 2, 0, 0, 0, cst))
		s := newSink(t, dir, c, func(cfg *csvfile.Config) { cfg.Formats = []string{"csv"} })
		deliverBatch(t, s, month(1, 1))
		flush(t, s) // exports November
		ds := append(month(40, 2), month(40, 3)[:10]...)
		if batched {
			deliverBatch(t, s, ds)
		} else {
			for _, d := range ds {
				if err := s.Deliver(t.Context(), d); err != nil {
					t.Fatal(err)
				}
			}
		}
		flush(t, s)
		b, err := os.ReadFile(filepath.Join(dir, "attendance-2026-11-adjustments-2026-12-10.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := read(true), read(false); a != b {
		t.Errorf("batched:\n%s\none by one:\n%s", a, b)
	}
}

// TestBatchFailsOnlyTheRecordsOfAFileItCannotWrite: a batch's records go to their
// periods' state files, each written once; a file that cannot be written
// fails the batch's records for it and no others, and they are taken when
// they come again.
func TestBatchFailsOnlyTheRecordsOfAFileItCannotWrite(t *testing.T) {
	dir := t.TempDir()
	c := clocktest.New(time.Date(2026, 11, 25, 2, 0, 0, 0, cst))
	s := newSink(t, dir, c, func(cfg *csvfile.Config) { cfg.Formats = []string{"csv"} })
	// October's state file is a directory: it cannot be appended to.
	blocked := filepath.Join(dir, ".punchbridge", "attendance-2026-10.jsonl")
	if err := os.Mkdir(blocked, 0o750); err != nil {
		t.Fatal(err)
	}
	october := day("E0001", "2026-10-30", mapping.DayPresent, 480, 1)
	ds := append(month(3, 1), connectors.Delivery{Record: october, IdempotencyKey: "oct"})
	ds = append(ds, month(5, 1)[3:]...)
	errs := s.DeliverBatch(t.Context(), ds)
	for i, err := range errs {
		if want := i == 3; (err != nil) != want {
			t.Errorf("record %d (%s): error %v, want an error: %v", i, ds[i].Record.Date, err, want)
		}
	}
	if errs[3] != nil && !strings.Contains(errs[3].Error(), "attendance-2026-10.jsonl") {
		t.Errorf("October's error %q does not name its state file", errs[3])
	}
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	deliverBatch(t, s, ds[3:4])
	c.Set(time.Date(2026, 12, 10, 2, 0, 0, 0, cst))
	flush(t, s)
	if got := rows(t, filepath.Join(dir, "attendance-2026-10.csv")); got != 1 {
		t.Errorf("October's file holds %d rows, want 1", got)
	}
	if got := rows(t, filepath.Join(dir, "attendance-2026-11.csv")); got != 5 {
		t.Errorf("November's file holds %d rows, want 5", got)
	}
}

// BenchmarkDeliverOpenMonth delivers 2,000 records of a period still open,
// a batch of the push at a time, and reports records per second: each one
// is kept in the period's state file until the period closes.
func BenchmarkDeliverOpenMonth(b *testing.B) {
	n := 0
	for b.Loop() {
		b.StopTimer()
		c := clocktest.New(time.Date(2026, 11, 21, 2, 0, 0, 0, cst))
		cfg := csvfile.DefaultConfig()
		cfg.Dir, cfg.Timezone, cfg.Formats = b.TempDir(), "Asia/Shanghai", []string{"csv"}
		s, err := csvfile.NewSink("payroll", cfg, connectors.Deps{Now: c.Now})
		if err != nil {
			b.Fatal(err)
		}
		ds := month(2000, 1)
		b.StartTimer()
		for i := 0; i < len(ds); i += s.BatchSize() {
			for _, err := range s.DeliverBatch(b.Context(), ds[i:min(i+s.BatchSize(), len(ds))]) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		n += len(ds)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkBackfillClosedMonth corrects 2,000 records of an exported
// month, a batch of the push at a time and one by one, and reports
// records per second.
func BenchmarkBackfillClosedMonth(b *testing.B) {
	for _, batched := range []bool{true, false} {
		b.Run(map[bool]string{true: "batch", false: "one-by-one"}[batched], func(b *testing.B) {
			n := 0
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				c := clocktest.New(time.Date(2026, 12, 10, 2, 0, 0, 0, cst))
				cfg := csvfile.DefaultConfig()
				cfg.Dir, cfg.Timezone, cfg.Formats = dir, "Asia/Shanghai", []string{"csv"}
				s, err := csvfile.NewSink("payroll", cfg, connectors.Deps{Now: c.Now})
				if err != nil {
					b.Fatal(err)
				}
				s.DeliverBatch(b.Context(), month(1, 1))
				if err := s.Flush(b.Context()); err != nil {
					b.Fatal(err)
				}
				ds := month(2000, 2)
				b.StartTimer()
				if batched {
					for i := 0; i < len(ds); i += s.BatchSize() {
						for _, err := range s.DeliverBatch(b.Context(), ds[i:min(i+s.BatchSize(), len(ds))]) {
							if err != nil {
								b.Fatal(err)
							}
						}
					}
				} else {
					for _, d := range ds {
						if err := s.Deliver(b.Context(), d); err != nil {
							b.Fatal(err)
						}
					}
				}
				// The push flushes once it has delivered everything due.
				if err := s.Flush(b.Context()); err != nil {
					b.Fatal(err)
				}
				n += len(ds)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
