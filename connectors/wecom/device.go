package wecom

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

// filterByUpload is filter_type 2 of get_hardware_checkin_data: the range
// is the time the device uploaded the punch, not the punch time (B2.2).
const filterByUpload = 2

type hardwareRequest struct {
	FilterType int      `json:"filter_type"`
	StartTime  int64    `json:"starttime"`
	EndTime    int64    `json:"endtime"`
	UserIDList []string `json:"useridlist"`
}

type hardwareResponse struct {
	CheckinData []hardwareRow `json:"checkindata"`
}

// pullDevices reads the device punches uploaded in w and reconciles them
// with the check-in rows (see Pull).
//
// How the two APIs relate, as read from their pages (B2.1, B2.2): the
// device API returns the raw records of attendance machines "including
// those the check-in app did not record because they broke a rule" and
// never phone punches; getcheckindata returns what the check-in app
// recorded, machine punches that obey the rules included. A machine punch
// that obeys the rules therefore appears in both, at the same user and
// second, and its check-in row is the richer record (direction, schedule,
// exceptions). So a raw punch with a check-in row is not emitted — its
// row is — and one without is emitted with PunchID type "device". An id
// shared by both was not possible: the device record has no check-in type.
func (c *Connector) pullDevices(ctx context.Context, users []string, w connectors.Window, seen *punchSet, em *emitter, received time.Time) error {
	rows, err := c.uploadedDevicePunches(ctx, users, w)
	if errors.Is(err, ErrPermission) {
		c.devicesOff.Store(true)
		c.log.Warn("device punches unavailable, no longer pulling them", "api", apiHardwareData, "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.backfillCheckins(ctx, rows, w, seen, em, received); err != nil {
		return err
	}
	var events []mapping.Event
	for _, r := range rows {
		if seen.has(string(r.UserID), int64(r.CheckinTime)) {
			continue // its check-in row stands for it
		}
		if ev, ok := r.event(c.name, c.cfg.CorpID, received, mapping.ViaPull); ok {
			events = append(events, ev)
		}
	}
	return em.send(ctx, events)
}

// uploadedDevicePunches lists the raw device punches uploaded in w, each
// (user, second) once: an upload at a span's edge is in both spans.
func (c *Connector) uploadedDevicePunches(ctx context.Context, users []string, w connectors.Window) ([]hardwareRow, error) {
	spans := secondSpans(w, maxSpan)
	groups := chunk(users, maxUsersPerCall)
	var (
		mu   sync.Mutex
		rows []hardwareRow
		seen = map[punchKey]bool{}
	)
	err := c.forEach(ctx, len(spans)*len(groups), func(ctx context.Context, i int) error {
		span, group := spans[i/len(groups)], groups[i%len(groups)]
		req := hardwareRequest{FilterType: filterByUpload, StartTime: span.From.Unix(), EndTime: span.To.Unix(), UserIDList: group}
		var resp hardwareResponse
		if err := c.client.call(ctx, roleCheckin, apiHardwareData, req, &resp); err != nil {
			return fmt.Errorf("wecom: list device punches of %d users uploaded from %s to %s: %w",
				len(group), span.From.In(shanghai).Format(time.RFC3339), span.To.In(shanghai).Format(time.RFC3339), err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range resp.CheckinData {
			k := punchKey{string(r.UserID), int64(r.CheckinTime)}
			if k.user == "" || k.at <= 0 || seen[k] {
				continue
			}
			seen[k] = true
			rows = append(rows, r)
		}
		return nil
	})
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].UserID != rows[j].UserID {
			return rows[i].UserID < rows[j].UserID
		}
		return rows[i].CheckinTime < rows[j].CheckinTime
	})
	return rows, err
}

// backfillCheckins fetches again the check-in rows of the days of device
// punches that lie outside w (uploaded late), for their users only, and
// emits those rows that lie outside w (the main pass emitted the others).
// The days are grouped into spans of at most 30 days.
func (c *Connector) backfillCheckins(ctx context.Context, rows []hardwareRow, w connectors.Window, seen *punchSet, em *emitter, received time.Time) error {
	var (
		days  []time.Time
		users []string
		inSet = map[string]bool{}
	)
	for _, r := range rows {
		at := time.Unix(int64(r.CheckinTime), 0)
		if !at.Before(w.From) && at.Before(w.To) {
			continue
		}
		days = append(days, dayStart(at))
		if u := string(r.UserID); !inSet[u] {
			inSet[u] = true
			users = append(users, u)
		}
	}
	if len(days) == 0 {
		return nil
	}
	sort.Strings(users)
	outside := func(t time.Time) bool { return t.Before(w.From) || !t.Before(w.To) }
	for _, span := range daySpans(days, maxSpan) {
		c.log.Info("device punches uploaded late, reading their days again", "users", len(users),
			"from", span.From.Format(time.DateOnly), "to", span.To.Format(time.DateOnly))
		if err := c.pullCheckins(ctx, users, span, outside, seen, em, received); err != nil {
			return err
		}
	}
	return nil
}

// dayStart is the midnight (Asia/Shanghai) that starts t's day.
func dayStart(t time.Time) time.Time {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, shanghai)
}

// daySpans covers the given day starts with as few spans of at most size
// as a greedy pass finds: each span starts at the earliest uncovered day
// and takes every later day that still fits.
func daySpans(days []time.Time, size time.Duration) []connectors.Window {
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	var spans []connectors.Window
	for _, d := range days {
		end := d.AddDate(0, 0, 1)
		if n := len(spans); n > 0 && d.Before(spans[n-1].To) {
			continue
		} else if n > 0 && !end.After(spans[n-1].From.Add(size)) {
			spans[n-1].To = end
			continue
		}
		spans = append(spans, connectors.Window{From: d, To: end})
	}
	return spans
}
