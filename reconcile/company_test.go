package reconcile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/mapping"
)

// The test company: 50 employees (E1001–E1050) over November 2026, on the
// shifts of testdata/company/rules.yaml, with the events a real month
// brings: late arrivals, early exits, forgotten punches, absences, full and
// half-day leave with revisions, overtime, make-ups in every state,
// duplicate punches and re-sent copies, offline uploads, location jumps,
// stray punches between shifts, platform verdicts and strict-mode
// direction mistakes. E1050 has no events at all. Everything comes from
// one seed, so the month is the same on every run.

const (
	companySeed  = 20261101
	companyStaff = 50
	companyMonth = "2026-11"
	companyDays  = 30
)

func loadCompanyRules(t testing.TB) Rules {
	t.Helper()
	data, err := os.ReadFile("testdata/company/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var r Rules
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	return r
}

// companyRoster lists every employee, including E1050 without events.
func companyRoster() []string {
	out := make([]string, companyStaff)
	for i := range out {
		out[i] = fmt.Sprintf("E%d", 1001+i)
	}
	return out
}

// companyGen writes one employee's month of events.
type companyGen struct {
	e      *Engine
	rng    *rand.Rand
	emp    string
	n      *int // shared id counter
	events []mapping.Event
}

const officeLat, officeLng = 31.2304, 121.4737

// companyEvents generates the whole company's month.
func companyEvents(t testing.TB, e *Engine) []mapping.Event {
	t.Helper()
	rng := rand.New(rand.NewPCG(companySeed, companySeed>>3))
	n := 0
	var all []mapping.Event
	roster := companyRoster()
	for _, emp := range roster[:len(roster)-1] {
		g := &companyGen{e: e, rng: rng, emp: emp, n: &n}
		a := e.assignmentOf(emp)
		first, _ := parseDay(companyMonth + "-01")
		for d := first; d < first+companyDays; d++ {
			for _, si := range a.on(d) {
				g.occurrence(d, &e.shifts[si])
			}
		}
		all = append(all, g.events...)
	}
	return all
}

func (g *companyGen) id(kind string) string {
	*g.n++
	return fmt.Sprintf("dingtalk/ding5f3a/%s/%07d", kind, *g.n)
}

func (g *companyGen) procID() string {
	*g.n++
	return fmt.Sprintf("PROC-%07d", *g.n)
}

func (g *companyGen) base(kind mapping.Kind, tm time.Time) mapping.Event {
	tm = tm.In(g.e.loc)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: g.id(string(kind)), Kind: kind,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: "u" + g.emp[1:], EmployeeID: g.emp,
		Time: tm, ReceivedAt: tm.Add(time.Duration(1+g.rng.IntN(5)) * time.Second), Via: mapping.ViaWebhook,
	}
}

// punch adds a punch at tm, in the office unless told otherwise.
func (g *companyGen) punch(tm time.Time, dir mapping.Direction) *mapping.Event {
	ev := g.base(mapping.KindPunch, tm)
	lat := officeLat + (g.rng.Float64()-0.5)*0.001
	lng := officeLng + (g.rng.Float64()-0.5)*0.001
	acc := float64(15 + g.rng.IntN(30))
	ev.Punch = &mapping.Punch{Direction: dir, Method: mapping.MethodApp, Lat: &lat, Lng: &lng, AccuracyM: &acc, PlatformResult: "normal"}
	if g.rng.IntN(4) == 0 {
		ev.Punch.Method, ev.Punch.Lat, ev.Punch.Lng, ev.Punch.AccuracyM = mapping.MethodDevice, nil, nil, nil
		ev.Punch.DeviceID = "dev-01"
	}
	g.events = append(g.events, ev)
	return &g.events[len(g.events)-1]
}

func (g *companyGen) approval(typ string, status mapping.Status, s, e time.Time, decided time.Time, approvalID string) *mapping.Event {
	ev := g.base(mapping.KindApproval, decided)
	ev.Via = mapping.ViaPull
	ev.Approval = &mapping.Approval{Type: typ, Status: status, Start: s.In(g.e.loc), End: e.In(g.e.loc), ApprovalID: approvalID,
		DurationMinutes: int(e.Sub(s) / time.Minute)}
	if typ == mapping.ApprovalLeave {
		ev.Approval.LeaveType = "annual"
	}
	g.events = append(g.events, ev)
	return &g.events[len(g.events)-1]
}

func (g *companyGen) makeup(tm time.Time, dir mapping.Direction, status mapping.Status) {
	ev := g.base(mapping.KindMakeup, tm)
	ev.ReceivedAt = tm.Add(26 * time.Hour)
	ev.Via = mapping.ViaPull
	ev.Makeup = &mapping.Makeup{Direction: dir, Status: status, ApprovalID: "MK" + ev.ID[len(ev.ID)-7:], Reason: "forgot to punch"}
	g.events = append(g.events, ev)
}

func (g *companyGen) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1))*time.Minute + time.Duration(g.rng.IntN(60))*time.Second
}

