package ledgertest

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

func day(employee, date string) mapping.EmployeeDay {
	return mapping.EmployeeDay{EmployeeID: employee, Date: date}
}

func dirty(t *testing.T, l ledger.Ledger) []mapping.EmployeeDay {
	t.Helper()
	got, err := l.DirtyDays(t.Context())
	if err != nil {
		t.Fatalf("DirtyDays: %v", err)
	}
	return got
}

// dirtyBetween lists the dirty days of employees first..last dated
// from..to, sorted by employee then date.
func dirtyBetween(t *testing.T, l ledger.Ledger, first, last, from, to string) []ledger.DirtyDay {
	t.Helper()
	got, err := l.DirtyDaysBetween(t.Context(), first, last, from, to)
	if err != nil {
		t.Fatalf("DirtyDaysBetween(%s, %s, %s, %s): %v", first, last, from, to, err)
	}
	slices.SortFunc(got, func(a, b ledger.DirtyDay) int {
		return cmp.Or(strings.Compare(a.EmployeeID, b.EmployeeID), strings.Compare(a.Date, b.Date))
	})
	return got
}

func dirtyDay(employee, date string, generation int64) ledger.DirtyDay {
	return ledger.DirtyDay{EmployeeDay: day(employee, date), Generation: generation}
}

