package csvfile_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/csvfile"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

var update = flag.Bool("update", false, "rewrite golden files")

var cst = time.FixedZone("CST", 8*3600)

func day(emp, date string, status mapping.DayStatus, worked, version int) mapping.DayRecord {
	d := mapping.DayRecord{Schema: mapping.DaySchema, EmployeeID: emp, Date: date, Shift: "standard", Status: status, WorkedMinutes: worked, Version: version}
	if status == mapping.DayPresent {
		in, _ := time.ParseInLocation("2006-01-02 15:04", date+" 09:02", cst)
		out := in.Add(time.Duration(worked) * time.Minute)
		d.FirstIn, d.LastOut = &in, &out
	} else {
		d.Missing = []string{"in", "out"}
	}
	return d
}

func deliver(t *testing.T, s *csvfile.Sink, rec mapping.DayRecord) {
	t.Helper()
	if err := s.Deliver(t.Context(), connectors.Delivery{Record: rec, IdempotencyKey: connectors.IdempotencyKey(s.Name(), rec)}); err != nil {
		t.Fatalf("Deliver %s %s v%d: %v", rec.EmployeeID, rec.Date, rec.Version, err)
	}
}

func newSink(t *testing.T, dir string, c *clocktest.Clock, mutate func(*csvfile.Config)) *csvfile.Sink {
	t.Helper()
	cfg := csvfile.DefaultConfig()
	cfg.Dir, cfg.Timezone, cfg.Formats = dir, "Asia/Shanghai", []string{"csv", "xlsx"}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := csvfile.NewSink("payroll", cfg, connectors.Deps{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// files lists the directory's visible files.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func golden(t *testing.T, got []byte, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from testdata/%s (go test -update to accept):\n%s", name, name, got)
	}
}

// TestPeriodExportAndAdjustments follows November through its close and
// two corrections: the period file is written once, when it closes, and
// never again; each day's corrections go to that day's adjustments file.
func TestPeriodExportAndAdjustments(t *testing.T) {
	dir := t.TempDir()
	c := clocktest.New(time.Date(2026, 11, 21, 2, 0, 0, 0, cst))
	s := newSink(t, dir, c, nil)
	deliver(t, s, day("E1002", "2026-11-20", mapping.DayAbsent, 0, 1))
	deliver(t, s, day("E1001", "2026-11-20", mapping.DayPresent, 543, 1))
	deliver(t, s, day("E1001", "2026-11-19", mapping.DayPresent, 530, 1))
	deliver(t, s, day("E1001", "2026-11-19", mapping.DayPresent, 540, 2)) // corrected before the close
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files before the period closed: %v", got)
	}

	// December 3rd, 02:00: November closed at Dec 1 00:00 + 72h = Dec 4.
	c.Set(time.Date(2026, 12, 3, 2, 0, 0, 0, cst))
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files before close_after passed: %v", got)
	}
	// December 4th: the night's push delivers December's first day, and
	// its flush exports November.
	c.Set(time.Date(2026, 12, 4, 2, 0, 0, 0, cst))
	deliver(t, s, day("E1001", "2026-12-01", mapping.DayPresent, 480, 1))
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files before the push's flush: %v", got)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := files(t, dir), []string{"attendance-2026-11.csv", "attendance-2026-11.xlsx"}; !equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	main, err := os.ReadFile(filepath.Join(dir, "attendance-2026-11.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, main, "attendance-2026-11.csv")
	checkXLSX(t, filepath.Join(dir, "attendance-2026-11.xlsx"))
	stat0, _ := os.Stat(filepath.Join(dir, "attendance-2026-11.csv"))

	// A redelivery of an exported version changes nothing.
	deliver(t, s, day("E1001", "2026-11-20", mapping.DayPresent, 543, 1))
	// A late punch corrects November 20th on December 5th.
	c.Set(time.Date(2026, 12, 5, 2, 0, 0, 0, cst))
	deliver(t, s, day("E1002", "2026-11-20", mapping.DayPresent, 300, 2))
	deliver(t, s, day("E1001", "2026-11-20", mapping.DayPresent, 550, 2))
	if err := s.Flush(t.Context()); err != nil { // the push's, after its deliveries
		t.Fatal(err)
	}
	// Another the day after: a new adjustments file, written by the flush
	// of a new sink on the same directory (a restart before the flush).
	c.Set(time.Date(2026, 12, 6, 2, 0, 0, 0, cst))
	deliver(t, s, day("E1001", "2026-11-20", mapping.DayPresent, 555, 3))
	if err := newSink(t, dir, c, nil).Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"attendance-2026-11-adjustments-2026-12-05.csv", "attendance-2026-11-adjustments-2026-12-05.xlsx",
		"attendance-2026-11-adjustments-2026-12-06.csv", "attendance-2026-11-adjustments-2026-12-06.xlsx",
		"attendance-2026-11.csv", "attendance-2026-11.xlsx",
	}
	if got := files(t, dir); !equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	adj, _ := os.ReadFile(filepath.Join(dir, "attendance-2026-11-adjustments-2026-12-05.csv"))
	golden(t, adj, "attendance-2026-11-adjustments-2026-12-05.csv")
	after, _ := os.ReadFile(filepath.Join(dir, "attendance-2026-11.csv"))
	stat1, _ := os.Stat(filepath.Join(dir, "attendance-2026-11.csv"))
	if !bytes.Equal(after, main) || !stat1.ModTime().Equal(stat0.ModTime()) {
		t.Fatal("the closed period's file was rewritten")
	}

	// A new sink on the same directory (a restart) knows what it holds.
	s2 := newSink(t, dir, c, nil)
	deliver(t, s2, day("E1001", "2026-11-20", mapping.DayPresent, 555, 3))
	c.Set(time.Date(2027, 1, 4, 2, 0, 0, 0, cst))
	if err := s2.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !contains(got, "attendance-2026-12.csv") || len(got) != len(want)+2 {
		t.Fatalf("after a restart and December's close: %v", got)
	}
}

