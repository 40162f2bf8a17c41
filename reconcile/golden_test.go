package reconcile

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

var (
	update     = flag.Bool("update", false, "rewrite the golden files under testdata/")
	dumpEvents = flag.String("dump-events", "", "write the test company's events as JSON Lines to this file (to try `punchbridge reconcile` on them)")
)

// companyAsOf is the golden run's watermark: Monday 2026-11-30 20:00, when
// the 30th's day shifts are final and its evening and night shifts are not.
var companyAsOf = time.Date(2026, 11, 30, 20, 0, 0, 0, shanghai)

// reconcileCompany runs the engine over the company's month, roster order.
func reconcileCompany(t testing.TB, e *Engine, events []mapping.Event) []mapping.DayRecord {
	t.Helper()
	var out []mapping.DayRecord
	for _, emp := range companyRoster() {
		recs, err := e.Employee(emp, events, companyMonth+"-01", companyMonth+"-30", companyAsOf)
		if err != nil {
			t.Fatalf("Employee(%s): %v", emp, err)
		}
		out = append(out, recs...)
	}
	return out
}

func encodeJSONL(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	switch v := v.(type) {
	case []mapping.DayRecord:
		for _, r := range v {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
	case []mapping.Event:
		for _, ev := range v {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	return buf.Bytes()
}

// TestGoldenCompanyMonth reconciles a month of the 50-employee test company
// and compares the day records with testdata/company/days.jsonl. Run with
// -update after an intended change and review the diff.
func TestGoldenCompanyMonth(t *testing.T) {
	e := compile(t, loadCompanyRules(t))
	events := companyEvents(t, e)
	// The generated events must be valid common-schema events, as they
	// would arrive from the ledger.
	for _, ev := range events {
		b, _ := ev.Marshal()
		if _, err := mapping.DecodeEvent(b); err != nil {
			t.Fatalf("generated an invalid event: %v", err)
		}
	}
	if *dumpEvents != "" {
		if err := os.WriteFile(*dumpEvents, encodeJSONL(t, events), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recs := reconcileCompany(t, e, events)
	for i := range recs {
		recs[i].Version = 1
		if err := mapping.ValidateDay(recs[i]); err != nil {
			t.Errorf("invalid record: %v", err)
		}
	}
	got := encodeJSONL(t, recs)
	const golden = "testdata/company/days.jsonl"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenCompanyMonth -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range max(len(gl), len(wl)) {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Fatalf("day records differ from %s at line %d:\n got: %s\nwant: %s\n(run with -update after an intended change)", golden, i+1, g, w)
			}
		}
	}

	// The month must exercise every status and the anomalies it was built
	// to show; a generator change that loses one makes the golden weaker.
	seen := map[string]bool{}
	for _, r := range recs {
		seen[string(r.Status)] = true
		for _, a := range r.Anomalies {
			seen[a.Type] = true
		}
		if r.Late {
			seen["late"] = true
		}
		if r.EarlyExit {
			seen["early_exit"] = true
		}
		if r.OvertimeMinutes > 0 {
			seen["overtime"] = true
		}
	}
	for _, want := range []string{"present", "half_day", "absent", "on_leave", "rest_day", "holiday", "late", "early_exit", "overtime",
		AnomalyUnassignedPunch, AnomalyUnknownDirection, AnomalyDuplicatePunch, AnomalyMakeupPending, AnomalyOfflineUpload,
		AnomalyLocationJump, AnomalyOutside, AnomalyDeviceException} {
		if !seen[want] {
			t.Errorf("the company month has no %s", want)
		}
	}
}

// TestOrderAndDuplicateIndependence: shuffling the input and adding copies
// of events (re-sent by webhook and pull alike) never changes any output.
func TestOrderAndDuplicateIndependence(t *testing.T) {
	e := compile(t, loadCompanyRules(t))
	events := companyEvents(t, e)
	want := encodeJSONL(t, reconcileCompany(t, e, events))
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 99))
		mixed := slices.Clone(events)
		for range len(events) / 5 {
			cp := events[rng.IntN(len(events))]
			cp.Via, cp.ReceivedAt = mapping.ViaPull, cp.ReceivedAt.Add(time.Duration(rng.IntN(3600))*time.Second)
			mixed = append(mixed, cp)
		}
		rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		if got := encodeJSONL(t, reconcileCompany(t, e, mixed)); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: shuffled input with %d copies gives different records", seed, len(mixed)-len(events))
		}
	}
}
