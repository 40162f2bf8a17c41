package explain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/reconcile"
)

// ErrInvalid marks a request whose employee id or date is unusable; the
// admin API answers it with 400.
var ErrInvalid = errors.New("explain: invalid request")

// Watermark is the instant up to which every source feeding an employee
// is known to be complete. A zero Time means none is, and Note says why.
type Watermark struct {
	Time time.Time
	// Note says where the watermark comes from, e.g. "oldest checkpoint
	// among dingtalk-hq, wecom-sh: dingtalk-hq", or why there is none.
	Note string
}

// WatermarkFunc returns the watermark of one employee.
type WatermarkFunc func(ctx context.Context, employeeID string) (Watermark, error)

// Checkpoints is the WatermarkFunc of a deployment whose sources are the
// connectors named: the oldest of their checkpoints, for every employee.
// When one has never been pulled there is no watermark, and no day is
// final. It is conservative: the sync job may use a later watermark for an
// employee whose tenants it knows to be fed only by newer sources.
func Checkpoints(l ledger.Ledger, sources []string) WatermarkFunc {
	return func(ctx context.Context, _ string) (Watermark, error) {
		if len(sources) == 0 {
			return Watermark{Note: "not final: no connector is pulled, so no source is known to be complete"}, nil
		}
		var wm Watermark
		for _, name := range sources {
			cp, ok, err := l.Checkpoint(ctx, name)
			if err != nil {
				return Watermark{}, fmt.Errorf("explain: read checkpoint of %s: %w", name, err)
			}
			if !ok {
				return Watermark{Note: "not final: source " + name + " has never been pulled"}, nil
			}
			if wm.Time.IsZero() || cp.Before(wm.Time) {
				wm.Time, wm.Note = cp, name
			}
		}
		wm.Note = "oldest checkpoint among " + strings.Join(sources, ", ") + ": " + wm.Note
		return wm, nil
	}
}

// Report is how one employee's day was computed: an explanation per shift
// occurrence of the date, each with the versions the ledger stored.
type Report struct {
	EmployeeID string `json:"employee_id"`
	Date       string `json:"date"`
	// Watermark is zero when no day can be final; WatermarkNote says why.
	Watermark     *time.Time `json:"watermark,omitempty"`
	WatermarkNote string     `json:"watermark_note"`
	// EventsFrom and EventsTo bound the events loaded, [from, to).
	EventsFrom   time.Time `json:"events_from"`
	EventsTo     time.Time `json:"events_to"`
	EventsLoaded int       `json:"events_loaded"`
	Shifts       []Shift   `json:"shifts"`
}

// Shift is the explanation of one shift occurrence with its stored
// history. Its JSON holds the explanation's fields, then stored and
// history.
type Shift struct {
	reconcile.Explanation
	// Stored says how the computed record compares with the latest stored
	// version.
	Stored string `json:"stored"`
	// History is every stored version, oldest first.
	History []Version `json:"history"`
}

// Day explains employeeID's day date (YYYY-MM-DD) from the events in l,
// with e's rules and the watermark wm gives. Errors wrap ErrInvalid for a
// bad employee id or date.
func Day(ctx context.Context, l ledger.Ledger, e *reconcile.Engine, wm WatermarkFunc, employeeID, date string) (Report, error) {
	if strings.TrimSpace(employeeID) == "" {
		return Report{}, fmt.Errorf("%w: employee is empty; give the HR employee id, e.g. E1001", ErrInvalid)
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil || len(date) != len(time.DateOnly) {
		return Report{}, fmt.Errorf("%w: date %q: use YYYY-MM-DD, e.g. 2026-11-20", ErrInvalid, date)
	}
	from, to := e.EventSpan(date, date)
	events, err := l.Events(ctx, employeeID, from, to)
	if err != nil {
		return Report{}, fmt.Errorf("explain: load events of %s: %w", employeeID, err)
	}
	w, err := wm(ctx, employeeID)
	if err != nil {
		return Report{}, err
	}
	xs, err := e.Explain(employeeID, events, date, w.Time)
	if err != nil {
		return Report{}, fmt.Errorf("explain: %w", err)
	}
	r := Report{EmployeeID: employeeID, Date: date, WatermarkNote: w.Note, EventsFrom: from, EventsTo: to, EventsLoaded: len(events)}
	if !w.Time.IsZero() {
		t := w.Time.In(e.Location())
		r.Watermark = &t
	}
	for _, x := range xs {
		hist, err := l.DayHistory(ctx, x.Record.Key())
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return Report{}, fmt.Errorf("explain: history of %s %s %s: %w", employeeID, date, x.Shift, err)
		}
		r.Shifts = append(r.Shifts, Shift{Explanation: x, Stored: stored(x, hist), History: history(hist)})
	}
	return r, nil
}

// stored compares the computed record with the latest stored version.
func stored(x reconcile.Explanation, hist []mapping.DayRecord) string {
	if len(hist) == 0 {
		if !x.Final {
			return "not stored: the day is not final yet"
		}
		return "not stored yet: the next reconcile run over this date stores it as version 1"
	}
	last := hist[len(hist)-1]
	switch {
	case last.ContentHash() == x.Record.ContentHash():
		return fmt.Sprintf("matches stored version %d", last.Version)
	case !x.Final:
		return fmt.Sprintf("stored version %d differs, and the day is not final at this watermark", last.Version)
	}
	return fmt.Sprintf("differs from stored version %d: the next reconcile run over this date stores version %d", last.Version, last.Version+1)
}