func checkXLSX(t *testing.T, path string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "工号" || rows[1][0] != "E1001" || rows[1][6] != "9" {
		t.Fatalf("xlsx rows %q", rows)
	}
	typ, err := f.GetCellType("2026-11", "G2")
	if err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Fatalf("worked hours cell type %v, %v; want a number", typ, err)
	}
}

func TestHalfMonthAndNoBOM(t *testing.T) {
	dir := t.TempDir()
	c := clocktest.New(time.Date(2026, 11, 10, 2, 0, 0, 0, cst))
	s := newSink(t, dir, c, func(cfg *csvfile.Config) {
		cfg.Period, cfg.CloseAfter, cfg.BOM, cfg.Formats, cfg.Prefix = csvfile.PeriodHalfMonth, 0, false, []string{"csv"}, "hq"
	})
	deliver(t, s, day("E1", "2026-11-09", mapping.DayPresent, 480, 1))
	c.Set(time.Date(2026, 11, 17, 2, 0, 0, 0, cst))
	deliver(t, s, day("E1", "2026-11-16", mapping.DayPresent, 480, 1))
	c.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, cst))
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := files(t, dir), []string{"hq-2026-11-01_15.csv", "hq-2026-11-16_30.csv"}; !equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hq-2026-11-16_30.csv"))
	if bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) || !bytes.HasPrefix(b, []byte("工号,")) {
		t.Fatalf("bom: false still wrote one: %q", b[:8])
	}
}

func TestRecordErrors(t *testing.T) {
	dir := t.TempDir()
	c := clocktest.New(time.Date(2026, 11, 21, 2, 0, 0, 0, cst))
	m, err := mapping.Parse([]byte("input: punchbridge.day/v1\nwhen: {path: status, equals: [present, absent]}\nfields:\n  id: {from: employee_id, transforms: [required]}\n  d: date\n"), "cols.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := newSink(t, dir, c, func(cfg *csvfile.Config) { cfg.Mapping = presets.Use(m) })
	rec := day("", "2026-11-20", mapping.DayPresent, 480, 1)
	err = s.Deliver(t.Context(), connectors.Delivery{Record: rec, IdempotencyKey: "k"})
	if !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "id: required (line 4)") {
		t.Fatalf("Deliver = %v, want a permanent mapping error", err)
	}
	rec = day("E1", "2026-11-20", mapping.DayRestDay, 0, 1)
	if err := s.Deliver(t.Context(), connectors.Delivery{Record: rec, IdempotencyKey: "k2"}); err != nil {
		t.Fatalf("a record the mapping skips: %v", err)
	}
	rec.Date = "20.11.2026"
	if err := s.Deliver(t.Context(), connectors.Delivery{Record: rec, IdempotencyKey: "k3"}); !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("bad date: %v", err)
	}
	c.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, cst))
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("files %v: no record was kept", got)
	}
}

