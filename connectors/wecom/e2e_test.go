package wecom

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/jobs"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/reconcile"
)

// recordingSink records deliveries by idempotency key.
type recordingSink struct {
	mu  sync.Mutex
	got map[string]mapping.DayRecord
}

func (s *recordingSink) Name() string { return "hr" }

func (s *recordingSink) Deliver(_ context.Context, d connectors.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string]mapping.DayRecord{}
	}
	s.got[d.IdempotencyKey] = d.Record
	return nil
}

func (s *recordingSink) delivered(key string) (mapping.DayRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.got[key]
	return r, ok
}

// officeWeek is two employees punching 08:55 and 18:05 from Monday to
// Friday, except that user00002's Tuesday 下班 punch is missing: its
// machine was offline. WeCom shows a 未打卡 marker for it from 22:00.
func officeWeek() wt.Company {
	c := wt.Company{CorpID: wt.DefaultCorpID, From: monday, To: monday.AddDate(0, 0, 7)}
	for i, u := range []string{"user00001", "user00002"} {
		c.Users = append(c.Users, wt.User{UserID: u, Name: "员工", Departments: []int64{1}, JobNumber: "E100" + string(rune('1'+i))})
	}
	for d := 0; d < 5; d++ {
		day := monday.AddDate(0, 0, d)
		c.WorkDays = append(c.WorkDays, day.Format(time.DateOnly))
		for _, u := range c.Users {
			on, off := day.Add(9*time.Hour), day.Add(18*time.Hour)
			c.Checkins = append(c.Checkins, wt.Checkin{UserID: u.UserID, Type: wt.TypeOn, Time: on.Add(-5 * time.Minute), Scheduled: on, LocationTitle: "前台考勤机"})
			if u.UserID == "user00002" && d == 1 {
				c.Checkins = append(c.Checkins, wt.Checkin{UserID: u.UserID, Type: wt.TypeOff, Exception: wt.NotSigned, Time: off, Scheduled: off, VisibleFrom: off.Add(4 * time.Hour)})
				continue
			}
			c.Checkins = append(c.Checkins, wt.Checkin{UserID: u.UserID, Type: wt.TypeOff, Time: off.Add(5 * time.Minute), Scheduled: off, LocationTitle: "前台考勤机"})
		}
	}
	return c
}

func TestLateDevicePunchIsRecomputedAndPushedAsANewVersion(t *testing.T) {
	t.Run("device punches on", func(t *testing.T) { lateDevicePunch(t, true) })
	// The control: without the device pass the 24-hour look-back misses
	// the punch, and Tuesday stays at version 1.
	t.Run("device punches off", func(t *testing.T) { lateDevicePunch(t, false) })
}

func lateDevicePunch(t *testing.T, devices bool) {
	ctx := context.Background()
	e := newEnv(t, officeWeek(), nil, func(c *Config) { c.DevicePunches = &devices })
	l, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	engine, err := reconcile.Compile(reconcile.Rules{
		Timezone: "Asia/Shanghai",
		Shifts: map[string]reconcile.Shift{"standard": {
			Start: "09:00", End: "18:00", CheckinOpensBefore: time.Hour, CheckoutClosesAfter: time.Hour,
			LateGrace: 10 * time.Minute, EarlyExitGrace: 10 * time.Minute, HalfDayBelow: 4 * time.Hour, AbsentBelow: 2 * time.Hour,
			Directions: "alternate", WorkingHours: "first_last",
		}},
		Assign: reconcile.Assign{Default: reconcile.ShiftList{"standard"}, RestDays: []string{"sat", "sun"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := mapping.NewIdentities()
	sink := &recordingSink{}
	job := &jobs.Sync{
		Name: "nightly", Sources: []connectors.Source{e.conn}, Directories: []connectors.Directory{e.conn},
		IdentityField: "job_number", Sinks: []connectors.Sink{sink}, Ledger: l, Ingester: ingest.New(l, ids, engine, nil),
		Identities: ids, Engine: engine, Lookback: 24 * time.Hour,
		Push: jobs.PushOptions{MaxAttempts: 2, Backoff: func(int) time.Duration { return time.Minute }},
	}
	run := func(at time.Time) jobs.Report {
		t.Helper()
		e.clock.Set(at)
		rep, err := job.Run(ctx, at)
		if err != nil {
			t.Fatalf("run at %s: %v", at, err)
		}
		return rep
	}
	tuesday := monday.AddDate(0, 0, 1).Format(time.DateOnly)
	key := func(v int) string { return "hr:E1002:" + tuesday + ":standard:v" + string(rune('0'+v)) }

	// The nightly runs of Wednesday to Friday: Tuesday of E1002 has no 下班.
	for d := 2; d <= 4; d++ {
		run(monday.AddDate(0, 0, d).Add(2 * time.Hour))
	}
	v1, ok := sink.delivered(key(1))
	if !ok || v1.Status == mapping.DayPresent || len(v1.Missing) == 0 {
		t.Fatalf("Tuesday v1 = %+v (delivered %v), want a day missing its out punch", v1, ok)
	}

	// Friday 10:00 the machine comes back online and uploads the punch,
	// three days late. Saturday's run looks back only 24 hours by punch
	// time, but reads device punches by upload time.
	e.srv.AddDevicePunches(wt.DevicePunch{
		UserID: "user00002", Time: monday.AddDate(0, 0, 1).Add(18*time.Hour + 5*time.Minute),
		Uploaded: monday.AddDate(0, 0, 4).Add(10 * time.Hour), DeviceSN: "KQJ000001", DeviceName: "前台考勤机",
		Recorded: true, Type: wt.TypeOff, Scheduled: monday.AddDate(0, 0, 1).Add(18 * time.Hour),
	})
	rep := run(monday.AddDate(0, 0, 5).Add(2 * time.Hour))
	if !devices {
		if _, ok := sink.delivered(key(2)); ok {
			t.Fatal("without device punches Tuesday still got a version 2")
		}
		return
	}
	if rep.EventsStored < 1 || rep.APICallsByAPI[apiHardwareData] == 0 {
		t.Fatalf("Saturday's run: %+v", rep)
	}
	v2, ok := sink.delivered(key(2))
	if !ok || v2.Status != mapping.DayPresent || v2.Version != 2 || len(v2.Missing) != 0 {
		t.Fatalf("Tuesday v2 = %+v (delivered %v), want present, version 2", v2, ok)
	}
	if v2.WorkedMinutes != 9*60+10 {
		t.Errorf("worked %d minutes, want 550 (08:55 to 18:05)", v2.WorkedMinutes)
	}
}
