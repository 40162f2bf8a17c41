package explain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/reconcile"
)

var shanghai = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// fixture is a ledger, the rules engine and one source, "dingtalk-hq".
type fixture struct {
	ctx context.Context
	l   ledger.Ledger
	e   *reconcile.Engine
	n   int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e, err := reconcile.Compile(reconcile.Rules{
		Timezone: "Asia/Shanghai",
		Shifts: map[string]reconcile.Shift{"standard": {
			Start: "09:00", End: "18:00", CheckinOpensBefore: time.Hour, CheckoutClosesAfter: time.Hour,
			LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute, HalfDayBelow: 4 * time.Hour, AbsentBelow: 2 * time.Hour,
			Directions: "strict", WorkingHours: "first_last",
		}},
		Assign: reconcile.Assign{Default: reconcile.ShiftList{"standard"}, RestDays: []string{"sat", "sun"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ctx: ctx, l: l, e: e}
}

func (f *fixture) event(kind mapping.Kind, emp, when string) mapping.Event {
	f.n++
	tm := at(when)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/%s/%03d", kind, f.n), Kind: kind,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u-" + emp, EmployeeID: emp,
		Time: tm, ReceivedAt: tm.Add(time.Minute), Via: mapping.ViaWebhook,
	}
}

func (f *fixture) punch(emp, when string, dir mapping.Direction) mapping.Event {
	ev := f.event(mapping.KindPunch, emp, when)
	ev.Punch = &mapping.Punch{Direction: dir, Method: mapping.MethodApp, PlatformResult: "normal"}
	return ev
}

func (f *fixture) makeup(emp, when string, dir mapping.Direction) mapping.Event {
	ev := f.event(mapping.KindMakeup, emp, when)
	ev.ReceivedAt, ev.Via = ev.Time.Add(48*time.Hour), mapping.ViaPull
	ev.Makeup = &mapping.Makeup{Direction: dir, Status: mapping.StatusApproved, ApprovalID: "mk-1"}
	return ev
}

func (f *fixture) append(t *testing.T, evs ...mapping.Event) {
	t.Helper()
	if _, err := f.l.Append(f.ctx, evs); err != nil {
		t.Fatal(err)
	}
}

// reconcile stores the employee's final records of date, as the sync job
// does.
func (f *fixture) reconcile(t *testing.T, emp, date string, wm time.Time) {
	t.Helper()
	from, to := f.e.EventSpan(date, date)
	evs, err := f.l.Events(f.ctx, emp, from, to)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := f.e.Employee(emp, evs, date, date, wm)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, _, err := f.l.PutDay(f.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) checkpoint(t *testing.T, name, when string) {
	t.Helper()
	if err := f.l.SetCheckpoint(f.ctx, name, at(when)); err != nil {
		t.Fatal(err)
	}
}

func ruleDetail(t *testing.T, s Shift, rule string) string {
	t.Helper()
	for _, r := range s.Rules {
		if r.Rule == rule {
			return r.Outcome + ": " + r.Detail
		}
	}
	t.Fatalf("no rule %s", rule)
	return ""
}

func text(t *testing.T, r Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Text(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAbsentWithoutEvents: an employee with no punches on a final work
// day is explained as absent, with nothing stored yet.
func TestAbsentWithoutEvents(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, "dingtalk-hq", "2026-11-21 02:00:00")
	r, err := Day(f.ctx, f.l, f.e, Checkpoints(f.l, []string{"dingtalk-hq"}), "E1001", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shifts) != 1 || r.EventsLoaded != 0 || r.Watermark == nil || !r.Watermark.Equal(at("2026-11-21 02:00:00")) {
		t.Fatalf("report %+v", r)
	}
	s := r.Shifts[0]
	if !s.Final || s.Record.Status != mapping.DayAbsent || len(s.History) != 0 || !strings.HasPrefix(s.Stored, "not stored yet") {
		t.Errorf("shift final=%v status=%s history=%d stored=%q", s.Final, s.Record.Status, len(s.History), s.Stored)
	}
	if d := ruleDetail(t, s, reconcile.RuleStatus); d != "absent: status absent: no counted punches in the window 08:00:00–19:00:00" {
		t.Errorf("status rule %q", d)
	}
	out := text(t, r)
	for _, want := range []string{
		"Explain E1001 on 2026-11-20",
		"watermark 2026-11-21 02:00:00 (oldest checkpoint among dingtalk-hq: dingtalk-hq)",
		"E1001 2026-11-20 standard: absent (final)",
		"window end 2026-11-20 19:00:00 + settle 0s < watermark 2026-11-21 02:00:00",
		"status absent: no counted punches in the window 08:00:00–19:00:00",
		"not stored yet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestCorrectionHistory: a short day is stored absent (version 1); an
// approved make-up for the missing out arrives and the recomputed day is
// present (version 2). The report shows both versions, the fields that
// changed, and that the computation matches version 2.
func TestCorrectionHistory(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, "dingtalk-hq", "2026-11-21 02:00:00")
	f.append(t, f.punch("E1001", "2026-11-20 09:12:40", mapping.DirIn), f.punch("E1001", "2026-11-20 10:47:40", mapping.DirOut))
	wm := at("2026-11-21 02:00:00")
	f.reconcile(t, "E1001", "2026-11-20", wm)

	r, err := Day(f.ctx, f.l, f.e, Checkpoints(f.l, []string{"dingtalk-hq"}), "E1001", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	s := r.Shifts[0]
	if s.Record.Status != mapping.DayAbsent || s.Stored != "matches stored version 1" || len(s.History) != 1 {
		t.Fatalf("before the make-up: %s, %q, %d versions", s.Record.Status, s.Stored, len(s.History))
	}
	for rule, want := range map[string]string{
		reconcile.RuleStatus: "absent: status absent: effective 95m (worked 95m + leave 0m) < absent_below 120m",
		reconcile.RuleLate:   "late 12m: late: 09:12:40 > 09:10:00 (start 09:00 + grace 10m); late_minutes 12, whole minutes from 09:00",
	} {
		if got := ruleDetail(t, s, rule); got != want {
			t.Errorf("%s: %q\nwant %q", rule, got, want)
		}
	}

	mk := f.makeup("E1001", "2026-11-20 18:05:00", mapping.DirOut)
	f.append(t, mk)
	// Before the job runs again, the report says the stored version is stale.
	r, err = Day(f.ctx, f.l, f.e, Checkpoints(f.l, []string{"dingtalk-hq"}), "E1001", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Shifts[0].Stored; got != "differs from stored version 1: the next reconcile run over this date stores version 2" {
		t.Errorf("stale: %q", got)
	}
	f.reconcile(t, "E1001", "2026-11-20", wm)
	r, err = Day(f.ctx, f.l, f.e, Checkpoints(f.l, []string{"dingtalk-hq"}), "E1001", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	s = r.Shifts[0]
	if s.Record.Status != mapping.DayPresent || s.Stored != "matches stored version 2" || len(s.History) != 2 {
		t.Fatalf("after the make-up: %s, %q, %d versions", s.Record.Status, s.Stored, len(s.History))
	}
	var fields []string
	for _, c := range s.History[1].Changes {
		fields = append(fields, c.Field)
	}
	if want := []string{"status", "last_out", "worked_minutes", "early_exit", "early_exit_minutes", "overtime_minutes", "events"}; !slices.Equal(fields, want) {
		t.Errorf("changed fields %v, want %v", fields, want)
	}
	if c := s.History[1].Changes[0]; c != (Change{Field: "status", From: "absent", To: "present"}) {
		t.Errorf("status change %+v", c)
	}
	if len(s.History[0].Changes) != 0 || s.History[0].Version != 1 || s.History[1].Status != mapping.DayPresent {
		t.Errorf("history %+v", s.History)
	}
	i := slices.IndexFunc(s.Punches, func(p reconcile.PunchDecision) bool { return p.EventID == mk.ID })
	if i < 0 || !s.Punches[i].Counted || s.Punches[i].Reason != "make-up approved; counted as last out" {
		t.Errorf("make-up listed as %+v", s.Punches)
	}
	out := text(t, r)
	for _, want := range []string{
		"status present: effective 532m (worked 532m + leave 0m) is not below absent_below 120m or half_day_below 240m",
		"matches stored version 2",
		"v1 absent\n",
		"v2 present: status absent → present; last_out 2026-11-20T10:47:40+08:00 → 2026-11-20T18:05:00+08:00; worked_minutes 95 → 532",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestNeverPulled: a source without a checkpoint leaves no watermark, so
// the day is not final, and the report names the source.
func TestNeverPulled(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, "dingtalk-hq", "2026-11-21 02:00:00")
	r, err := Day(f.ctx, f.l, f.e, Checkpoints(f.l, []string{"dingtalk-hq", "wecom-sh"}), "E1001", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	s := r.Shifts[0]
	if r.Watermark != nil || r.WatermarkNote != "not final: source wecom-sh has never been pulled" || s.Final ||
		s.Stored != "not stored: the day is not final yet" {
		t.Errorf("watermark %v %q, final %v, stored %q", r.Watermark, r.WatermarkNote, s.Final, s.Stored)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["watermark"]; ok {
		t.Errorf("JSON has a watermark: %s", data)
	}
	shift := m["shifts"].([]any)[0].(map[string]any)
	for _, k := range []string{"final", "final_reason", "punches", "rules", "record", "stored", "history"} {
		if _, ok := shift[k]; !ok {
			t.Errorf("shift JSON lacks %q: %s", k, data)
		}
	}
	if !strings.Contains(text(t, r), "watermark none (not final: source wecom-sh has never been pulled)") {
		t.Errorf("text:\n%s", text(t, r))
	}
}

func TestCheckpointsOldest(t *testing.T) {
	f := newFixture(t)
	f.checkpoint(t, "a", "2026-11-21 02:00:00")
	f.checkpoint(t, "b", "2026-11-20 23:00:00")
	w, err := Checkpoints(f.l, []string{"a", "b"})(f.ctx, "E1001")
	if err != nil {
		t.Fatal(err)
	}
	if !w.Time.Equal(at("2026-11-20 23:00:00")) || w.Note != "oldest checkpoint among a, b: b" {
		t.Errorf("watermark %v %q", w.Time, w.Note)
	}
	if w, _ := Checkpoints(f.l, nil)(f.ctx, "E1001"); !w.Time.IsZero() || !strings.Contains(w.Note, "no connector is pulled") {
		t.Errorf("no sources: %v %q", w.Time, w.Note)
	}
}

func TestInvalid(t *testing.T) {
	f := newFixture(t)
	wm := Checkpoints(f.l, nil)
	for _, c := range []struct{ emp, date, want string }{
		{"", "2026-11-20", "employee is empty"},
		{"E1001", "2026-11-31", `date "2026-11-31"`},
		{"E1001", "20261120", `date "20261120"`},
	} {
		_, err := Day(f.ctx, f.l, f.e, wm, c.emp, c.date)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Day(%q, %q): %v", c.emp, c.date, err)
		}
	}
	failing := func(context.Context, string) (Watermark, error) { return Watermark{}, errors.New("ledger down") }
	if _, err := Day(f.ctx, f.l, f.e, failing, "E1001", "2026-11-20"); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("watermark failure: %v", err)
	}
}
