package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/punchbridge/punchbridge/explain"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

var errBadMonth = errors.New("bad month")

// maxDLQShown bounds the dead-letter rows on the page; the API lists all.
const maxDLQShown = 200

// statusPageView is what the status page shows.
type statusPageView struct {
	Title      string
	Who        *principal
	CSRF       string
	Flash      string
	Now        time.Time
	CanReplay  bool
	Connectors []connectorView
	Counts     []dayCounts
	HasRuns    bool
	DLQ        []deadEntry
	DLQTotal   int
	HasDLQ     bool
	Calendar   calendarView
	Audit      []ledger.AuditEntry
}

// connectorView is a connector row with its ages spelled out.
type connectorView struct {
	connectorState
	CheckpointAge string
	LastPullAge   string
}

func (s *server) statusView(ctx context.Context, p principal, csrf, month string) (*statusPageView, error) {
	now := s.o.Now()
	v := &statusPageView{Title: "Status", Who: &p, CSRF: csrf, Now: now, CanReplay: p.role.allows(RoleOperator), HasRuns: s.runs != nil, HasDLQ: s.dead != nil}
	conns, err := s.connectorStates(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		cv := connectorView{connectorState: c, CheckpointAge: "—", LastPullAge: "—"}
		if c.Checkpoint != nil {
			cv.CheckpointAge = age(now.Sub(*c.Checkpoint))
		}
		if c.LastPull != nil {
			cv.LastPullAge = age(now.Sub(c.LastPull.At))
		}
		v.Connectors = append(v.Connectors, cv)
	}
	if v.Counts, err = s.counts(ctx); err != nil {
		return nil, err
	}
	if s.dead != nil {
		dead, err := s.deadLetters(ctx, "", time.Time{})
		if err != nil {
			return nil, err
		}
		v.DLQTotal = len(dead)
		v.DLQ = dead[:min(len(dead), maxDLQShown)]
	}
	if v.Calendar, err = s.calendar(ctx, month); err != nil {
		return nil, err
	}
	if s.audit != nil && p.role.allows(RoleAdmin) {
		if v.Audit, err = s.audit.AuditEntries(ctx, now.Add(-7*24*time.Hour), 20); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// age spells a duration roughly: 45s, 12m, 5h 3m, 3d 4h.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh ago", int(d.Hours())/24, int(d.Hours())%24)
}

// calendarView is a month of day records per team.
type calendarView struct {
	Month     string // YYYY-MM
	Title     string // November 2026
	Prev      string
	Next      string
	Days      []calendarDay
	Teams     []teamView
	TeamError string
}

type calendarDay struct {
	Date    string
	Day     int
	Weekday string // Mo, Tu, ...
	Weekend bool
}

type teamView struct {
	Name      string
	Rows      []employeeRow
	Anomalies int // late, missing and absent days
}

type employeeRow struct {
	Employee string
	Cells    []cell
}

// cell is one employee-day: its class colours it, its label and title say
// why, and it links to the day's explanation.
type cell struct {
	Date  string
	Class string
	Label string
	Title string
	Link  string
}

// dayClasses orders a day's classes from worst to best: a date with
// several shifts shows its worst.
var dayClasses = []string{"absent", "missing", "late", "early", "half", "leave", "ok", "off"}

var classLabel = map[string]string{"absent": "A", "missing": "M", "late": "L", "early": "E", "half": "H", "leave": "V", "ok": "✓", "off": "·"}

func classOf(r mapping.DayRecord) string {
	switch {
	case r.Status == mapping.DayAbsent:
		return "absent"
	case len(r.Missing) > 0:
		return "missing"
	case r.Late:
		return "late"
	case r.EarlyExit:
		return "early"
	case r.Status == mapping.DayHalfDay:
		return "half"
	case r.Status == mapping.DayOnLeave:
		return "leave"
	case r.Status == mapping.DayRestDay || r.Status == mapping.DayHoliday:
		return "off"
	}
	return "ok"
}

func rank(class string) int {
	for i, c := range dayClasses {
		if c == class {
			return i
		}
	}
	return len(dayClasses)
}

// describe is a cell's tooltip: the status and what was anomalous.
func describe(r mapping.DayRecord) string {
	d := fmt.Sprintf("%s %s %s: %s", r.EmployeeID, r.Date, r.Shift, r.Status)
	if r.Late {
		d += fmt.Sprintf(", late %dm", r.LateMinutes)
	}
	if r.EarlyExit {
		d += fmt.Sprintf(", left %dm early", r.EarlyExitMinutes)
	}
	if len(r.Missing) > 0 {
		d += fmt.Sprintf(", missing %v", r.Missing)
	}
	return d
}

// calendar builds the month's grid of every team: one row per employee
// with a record that month, one column per day.
func (s *server) calendar(ctx context.Context, month string) (calendarView, error) {
	now := s.o.Now().In(s.o.Location)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.o.Location)
	if month != "" {
		m, err := time.ParseInLocation("2006-01", month, s.o.Location)
		if err != nil {
			return calendarView{}, errBadMonth
		}
		first = m
	}
	last := first.AddDate(0, 1, -1)
	v := calendarView{Month: first.Format("2006-01"), Title: first.Format("January 2006"),
		Prev: first.AddDate(0, -1, 0).Format("2006-01"), Next: first.AddDate(0, 1, 0).Format("2006-01")}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		wd := d.Weekday()
		v.Days = append(v.Days, calendarDay{Date: d.Format(time.DateOnly), Day: d.Day(), Weekday: wd.String()[:2], Weekend: wd == time.Saturday || wd == time.Sunday})
	}
	if s.o.Ledger == nil {
		return v, nil
	}
	recs, err := s.o.Ledger.Days(ctx, "", first.Format(time.DateOnly), last.Format(time.DateOnly))
	if err != nil {
		return calendarView{}, fmt.Errorf("server: read the day records of %s: %w", v.Month, err)
	}
	teams := map[string]string{}
	if s.o.Teams != nil {
		if teams, err = s.o.Teams(ctx); err != nil {
			// The calendar still helps without teams; say why they are missing.
			v.TeamError = err.Error()
			teams = map[string]string{}
		}
	}
	byEmp := map[string]map[string]mapping.DayRecord{} // employee → date → worst record
	for _, r := range recs {
		days := byEmp[r.EmployeeID]
		if days == nil {
			days = map[string]mapping.DayRecord{}
			byEmp[r.EmployeeID] = days
		}
		if old, ok := days[r.Date]; !ok || rank(classOf(r)) < rank(classOf(old)) {
			days[r.Date] = r
		}
	}
	byTeam := map[string]*teamView{}
	for emp, days := range byEmp {
		team := teams[emp]
		if team == "" {
			team = "all"
		}
		tv := byTeam[team]
		if tv == nil {
			tv = &teamView{Name: team}
			byTeam[team] = tv
		}
		row := employeeRow{Employee: emp}
		for _, d := range v.Days {
			r, ok := days[d.Date]
			if !ok {
				row.Cells = append(row.Cells, cell{Date: d.Date})
				continue
			}
			class := classOf(r)
			if class == "absent" || class == "missing" || class == "late" {
				tv.Anomalies++
			}
			row.Cells = append(row.Cells, cell{Date: d.Date, Class: class, Label: classLabel[class], Title: describe(r), Link: dayLink(emp, d.Date)})
		}
		tv.Rows = append(tv.Rows, row)
	}
	for _, tv := range byTeam {
		sort.Slice(tv.Rows, func(i, j int) bool { return tv.Rows[i].Employee < tv.Rows[j].Employee })
		v.Teams = append(v.Teams, *tv)
	}
	sort.Slice(v.Teams, func(i, j int) bool { return v.Teams[i].Name < v.Teams[j].Name })
	return v, nil
}