// occurrence generates the events of one shift occurrence.
func (g *companyGen) occurrence(d day, s *shiftDef) {
	start := time.Unix(g.e.at(d, s.startMin), 0)
	endDay := d
	if s.overnight {
		endDay++
	}
	end := time.Unix(g.e.at(endDay, s.endMin), 0)
	in := start.Add(-g.minutes(1, 25))
	out := end.Add(g.minutes(0, 25))
	if g.e.restDays[d.weekday()] || g.e.holidays[d] {
		if g.rng.IntN(12) == 0 { // weekend work, sometimes approved as overtime
			g.punch(in, mapping.DirIn)
			g.punch(in.Add(g.minutes(120, 300)), mapping.DirOut)
			if g.rng.IntN(2) == 0 {
				g.approval(mapping.ApprovalOvertime, mapping.StatusApproved, start, start.Add(4*time.Hour), start.Add(-24*time.Hour), g.procID())
			}
		}
		return
	}
	switch r := g.rng.IntN(100); {
	case r < 55: // on time
		g.punch(in, mapping.DirIn)
		g.punch(out, mapping.DirOut)
	case r < 63: // late
		g.punch(start.Add(g.minutes(11, 70)), mapping.DirIn)
		g.punch(out, mapping.DirOut)
	case r < 68: // early exit
		g.punch(in, mapping.DirIn)
		g.punch(end.Add(-g.minutes(15, 120)), mapping.DirOut)
	case r < 71: // forgot to punch out
		g.punch(in, mapping.DirIn)
	case r < 73: // forgot to punch in
		g.punch(out, mapping.DirOut)
	case r < 76: // absent
	case r < 79: // full-day leave, pending first, then approved
		id := g.procID()
		g.approval(mapping.ApprovalLeave, mapping.StatusPending, start, end, start.Add(-72*time.Hour), id)
		g.approval(mapping.ApprovalLeave, mapping.StatusApproved, start, end, start.Add(-48*time.Hour), id)
	case r < 82: // half-day leave, then work
		mid := start.Add(end.Sub(start) / 2)
		g.approval(mapping.ApprovalLeave, mapping.StatusApproved, start, mid, start.Add(-24*time.Hour), g.procID())
		g.punch(mid.Add(g.minutes(0, 20)), mapping.DirIn)
		g.punch(out, mapping.DirOut)
	case r < 85: // overtime, approved in part
		g.punch(in, mapping.DirIn)
		g.punch(end.Add(g.minutes(35, 59)), mapping.DirOut)
		g.approval(mapping.ApprovalOvertime, mapping.StatusApproved, end, end.Add(2*time.Hour), end.Add(20*time.Hour), g.procID())
	case r < 88: // make-up for the missing out: approved, pending or rejected
		g.punch(in, mapping.DirIn)
		g.makeup(end, mapping.DirOut, []mapping.Status{mapping.StatusApproved, mapping.StatusPending, mapping.StatusRejected}[g.rng.IntN(3)])
	case r < 90: // a double tap and a re-sent copy
		p := g.punch(in, mapping.DirIn)
		dup := *p
		dup.ID = g.id("punch")
		g.events = append(g.events, dup)
		q := *g.punch(out, mapping.DirOut)
		q.Via, q.ReceivedAt = mapping.ViaPull, q.ReceivedAt.Add(6*time.Hour)
		g.events = append(g.events, q)
	case r < 92: // offline: the watch synced hours later, sometimes far away
		g.punch(in, mapping.DirIn)
		p := g.punch(out, mapping.DirOut)
		p.ReceivedAt = out.Add(g.minutes(90, 600))
		if p.Punch.Lat != nil && g.rng.IntN(2) == 0 {
			lat := *p.Punch.Lat + 0.05
			p.Punch.Lat = &lat
		}
	case r < 93: // a punch from another city an hour after the first
		g.punch(in, mapping.DirIn)
		p := g.punch(in.Add(time.Hour), mapping.DirUnknown)
		lat, lng, acc := 39.9042, 116.4074, 20.0
		p.Punch.Lat, p.Punch.Lng, p.Punch.AccuracyM, p.Punch.Method = &lat, &lng, &acc, mapping.MethodApp
		g.punch(out, mapping.DirOut)
	case r < 95: // a stray punch far from any window
		g.punch(start.Add(-5*time.Hour-g.minutes(0, 30)), mapping.DirIn)
		g.punch(in, mapping.DirIn)
		g.punch(out, mapping.DirOut)
	case r < 97: // the platform's own verdicts
		p := g.punch(in, mapping.DirIn)
		p.Punch.PlatformResult = []string{"outside", "wifi_exception", "late"}[g.rng.IntN(3)]
		p.Punch.Anomalies = []string{"device_exception"}
		q := g.punch(out, mapping.DirOut)
		q.Punch.PlatformResult = "not_signed" // a placeholder: no punch
	case r < 99: // direction mistakes: a leading out, an unknown
		g.punch(in.Add(-5*time.Minute), mapping.DirOut)
		g.punch(in, mapping.DirIn)
		g.punch(start.Add(g.minutes(60, 120)), mapping.DirUnknown)
		g.punch(out, mapping.DirOut)
	default: // leave approved, then revoked; the employee came in
		id := g.procID()
		g.approval(mapping.ApprovalLeave, mapping.StatusApproved, start, end, start.Add(-72*time.Hour), id)
		g.approval(mapping.ApprovalLeave, mapping.StatusRevoked, start, end, start.Add(-12*time.Hour), id)
		g.punch(in, mapping.DirIn)
		g.punch(out, mapping.DirOut)
	}
}