var dirtyTests = []test{
	{"dirty days are listed once each, sorted, until cleared", func(t *testing.T, l ledger.Ledger) {
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{day("E2", "2026-11-20"), day("E1", "2026-11-21"), day("E1", "2026-11-20")}); err != nil {
			t.Fatal(err)
		}
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{day("E1", "2026-11-20")}); err != nil {
			t.Fatal(err)
		}
		want := []mapping.EmployeeDay{day("E1", "2026-11-20"), day("E1", "2026-11-21"), day("E2", "2026-11-20")}
		if got := dirty(t, l); !slices.Equal(got, want) {
			t.Errorf("DirtyDays = %v, want %v", got, want)
		}
		// A zero generation clears whatever the day's is; a day that is
		// not dirty (E3) is ignored.
		if err := l.ClearDirty(t.Context(), []ledger.DirtyDay{dirtyDay("E1", "2026-11-20", 0), dirtyDay("E2", "2026-11-20", 0), dirtyDay("E3", "2026-11-20", 0)}); err != nil {
			t.Fatal(err)
		}
		if got := dirty(t, l); !slices.Equal(got, want[1:2]) {
			t.Errorf("DirtyDays after ClearDirty = %v, want %v", got, want[1:2])
		}
	}},
	{"a range of employees' dirty days is listed with their generations", func(t *testing.T, l ledger.Ledger) {
		// A range across a month's and a year's end, and employees on
		// either side of the range with days on the same dates. Ids
		// compare bytewise: E10 lies between E1 and E2.
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{
			day("E1", "2027-01-02"), day("E1", "2026-12-30"), day("E1", "2026-12-01"), day("E1", "2027-01-05"),
			day("E0", "2026-12-31"), day("E2", "2027-01-02"), day("E10", "2026-12-31"),
		}); err != nil {
			t.Fatal(err)
		}
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{day("E1", "2027-01-02")}); err != nil {
			t.Fatal(err)
		}
		got := dirtyBetween(t, l, "E1", "E10", "2026-12-29", "2027-01-04")
		want := []ledger.DirtyDay{dirtyDay("E1", "2026-12-30", 1), dirtyDay("E1", "2027-01-02", 2), dirtyDay("E10", "2026-12-31", 1)}
		if !slices.Equal(got, want) {
			t.Errorf("DirtyDaysBetween(E1, E10, 2026-12-29, 2027-01-04) = %v, want %v", got, want)
		}
		// The bounds are inclusive.
		got = dirtyBetween(t, l, "E1", "E1", "2026-12-01", "2027-01-05")
		if len(got) != 4 || got[0].Date != "2026-12-01" || got[3].Date != "2027-01-05" {
			t.Errorf("DirtyDaysBetween(E1, E1, 2026-12-01, 2027-01-05) = %v, want E1's four days", got)
		}
		if got := dirtyBetween(t, l, "E1", "E1", "2027-01-03", "2027-01-02"); len(got) != 0 {
			t.Errorf("DirtyDaysBetween with from after to = %v, want none", got)
		}
		if got := dirtyBetween(t, l, "E3", "E9", "2026-12-01", "2027-01-05"); len(got) != 0 {
			t.Errorf("DirtyDaysBetween of employees with none = %v, want none", got)
		}
		for _, r := range [][4]string{{"", "E1", "2026-12-01", "2026-12-02"}, {"E1", "", "2026-12-01", "2026-12-02"},
			{"E1", "E1", "01.12.2026", "2026-12-02"}, {"E1", "E1", "2026-12-01", ""}} {
			if _, err := l.DirtyDaysBetween(t.Context(), r[0], r[1], r[2], r[3]); err == nil {
				t.Errorf("DirtyDaysBetween(%q) succeeded, want an error", r)
			}
		}
	}},
	{"dirty employees are listed once each with their earliest date", func(t *testing.T, l ledger.Ledger) {
		if got, err := l.DirtyEmployees(t.Context()); err != nil || len(got) != 0 {
			t.Fatalf("DirtyEmployees of a new ledger = %v, %v; want none", got, err)
		}
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{
			day("E2", "2026-11-21"), day("E1", "2026-11-22"), day("E2", "2026-10-31"), day("E1", "2026-11-20"), day("E10", "2026-11-21"),
		}); err != nil {
			t.Fatal(err)
		}
		got, err := l.DirtyEmployees(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.DirtyEmployee{{EmployeeID: "E1", Earliest: "2026-11-20"}, {EmployeeID: "E10", Earliest: "2026-11-21"}, {EmployeeID: "E2", Earliest: "2026-10-31"}}
		if !slices.Equal(got, want) {
			t.Errorf("DirtyEmployees = %v, want %v", got, want)
		}
	}},
	{"a day marked again after it was listed survives ClearDirty", func(t *testing.T, l ledger.Ledger) {
		d := day("E1", "2026-11-20")
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{d}); err != nil {
			t.Fatal(err)
		}
		listed := dirtyBetween(t, l, "E1", "E1", "2026-11-20", "2026-11-20")
		// A late punch arrives while the day is being recomputed.
		if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{d}); err != nil {
			t.Fatal(err)
		}
		if err := l.ClearDirty(t.Context(), listed); err != nil {
			t.Fatal(err)
		}
		if got := dirty(t, l); !slices.Equal(got, []mapping.EmployeeDay{d}) {
			t.Fatalf("DirtyDays = %v, want %v still dirty", got, d)
		}
		relisted := dirtyBetween(t, l, "E1", "E1", "2026-11-20", "2026-11-20")
		if len(relisted) != 1 || relisted[0].Generation <= listed[0].Generation {
			t.Fatalf("listed again = %v, want a generation above %d", relisted, listed[0].Generation)
		}
		if err := l.ClearDirty(t.Context(), relisted); err != nil {
			t.Fatal(err)
		}
		if got := dirty(t, l); len(got) != 0 {
			t.Errorf("DirtyDays after the second ClearDirty = %v, want none", got)
		}
	}},
	{"a malformed day is refused", func(t *testing.T, l ledger.Ledger) {
		for _, d := range []mapping.EmployeeDay{day("", "2026-11-20"), day("E1", "20.11.2026"), day("E1", "")} {
			if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{d}); err == nil {
				t.Errorf("MarkDirty(%v) succeeded", d)
			}
		}
		if got := dirty(t, l); len(got) != 0 {
			t.Errorf("DirtyDays = %v, want none", got)
		}
		// Clearing one does nothing, and is no error.
		if err := l.ClearDirty(t.Context(), []ledger.DirtyDay{dirtyDay("E1", "20.11.2026", 1)}); err != nil {
			t.Errorf("ClearDirty of a malformed day: %v", err)
		}
	}},
}