// dayLink is the status page's view of one employee-day.
func dayLink(employee, date string) string {
	return "/days/" + url.PathEscape(employee) + "/" + date
}

// dayPageView is what the day page shows.
type dayPageView struct {
	Title       string
	Who         *principal
	CSRF        string
	Employee    string
	Date        string
	Weekday     string
	Records     []dayVersions
	RecordError string
	Explanation *explain.Report
	ExplainErr  string
	Events      []mapping.Event
	EventsError string
}

// dayView gathers an employee-day: its records with versions, the
// explanation and the events. A part that cannot be read is reported on
// the page rather than hiding the others.
func (s *server) dayView(ctx context.Context, emp, date string) (*dayPageView, error) {
	v := &dayPageView{Title: emp + " " + date, Employee: emp, Date: date, Weekday: mustDate(date).Weekday().String()}
	if s.o.Ledger == nil {
		return nil, errors.New("no ledger is configured")
	}
	recs, err := s.day(ctx, emp, date)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		v.RecordError = "No day record yet: the day is not final, or the employee had no shift."
	case err != nil:
		return nil, err
	}
	v.Records = recs
	if s.o.Explain == nil {
		v.ExplainErr = "Explanations are not available in this server."
	} else if x, err := s.o.Explain(ctx, emp, date); err != nil {
		v.ExplainErr = err.Error()
	} else {
		v.Explanation = &x
	}
	from, to, err := s.span(date, date)
	if err != nil {
		return nil, err
	}
	if v.Events, err = s.o.Ledger.Events(ctx, emp, from, to); err != nil {
		v.EventsError = err.Error()
	}
	return v, nil
}
