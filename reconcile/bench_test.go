package reconcile

import (
	"fmt"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// BenchmarkReconcile1M reconciles 1,000,000 punches: 10,000 employees × 25
// days × 4 punches (in, lunch out, lunch in, out) on a 09:00–18:00
// every_pair shift, one Employee call per employee for the whole range,
// reporting ns/punch and allocations.
//
// Measured 2026-11-21 on 2 cores shared with other work (load 2.3–2.8),
// one used:
//
//	go test -run '^$' -bench Reconcile1M -benchtime 3x -cpu 1 ./reconcile
//	BenchmarkReconcile1M  3  353489173 ns/op  353.5 ns/punch  196721200 B/op  160036 allocs/op
//
// Four runs gave 353–389 ms for the million punches (target: under 1 s)
// and 197 MB allocated (target: under 300 MB), of which the 250,000
// output records take about a third. Allocations are per employee and per
// record, never per punch.
func BenchmarkReconcile1M(b *testing.B) {
	const (
		employees = 10_000
		days      = 25
	)
	r := testRules()
	r.Assign.RestDays = nil
	s := r.Shifts["standard"]
	s.WorkingHours = "every_pair"
	r.Shifts["standard"] = s
	e := compile(b, r)

	// The punch payloads are shared: the engine only reads events.
	lat, lng, acc := officeLat, officeLng, 25.0
	payload := [4]*mapping.Punch{}
	for i, dir := range []mapping.Direction{mapping.DirIn, mapping.DirOut, mapping.DirIn, mapping.DirOut} {
		payload[i] = &mapping.Punch{Direction: dir, Method: mapping.MethodApp, Lat: &lat, Lng: &lng, AccuracyM: &acc, PlatformResult: "normal"}
	}
	first := time.Date(2026, 11, 2, 0, 0, 0, 0, shanghai)
	offsets := [4]time.Duration{8*time.Hour + 50*time.Minute, 12 * time.Hour, 13 * time.Hour, 18*time.Hour + 5*time.Minute}
	ids := make([]string, employees)
	byEmp := make([][]mapping.Event, employees)
	n := 0
	for i := range employees {
		ids[i] = fmt.Sprintf("E%05d", i)
		evs := make([]mapping.Event, 0, days*4)
		for d := range days {
			midnight := first.AddDate(0, 0, d)
			for k, off := range offsets {
				n++
				tm := midnight.Add(off + time.Duration(n%97)*time.Second)
				evs = append(evs, mapping.Event{
					Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/punch/%09d", n), Kind: mapping.KindPunch,
					Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: ids[i], EmployeeID: ids[i],
					Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaWebhook, Punch: payload[k],
				})
			}
		}
		byEmp[i] = evs
	}
	from, to := "2026-11-02", first.AddDate(0, 0, days-1).Format(time.DateOnly)
	wm := first.AddDate(0, 0, days+1)

	b.ReportAllocs()
	b.ResetTimer()
	records := 0
	for b.Loop() {
		records = 0
		for i, emp := range ids {
			recs, err := e.Employee(emp, byEmp[i], from, to, wm)
			if err != nil {
				b.Fatal(err)
			}
			records += len(recs)
		}
	}
	b.StopTimer()
	if records != employees*days {
		b.Fatalf("%d records, want %d", records, employees*days)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/punch")
}