// record returns a computed day record: present, worked minutes as given.
func record(employee, date, shift string, worked int) mapping.DayRecord {
	in := time.Date(2026, 11, 20, 9, 2, 11, 0, cst)
	out := in.Add(time.Duration(worked) * time.Minute)
	return mapping.DayRecord{
		Schema: mapping.DaySchema, EmployeeID: employee, Date: date, Shift: shift,
		Status: mapping.DayPresent, FirstIn: &in, LastOut: &out, WorkedMinutes: worked,
		Events: []string{"dingtalk/ding5f3a/punch/1", "dingtalk/ding5f3a/punch/2"},
	}
}

func putDay(t *testing.T, l ledger.Ledger, rec mapping.DayRecord, wantVersion int, wantChanged bool) mapping.DayRecord {
	t.Helper()
	got, changed, err := l.PutDay(t.Context(), rec)
	if err != nil {
		t.Fatalf("PutDay: %v", err)
	}
	if got.Version != wantVersion || changed != wantChanged {
		t.Errorf("PutDay(%s %d min) = version %d changed %v, want %d %v", rec.Date, rec.WorkedMinutes, got.Version, changed, wantVersion, wantChanged)
	}
	if got.ContentHash() != rec.ContentHash() {
		t.Errorf("PutDay returned other content than it was given:\n got %+v\nwant %+v", got, rec)
	}
	return got
}

// sameDays compares records by key, version and content.
func sameDays(t *testing.T, what string, got, want []mapping.DayRecord) {
	t.Helper()
	type id struct {
		key     mapping.DayKey
		version int
		hash    string
	}
	ids := func(rs []mapping.DayRecord) []id {
		out := make([]id, len(rs))
		for i, r := range rs {
			out[i] = id{r.Key(), r.Version, r.ContentHash()}
		}
		return out
	}
	if g, w := ids(got), ids(want); !slices.Equal(g, w) {
		t.Errorf("%s:\n got %v\nwant %v", what, g, w)
	}
}

func versioned(rec mapping.DayRecord, v int) mapping.DayRecord {
	rec.Version = v
	return rec
}

