package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// benchPunch returns the nth of a stream of distinct, mapped punches.
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
// per batch, and reports events per second.
func BenchmarkAppend100(b *testing.B) {
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
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

// BenchmarkPutDay stores new day records one by one, as reconciliation
// does, and reports records per second.
func BenchmarkPutDay(b *testing.B) {
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
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

// BenchmarkPutDaysAged stores a night's reconciliation, one day each of
// 500 employees, into a ledger already holding a year of their days: what
// one reconciliation batch writes once the ledger has aged. Each iteration
// stores a new version of the same date.
func BenchmarkPutDaysAged(b *testing.B) {
	const employees, history = 500, 365
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
	defer l.Close()
	day0 := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	night := func(date string, worked int) []ledger.PreparedDay {
		recs := make([]mapping.DayRecord, employees)
		for e := range recs {
			recs[e] = mapping.DayRecord{EmployeeID: fmt.Sprintf("E%05d", e), Date: date, Shift: "standard",
				Status: mapping.DayPresent, WorkedMinutes: worked}
		}
		return ledger.PrepareDays(recs)
	}
	for d := range history {
		if _, err := l.PutDays(b.Context(), night(day0.AddDate(0, 0, d).Format(time.DateOnly), 540), []string{"hr"}); err != nil {
			b.Fatal(err)
		}
	}
	today := day0.AddDate(0, 0, history).Format(time.DateOnly)
	n := 0
	for b.Loop() {
		n++
		changed, err := l.PutDays(b.Context(), night(today, n), []string{"hr"})
		if err != nil || !changed[0] {
			b.Fatalf("PutDays = %v, %v; want the new version stored", changed[:1], err)
		}
	}
	b.ReportMetric(float64(n*employees)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPutDaysNight stores day records in the batches a night's
// reconciliation of a month hands PutDays: about 1,000 records, 32 employees'
// months (31 days) one after another, employee order, on a ledger that
// holds the company's previous month. It reports records per second and
// the bytes the process wrote per record: what an index ordered other than
// by employee costs shows there (docs/PERFORMANCE.md, "An index that every
// reconciliation batch wrote a page of a date").
func BenchmarkPutDaysNight(b *testing.B) {
	const perBatch = 32
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
	defer l.Close()
	month := func(first time.Time, emp0, emps int) []ledger.PreparedDay {
		return ledger.PrepareDays(presentDays(first, emp0, emps, 31))
	}
	first := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for e := 0; e < benchEmployees; e += perBatch {
		if _, err := l.PutDays(b.Context(), month(first, e, min(perBatch, benchEmployees-e)), []string{"hr"}); err != nil {
			b.Fatal(err)
		}
	}
	n, emp := 0, benchEmployees
	written, haveIO := bytesWritten()
	for b.Loop() {
		if emp+perBatch > benchEmployees {
			first, emp = first.AddDate(0, 0, 31), 0
		}
		batch := month(first, emp, perBatch)
		changed, err := l.PutDays(b.Context(), batch, []string{"hr"})
		if err != nil || !changed[0] {
			b.Fatalf("PutDays = %v, %v; want the new records stored", changed[:1], err)
		}
		emp += perBatch
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if after, ok := bytesWritten(); ok && haveIO {
		b.ReportMetric(float64(after-written)/float64(n), "written-B/record")
	}
}

// BenchmarkDaysEveryEmployee reads every employee's latest days of a
// month, as the admin API's days without an employee and the month view
// do, from a ledger holding two months of 2,000 employees, each day in
// two versions; an op is the month's read, decoding included.
func BenchmarkDaysEveryEmployee(b *testing.B) {
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
	defer l.Close()
	first := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for e := 0; e < benchEmployees; e += 16 {
		recs := presentDays(first, e, 16, 61)
		for range 2 { // the second time, a new version of each day
			if _, err := l.PutDays(b.Context(), ledger.PrepareDays(recs), nil); err != nil {
				b.Fatal(err)
			}
			for i := range recs {
				recs[i].WorkedMinutes++
			}
		}
	}
	for b.Loop() {
		days, err := l.Days(b.Context(), "", "2026-11-01", "2026-11-30")
		if err != nil {
			b.Fatal(err)
		}
		if len(days) != benchEmployees*30 {
			b.Fatalf("Days = %d records, want %d", len(days), benchEmployees*30)
		}
	}
}

// presentDays is a day record of each of days days from first for each of
// emps employees from emp0 on, employee after employee: a standard shift
// worked in full.
func presentDays(first time.Time, emp0, emps, days int) []mapping.DayRecord {
	recs := make([]mapping.DayRecord, 0, emps*days)
	for e := emp0; e < emp0+emps; e++ {
		for d := range days {
			recs = append(recs, mapping.DayRecord{EmployeeID: fmt.Sprintf("E%05d", e), Date: first.AddDate(0, 0, d).Format(time.DateOnly),
				Shift: "standard", Status: mapping.DayPresent, WorkedMinutes: 540})
		}
	}
	return recs
}

// The company of BenchmarkIngestMorning and BenchmarkEvents: 2,000
// employees, each punching in before nine and out after six.
const benchEmployees = 2000

var benchDay0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

// companyPunch is employee emp's punch at the given time of day day.
func companyPunch(emp, day int, at time.Duration) mapping.Event {
	tm := benchDay0.AddDate(0, 0, day).Add(at)
	user := fmt.Sprintf("user%05d", emp)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/punch/%s-%d", user, tm.UnixMilli()),
		Kind: mapping.KindPunch, Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a",
		UserID: user, EmployeeID: fmt.Sprintf("E%05d", emp), Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaWebhook,
		Punch: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodApp},
	}
}

// ingestPunches stores events in one transaction, with their dirty days
// if dirty.
func ingestPunches(b *testing.B, l *sqlite.Ledger, events []mapping.Event, dirty bool) {
	prepared, err := ledger.PrepareEvents(events, nil)
	if err != nil {
		b.Fatal(err)
	}
	ib := ledger.IngestBatch{Events: prepared}
	if dirty {
		ib.Dirty = func(changed []mapping.Event) []mapping.EmployeeDay {
			days := make([]mapping.EmployeeDay, len(changed))
			for i, e := range changed {
				days[i] = mapping.EmployeeDay{EmployeeID: e.EmployeeID, Date: e.Time.Format(time.DateOnly)}
			}
			return days
		}
	}
	res, err := l.IngestBatches(b.Context(), []ledger.IngestBatch{ib})
	if err != nil {
		b.Fatal(err)
	}
	if res[0].Stored != len(events) {
		b.Fatalf("stored %d of %d", res[0].Stored, len(events))
	}
}

// companyHistory stores the company's first days days of punches, 500 a
// transaction, as reconciled already: they leave no dirty days.
func companyHistory(b *testing.B, l *sqlite.Ledger, days int) {
	var batch []mapping.Event
	for day := range days {
		for emp := range benchEmployees {
			batch = append(batch, companyPunch(emp, day, 9*time.Hour-time.Duration(emp%600)*time.Second),
				companyPunch(emp, day, 18*time.Hour+time.Duration(emp%900)*time.Second))
			if len(batch) == 500 {
				ingestPunches(b, l, batch, false)
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		ingestPunches(b, l, batch, false)
	}
}

// BenchmarkIngestMorning stores a morning's check-ins, 100 a transaction
// with their dirty days, into a ledger that already holds twenty working
// days of 2,000 employees (80,000 punches), and reports events per second
// and the bytes the process wrote per event. "in time order" sends them
// as a platform does, as people walk in; "user by user" sends the same
// punches sorted by user, as the load tool did before it sent them in time
// order. Until migration 11 every index an ingest wrote led with the user
// or the employee, and in time order each punch landed on a page of its
// own in each of them (docs/PERFORMANCE.md, "Punches in the order people
// make them", "Day-first indexes").
func BenchmarkIngestMorning(b *testing.B) {
	for _, order := range []string{"in time order", "user by user"} {
		b.Run(order, func(b *testing.B) {
			l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
			defer l.Close()
			companyHistory(b, l, 20)
			// Each morning's arrival: a fixed shuffle of the employees,
			// each arriving within the hour before nine.
			rng := rand.New(rand.NewPCG(1, 2))
			arrival := rng.Perm(benchEmployees)
			var morning []mapping.Event
			day, n := 20, 0
			written, haveIO := bytesWritten()
			for b.Loop() {
				if len(morning) == 0 {
					for rank, emp := range arrival {
						morning = append(morning, companyPunch(emp, day, 8*time.Hour+time.Duration(rank)*time.Hour/benchEmployees))
					}
					if order == "user by user" {
						slices.SortFunc(morning, func(a, b mapping.Event) int { return strings.Compare(a.UserID, b.UserID) })
					}
					day++
				}
				ingestPunches(b, l, morning[:100], true)
				morning = morning[100:]
				n += 100
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			if after, ok := bytesWritten(); ok && haveIO {
				b.ReportMetric(float64(after-written)/float64(n), "written-B/event")
			}
		})
	}
}

// BenchmarkEvents reads one employee's month of punches (44 of them) from
// a ledger of twenty-two days of 2,000 employees, employee after employee
// as reconciliation does; an op is one employee's read, decoding included.
func BenchmarkEvents(b *testing.B) {
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
	defer l.Close()
	companyHistory(b, l, 22)
	from, to := benchDay0, benchDay0.AddDate(0, 1, 0)
	emp := 0
	for b.Loop() {
		id := fmt.Sprintf("E%05d", emp%benchEmployees)
		events, err := l.Events(b.Context(), id, from, to)
		if err != nil {
			b.Fatal(err)
		}
		if len(events) != 44 {
			b.Fatalf("Events(%s) = %d events, want 44", id, len(events))
		}
		emp++
	}
}

// bytesWritten returns how many bytes the process has passed to write
// system calls (wchar in /proc/self/io), and false where the system does
// not tell. The ledger's writes are its WAL's pages and the checkpoints'
// copies of them, so the figure counts the index pages a commit dirties,
// which a time per operation on a shared machine shows only through noise.
func bytesWritten() (int64, bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// BenchmarkDirtyDaysBetween reads the dirty days of a month of 256
// employees at a time, as reconciliation does, from a ledger holding a
// month of 2,000 employees' dirty days, and reports employees per second.
func BenchmarkDirtyDaysBetween(b *testing.B) {
	const employees, days, chunk = 2000, 31, 256
	l := open(b, filepath.Join(b.TempDir(), "ledger.db"))
	defer l.Close()
	day0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	from, to := day0.Format(time.DateOnly), day0.AddDate(0, 0, days-1).Format(time.DateOnly)
	for d := range days {
		marked := make([]mapping.EmployeeDay, employees)
		for e := range marked {
			marked[e] = mapping.EmployeeDay{EmployeeID: fmt.Sprintf("E%05d", e), Date: day0.AddDate(0, 0, d).Format(time.DateOnly)}
		}
		if err := l.MarkDirty(b.Context(), marked); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	for b.Loop() {
		first := n % (employees / chunk) * chunk
		got, err := l.DirtyDaysBetween(b.Context(), fmt.Sprintf("E%05d", first), fmt.Sprintf("E%05d", first+chunk-1), from, to)
		if err != nil || len(got) != chunk*days {
			b.Fatalf("DirtyDaysBetween = %d days, %v; want %d", len(got), err, chunk*days)
		}
		n++
	}
	b.ReportMetric(float64(n*chunk)/b.Elapsed().Seconds(), "employees/s")
}
