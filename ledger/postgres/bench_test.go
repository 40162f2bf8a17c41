package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// benchPunch returns the nth of a stream of distinct, mapped punches, as
// the SQLite benchmark appends them.
func benchPunch(n int) mapping.Event {
	tm := time.Date(2026, 11, 20, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)).Add(time.Duration(n) * time.Second)
	lat, lng := 31.2304, 121.4737
	return mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/punch/%d", n), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a",
		UserID: fmt.Sprintf("u%d", n%200), EmployeeID: fmt.Sprintf("E%d", n%200),
		Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaPull,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, Lat: &lat, Lng: &lng, PlatformResult: "normal"},
	}
}

// BenchmarkAppend100 appends batches of 100 new punches, one transaction
// per batch (lock the ids, read their revisions, one multi-row insert), and
// reports events per second.
func BenchmarkAppend100(b *testing.B) {
	dsn, schema := freshSchema(b)
	l := open(b, dsn, schema)
	defer l.Close()
	n := 0
	for b.Loop() {
		batch := make([]mapping.Event, 100)
		for i := range batch {
			batch[i] = benchPunch(n)
			n++
		}
		res, err := l.Append(b.Context(), batch)
		if err != nil {
			b.Fatal(err)
		}
		if res.Stored != len(batch) {
			b.Fatalf("stored %d of %d", res.Stored, len(batch))
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppend100Duplicates appends batches of 100 events already
// stored, the common case of a re-pull over the look-back window.
func BenchmarkAppend100Duplicates(b *testing.B) {
	dsn, schema := freshSchema(b)
	l := open(b, dsn, schema)
	defer l.Close()
	batch := make([]mapping.Event, 100)
	for i := range batch {
		batch[i] = benchPunch(i)
	}
	if _, err := l.Append(b.Context(), batch); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		res, err := l.Append(b.Context(), batch)
		if err != nil || res.Duplicates != len(batch) {
			b.Fatalf("Append = %+v, %v; want %d duplicates", res, err, len(batch))
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPutDay stores new day records one by one, as reconciliation
// does, and reports records per second.
func BenchmarkPutDay(b *testing.B) {
	dsn, schema := freshSchema(b)
	l := open(b, dsn, schema)
	defer l.Close()
	n := 0
	for b.Loop() {
		rec := mapping.DayRecord{
			EmployeeID: fmt.Sprintf("E%d", n%200), Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/200).Format(time.DateOnly),
			Shift: "standard", Status: mapping.DayPresent, WorkedMinutes: 540,
		}
		if _, changed, err := l.PutDay(b.Context(), rec); err != nil || !changed {
			b.Fatalf("PutDay = changed %v, %v", changed, err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPutDays stores a reconciliation batch of 1,000 new day records
// queued for one sink, as PutDays and as PutDay and Enqueue a record at a
// time (what reconciliation did on PostgreSQL before PutDays), and reports
// records per second.
func BenchmarkPutDays(b *testing.B) {
	const batch = 1000
	night := func(n int) []mapping.DayRecord {
		recs := make([]mapping.DayRecord, batch)
		for i := range recs {
			recs[i] = mapping.DayRecord{EmployeeID: fmt.Sprintf("E%04d", i), Shift: "standard", Status: mapping.DayPresent, WorkedMinutes: 540,
				Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format(time.DateOnly)}
		}
		return recs
	}
	b.Run("one-by-one", func(b *testing.B) {
		dsn, schema := freshSchema(b)
		l := open(b, dsn, schema)
		defer l.Close()
		n := 0
		for b.Loop() {
			for _, rec := range night(n) {
				stored, changed, err := l.PutDay(b.Context(), rec)
				if err != nil || !changed {
					b.Fatalf("PutDay = changed %v, %v", changed, err)
				}
				if err := l.Enqueue(b.Context(), "hr", stored); err != nil {
					b.Fatal(err)
				}
			}
			n++
		}
		b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("batch", func(b *testing.B) {
		dsn, schema := freshSchema(b)
		l := open(b, dsn, schema)
		defer l.Close()
		n := 0
		for b.Loop() {
			changed, err := l.PutDays(b.Context(), ledger.PrepareDays(night(n)), []string{"hr"})
			if err != nil || !changed[0] {
				b.Fatalf("PutDays = %v, %v", changed[:1], err)
			}
			n++
		}
		b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "records/s")
	})
}
