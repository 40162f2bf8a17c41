package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// connectorState is one connector as the admin API and the status page
// show it.
type connectorState struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Tenant   string `json:"tenant"`
	// Health is "ok", "failing" (its last pull failed), "stale" (its
	// checkpoint is older than StaleAfter) or "never pulled".
	Health     string     `json:"health"`
	Checkpoint *time.Time `json:"checkpoint"`
	// WatermarkAgeSeconds is how far behind now the checkpoint is.
	WatermarkAgeSeconds *float64   `json:"watermark_age_seconds"`
	LastPull            *pullState `json:"last_pull"`
	LastError           string     `json:"last_error"`
	// APICalls are the calls made by API and outcome code, when the
	// connector counts them.
	APICalls      map[string]map[string]int `json:"api_calls"`
	APICallsTotal int                       `json:"api_calls_total"`
}

type pullState struct {
	At     time.Time `json:"at"`
	Events int       `json:"events"`
	Error  string    `json:"error,omitempty"`
}

func (s *server) connectorStates(ctx context.Context) ([]connectorState, error) {
	now := s.o.Now()
	out := make([]connectorState, 0, len(s.o.Connectors))
	for _, c := range s.o.Connectors {
		st := connectorState{Name: c.Name(), Platform: c.Platform(), Tenant: c.Tenant(), Health: "never pulled"}
		if s.o.Ledger != nil {
			cp, ok, err := s.o.Ledger.Checkpoint(ctx, c.Name())
			if err != nil {
				return nil, fmt.Errorf("server: read checkpoint of %s: %w", c.Name(), err)
			}
			if ok {
				age := now.Sub(cp).Seconds()
				st.Checkpoint, st.WatermarkAgeSeconds, st.Health = &cp, &age, "ok"
				if now.Sub(cp) > s.o.StaleAfter {
					st.Health = "stale"
				}
			}
		}
		if p, ok := s.o.Metrics.LastPull(c.Name()); ok {
			st.LastPull = &pullState{At: p.At, Events: p.Events, Error: p.Err}
			st.LastError = p.Err
			if p.Err != "" {
				st.Health = "failing"
			}
		}
		st.APICalls = s.o.Metrics.APICalls(c.Name())
		for _, codes := range st.APICalls {
			for _, n := range codes {
				st.APICallsTotal += n
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// dayCounts is what the job runs started on one day did.
type dayCounts struct {
	Date           string `json:"date"`
	Runs           int    `json:"runs"`
	FailedRuns     int    `json:"failed_runs"`
	EventsStored   int    `json:"events_stored"`
	DaysComputed   int    `json:"days_computed"`
	DaysChanged    int    `json:"days_changed"`
	RecordsPushed  int    `json:"records_pushed"`
	PushFailures   int    `json:"push_failures"`
	DeadLetterings int    `json:"dead_lettered"`
}

// runReport holds the fields of a job's report (jobs.Report) that the
// counts add up.
type runReport struct {
	EventsStored   int `json:"events_stored"`
	Revisions      int `json:"revisions"`
	DaysReconciled int `json:"days_reconciled"`
	DaysChanged    int `json:"days_changed"`
	RecordsPushed  int `json:"records_pushed"`
	PushFailures   int `json:"push_failures"`
	DeadLettered   int `json:"dead_lettered"`
}

// maxCountedRuns bounds the runs read for today's and yesterday's counts.
const maxCountedRuns = 2000

// counts adds up the reports of the job runs started today and yesterday
// (in Location), from the run log, so that every replica shows the same.
func (s *server) counts(ctx context.Context) ([]dayCounts, error) {
	today := s.o.Now().In(s.o.Location)
	todayStart := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.o.Location)
	yesterdayStart := todayStart.AddDate(0, 0, -1)
	out := []dayCounts{{Date: todayStart.Format(time.DateOnly)}, {Date: yesterdayStart.Format(time.DateOnly)}}
	if s.runs == nil {
		return out, nil
	}
	runs, err := s.runs.Runs(ctx, "", maxCountedRuns)
	if err != nil {
		return nil, fmt.Errorf("server: read job runs: %w", err)
	}
	for _, r := range runs {
		var c *dayCounts
		switch {
		case !r.Started.Before(todayStart.AddDate(0, 0, 1)):
			continue
		case !r.Started.Before(todayStart):
			c = &out[0]
		case !r.Started.Before(yesterdayStart):
			c = &out[1]
		default:
			continue
		}
		c.Runs++
		if r.Outcome == ledger.RunFailed {
			c.FailedRuns++
		}
		var rep runReport
		if len(r.Counts) > 0 && json.Unmarshal(r.Counts, &rep) == nil {
			c.EventsStored += rep.EventsStored + rep.Revisions
			c.DaysComputed += rep.DaysReconciled
			c.DaysChanged += rep.DaysChanged
			c.RecordsPushed += rep.RecordsPushed
			c.PushFailures += rep.PushFailures
			c.DeadLetterings += rep.DeadLettered
		}
	}
	return out, nil
}

// deadEntry is one dead-letter queue entry as the API shows it.
type deadEntry struct {
	ID         int64             `json:"id"`
	Sink       string            `json:"sink"`
	EmployeeID string            `json:"employee_id"`
	Date       string            `json:"date"`
	Shift      string            `json:"shift"`
	Version    int               `json:"version"`
	Attempts   int               `json:"attempts"`
	LastError  string            `json:"last_error"`
	FailedAt   time.Time         `json:"failed_at"`
	Record     mapping.DayRecord `json:"record"`
}

// deadLetters lists the dead deliveries of sink ("" for all) that failed
// at or after since, oldest first.
func (s *server) deadLetters(ctx context.Context, sink string, since time.Time) ([]deadEntry, error) {
	if s.dead == nil {
		return nil, errNoDeadLetters
	}
	all, err := s.dead.Outbox(ctx, sink, ledger.DeliveryDead, 0)
	if err != nil {
		return nil, fmt.Errorf("server: list the dead-letter queue: %w", err)
	}
	out := []deadEntry{}
	for _, e := range all {
		if !since.IsZero() && e.UpdatedAt.Before(since) {
			continue
		}
		out = append(out, deadEntry{ID: e.ID, Sink: e.Sink, EmployeeID: e.Record.EmployeeID, Date: e.Record.Date, Shift: e.Record.Shift,
			Version: e.Record.Version, Attempts: e.Attempts, LastError: e.LastError, FailedAt: e.UpdatedAt, Record: e.Record})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// dayVersions is one shift occurrence's record with its history.
type dayVersions struct {
	Record   mapping.DayRecord   `json:"record"`
	Versions []mapping.DayRecord `json:"versions"`
}

// day returns the records of an employee's date with their versions,
// ledger.ErrNotFound when there is none.
func (s *server) day(ctx context.Context, employee, date string) ([]dayVersions, error) {
	recs, err := s.o.Ledger.Days(ctx, employee, date, date)
	if err != nil {
		return nil, fmt.Errorf("server: read day records of %s on %s: %w", employee, date, err)
	}
	if len(recs) == 0 {
		return nil, ledger.ErrNotFound
	}
	out := make([]dayVersions, 0, len(recs))
	for _, r := range recs {
		hist, err := s.o.Ledger.DayHistory(ctx, r.Key())
		if err != nil {
			return nil, fmt.Errorf("server: read versions of %s %s %s: %w", employee, date, r.Shift, err)
		}
		out = append(out, dayVersions{Record: r, Versions: hist})
	}
	return out, nil
}

// span is the calendar days [from, to] in Location, as a time range. The
// explanation of a day reads the wider range the rules need; a listing of
// a date's events shows what happened on that date.
func (s *server) span(from, to string) (time.Time, time.Time, error) {
	f, err := time.ParseInLocation(time.DateOnly, from, s.o.Location)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	t, err := time.ParseInLocation(time.DateOnly, to, s.o.Location)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return f, t.AddDate(0, 0, 1), nil
}

// rejection is a rejected event as the API shows it.
type rejection struct {
	ID         string          `json:"id"`
	Connector  string          `json:"connector"`
	Reason     string          `json:"reason"`
	ReceivedAt time.Time       `json:"received_at"`
	Raw        json.RawMessage `json:"raw,omitempty"`
}

// dayEvents is everything the ledger holds about one employee's date.
type dayEvents struct {
	Employee    string          `json:"employee,omitempty"`
	Date        string          `json:"date"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Events      []mapping.Event `json:"events"`
	Rejected    []rejection     `json:"rejected"`
	Quarantined []mapping.Event `json:"quarantined"`
}

// events lists the employee's events of date (punches timed on it,
// approvals overlapping it), the events rejected on that date (those of
// the employee when one is named and the rejected event carries an
// employee id), and the quarantined events timed on it — which by
// definition belong to no employee yet.
func (s *server) events(ctx context.Context, employee, date string) (dayEvents, error) {
	from, to, err := s.span(date, date)
	if err != nil {
		return dayEvents{}, err
	}
	out := dayEvents{Employee: employee, Date: date, From: from, To: to, Events: []mapping.Event{}, Rejected: []rejection{}, Quarantined: []mapping.Event{}}
	if employee != "" {
		evs, err := s.o.Ledger.Events(ctx, employee, from, to)
		if err != nil {
			return dayEvents{}, fmt.Errorf("server: read events of %s: %w", employee, err)
		}
		out.Events = append(out.Events, evs...)
	}
	rs, err := s.o.Ledger.Rejections(ctx, from, 0)
	if err != nil {
		return dayEvents{}, fmt.Errorf("server: read rejected events: %w", err)
	}
	for _, r := range rs {
		if !r.ReceivedAt.Before(to) || (employee != "" && rejectedEmployee(r.Raw) != employee) {
			continue
		}
		raw := json.RawMessage(nil)
		if json.Valid(r.Raw) {
			raw = r.Raw
		}
		out.Rejected = append(out.Rejected, rejection{ID: r.ID, Connector: r.Connector, Reason: r.Reason, ReceivedAt: r.ReceivedAt, Raw: raw})
	}
	q, err := s.o.Ledger.Quarantined(ctx, 0)
	if err != nil {
		return dayEvents{}, fmt.Errorf("server: read quarantined events: %w", err)
	}
	for _, e := range q {
		if !e.Time.Before(from) && e.Time.Before(to) {
			out.Quarantined = append(out.Quarantined, e)
		}
	}
	return out, nil
}

// rejectedEmployee reads the employee id of a rejected event, if it had one.
func rejectedEmployee(raw []byte) string {
	var e struct {
		EmployeeID string `json:"employee_id"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	return e.EmployeeID
}