func TestConcurrentDeliveries(t *testing.T) {
	dir := t.TempDir()
	c := clocktest.New(time.Date(2026, 12, 10, 2, 0, 0, 0, cst))
	s := newSink(t, dir, c, func(cfg *csvfile.Config) { cfg.Formats = []string{"csv"} })
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			rec := day("E"+string(rune('A'+i%26))+string(rune('0'+i/26)), "2026-11-20", mapping.DayPresent, 480, 1)
			if err := s.Deliver(t.Context(), connectors.Delivery{Record: rec, IdempotencyKey: rec.EmployeeID}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// November had closed but was not exported: the flush after the
	// deliveries exports every one of them in its file.
	main, err := os.ReadFile(filepath.Join(dir, "attendance-2026-11.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(main), "\r\n") - 1; rows != 40 {
		t.Fatalf("%d rows in the export, want 40", rows)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("files %v, want the export alone", got)
	}
	for _, f := range files(t, dir) {
		if strings.Contains(f, ".tmp-") {
			t.Fatalf("a temporary file was left: %s", f)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for name, mutate := range map[string]func(*csvfile.Config){
		"no dir":        func(c *csvfile.Config) { c.Dir = "" },
		"no timezone":   func(c *csvfile.Config) { c.Timezone = "" },
		"bad timezone":  func(c *csvfile.Config) { c.Timezone = "Mars/Base" },
		"bad period":    func(c *csvfile.Config) { c.Period = "week" },
		"bad format":    func(c *csvfile.Config) { c.Formats = []string{"pdf"} },
		"no formats":    func(c *csvfile.Config) { c.Formats = nil },
		"twice":         func(c *csvfile.Config) { c.Formats = []string{"csv", "csv"} },
		"path prefix":   func(c *csvfile.Config) { c.Prefix = "../x" },
		"close_after":   func(c *csvfile.Config) { c.CloseAfter = -time.Hour },
		"dir not there": func(c *csvfile.Config) { c.Dir = filepath.Join(c.Dir, "missing") },
	} {
		cfg := csvfile.DefaultConfig()
		cfg.Dir, cfg.Timezone = t.TempDir(), "Asia/Shanghai"
		mutate(&cfg)
		if _, err := csvfile.NewSink("p", cfg, connectors.Deps{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestNewFromConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	build := func(src string) error {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		var c config.Component
		if err := doc.Content[0].Decode(&c); err != nil {
			t.Fatal(err)
		}
		c.File = filepath.Join(dir, "punchbridge.yaml")
		_, err := csvfile.New(c, connectors.Deps{})
		return err
	}
	if err := build("name: payroll\ntype: csvfile\ndir: out\ntimezone: Asia/Shanghai\nformats: [xlsx]\nbom: false\n"); err != nil {
		t.Fatalf("a relative dir is read from the config's directory: %v", err)
	}
	for src, want := range map[string]string{
		"name: p\ntype: csvfile\ndir: out\ntimezone: Asia/Shanghai\nmapping: preset:frappe-checkin\n": "punchbridge.yaml:5: sink \"p\": mapping preset:frappe-checkin reads punchbridge.event/v1",
		"name: p\ntype: csvfile\ndir: out\n":                                          "timezone",
		"name: p\ntype: csvfile\ndir: out\ntimezone: Asia/Shanghai\nperiod: weekly\n": "punchbridge.yaml:5:",
		"name: p\ntype: csvfile\ndir: out\ntimezone: Asia/Shanghai\nmapping: {input: punchbridge.day/v1, fields: {a: {from: b, transforms: [trimm]}}}\n": "punchbridge.yaml:5: fields.a: unknown transform \"trimm\"",
	} {
		if err := build(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}
