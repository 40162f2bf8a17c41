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
	c := &clock{now: time.Date(2026, 12, 10, 2, 0, 0, 0, cst)}
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
	if got := rows(t, adj); got != len(second) {
		t.Errorf("after a redelivery the adjustments file holds %d rows, want %d", got, len(second))
	}
}

// TestBatchMatchesOneByOne: in an exported period, a batch writes what the
// same records delivered one by one write.
func TestBatchMatchesOneByOne(t *testing.T) {
	read := func(batched bool) string {
		dir := t.TempDir()
		c := &clock{now: time.Date(2026, 12, 10, 2, 0, 0, 0, cst)}
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
				c := &clock{now: time.Date(2026, 12, 10, 2, 0, 0, 0, cst)}
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
				n += len(ds)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