var dayTests = []test{
	{"PutDay keeps the version for the same content and adds one for new content", func(t *testing.T, l ledger.Ledger) {
		v1 := record("E1", "2026-11-20", "standard", 540)
		putDay(t, l, v1, 1, true)
		putDay(t, l, versioned(v1, 7), 1, false) // the caller's version is ignored
		v2 := record("E1", "2026-11-20", "standard", 543)
		putDay(t, l, v2, 2, true)
		putDay(t, l, v2, 2, false)
		// Going back to the first content is a change from the latest.
		putDay(t, l, v1, 3, true)
		got, err := l.Day(t.Context(), v1.Key())
		if err != nil {
			t.Fatal(err)
		}
		sameDays(t, "Day", []mapping.DayRecord{got}, []mapping.DayRecord{versioned(v1, 3)})
		hist, err := l.DayHistory(t.Context(), v1.Key())
		if err != nil {
			t.Fatal(err)
		}
		sameDays(t, "DayHistory", hist, []mapping.DayRecord{versioned(v1, 1), versioned(v2, 2), versioned(v1, 3)})
	}},
	{"days are versioned per employee, date and shift", func(t *testing.T, l ledger.Ledger) {
		putDay(t, l, record("E1", "2026-11-20", "standard", 540), 1, true)
		putDay(t, l, record("E1", "2026-11-20", "night", 540), 1, true)
		putDay(t, l, record("E1", "2026-11-21", "standard", 540), 1, true)
		putDay(t, l, record("E2", "2026-11-20", "standard", 540), 1, true)
	}},
	{"a ledger without days lists none", func(t *testing.T, l ledger.Ledger) {
		for _, employee := range []string{"", "E1"} {
			got, err := l.Days(t.Context(), employee, "2026-11-01", "2026-11-30")
			if err != nil || len(got) != 0 {
				t.Errorf("Days(%q) of a new ledger = %v, %v; want none, nil", employee, got, err)
			}
		}
	}},
	{"an unknown day is not found and has no history", func(t *testing.T, l ledger.Ledger) {
		key := mapping.DayKey{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard"}
		if _, err := l.Day(t.Context(), key); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("Day = %v, want ErrNotFound", err)
		}
		hist, err := l.DayHistory(t.Context(), key)
		if err != nil || len(hist) != 0 {
			t.Errorf("DayHistory = %d records, %v; want none, nil", len(hist), err)
		}
	}},
	{"a malformed day record is refused", func(t *testing.T, l ledger.Ledger) {
		for _, rec := range []mapping.DayRecord{
			record("", "2026-11-20", "standard", 1),
			record("E1", "2026/11/20", "standard", 1),
			record("E1", "2026-11-20", "", 1),
		} {
			if _, _, err := l.PutDay(t.Context(), rec); err == nil {
				t.Errorf("PutDay(%v) succeeded", rec.Key())
			}
		}
	}},
	{"Days lists latest versions in an inclusive date range", func(t *testing.T, l ledger.Ledger) {
		e1d19 := putDay(t, l, record("E1", "2026-11-19", "standard", 500), 1, true)
		e1d20 := putDay(t, l, record("E1", "2026-11-20", "standard", 500), 1, true)
		e1d20 = putDay(t, l, record("E1", "2026-11-20", "standard", 510), 2, true)
		e1d20n := putDay(t, l, record("E1", "2026-11-20", "night", 480), 1, true)
		e1d22 := putDay(t, l, record("E1", "2026-11-22", "standard", 500), 1, true)
		e2d21 := putDay(t, l, record("E2", "2026-11-21", "standard", 500), 1, true)
		putDay(t, l, record("E2", "2026-11-23", "standard", 500), 1, true)
		for _, tc := range []struct {
			employee, from, to string
			want               []mapping.DayRecord
		}{
			{"E1", "2026-11-19", "2026-11-22", []mapping.DayRecord{e1d19, e1d20n, e1d20, e1d22}},
			{"E1", "2026-11-20", "2026-11-21", []mapping.DayRecord{e1d20n, e1d20}},
			{"", "2026-11-20", "2026-11-22", []mapping.DayRecord{e1d20n, e1d20, e1d22, e2d21}},
			{"E3", "2026-11-01", "2026-11-30", nil},
			{"", "2026-11-24", "2026-11-30", nil},
		} {
			got, err := l.Days(t.Context(), tc.employee, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			sameDays(t, "Days("+tc.employee+", "+tc.from+", "+tc.to+")", got, tc.want)
		}
	}},
}

var checkpointTests = []test{
	{"checkpoints are kept per connector and overwritten", func(t *testing.T, l ledger.Ledger) {
		if _, ok, err := l.Checkpoint(t.Context(), "dingtalk-hq"); ok || err != nil {
			t.Fatalf("Checkpoint of a new connector: ok=%v err=%v, want false, nil", ok, err)
		}
		steps := []struct {
			connector string
			at        time.Time
		}{
			{"dingtalk-hq", at(20, 9, 0)},
			{"wecom-sh", at(19, 0, 0)},
			{"dingtalk-hq", at(21, 9, 0)},
		}
		for _, s := range steps {
			if err := l.SetCheckpoint(t.Context(), s.connector, s.at); err != nil {
				t.Fatal(err)
			}
		}
		for connector, want := range map[string]time.Time{"dingtalk-hq": at(21, 9, 0), "wecom-sh": at(19, 0, 0)} {
			got, ok, err := l.Checkpoint(t.Context(), connector)
			if err != nil || !ok || !got.Equal(want) {
				t.Errorf("Checkpoint(%s) = %v %v %v, want %v", connector, got, ok, err, want)
			}
		}
	}},
}
