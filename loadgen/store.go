package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// LedgerStore reads the events straight from a ledger.
type LedgerStore struct{ Ledger ledger.Ledger }

// Quarantined implements Store.
func (s LedgerStore) Quarantined(ctx context.Context, from, to time.Time) ([]string, error) {
	q, err := s.Ledger.Quarantined(ctx, 0)
	if err != nil {
		return nil, err
	}
	return idsIn(q, from, to), nil
}

// Events implements Store.
func (s LedgerStore) Events(ctx context.Context, employee string, from, to time.Time) ([]string, error) {
	evs, err := s.Ledger.Events(ctx, employee, from, to)
	if err != nil {
		return nil, err
	}
	return idsIn(evs, from, to), nil
}

// idsIn returns the ids of the events timed in [from, to); approvals
// overlapping the range but decided outside it are left to the range that
// holds their time.
func idsIn(evs []mapping.Event, from, to time.Time) []string {
	var ids []string
	for _, e := range evs {
		if !e.Time.Before(from) && e.Time.Before(to) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// AdminStore reads the events through the admin API of a running server:
// GET /api/v1/events?date=D for the quarantined events of a day, and
// ?employee=E&date=D for an employee's.
type AdminStore struct {
	base   string
	token  string
	client *retryablehttp.Client
	loc    *time.Location
}

// NewAdminStore returns an AdminStore for the server at base (its root URL)
// with a viewer token; loc is the time zone the server's days are in.
func NewAdminStore(base, token string, loc *time.Location) *AdminStore {
	c := retryablehttp.NewClient()
	c.Logger = nil
	c.RetryMax = 3
	c.HTTPClient.Timeout = 30 * time.Second
	return &AdminStore{base: strings.TrimRight(base, "/"), token: token, client: c, loc: loc}
}

// Quarantined implements Store.
func (s *AdminStore) Quarantined(ctx context.Context, from, to time.Time) ([]string, error) {
	return s.each(ctx, "", from, to, func(d dayEvents) []mapping.Event { return d.Quarantined })
}

// Events implements Store.
func (s *AdminStore) Events(ctx context.Context, employee string, from, to time.Time) ([]string, error) {
	return s.each(ctx, employee, from, to, func(d dayEvents) []mapping.Event { return d.Events })
}

type dayEvents struct {
	Events      []mapping.Event `json:"events"`
	Quarantined []mapping.Event `json:"quarantined"`
}

// each asks for every day that can hold an instant of [from, to), one day
// wider on both sides for servers in another time zone, and keeps the ids
// of the events pick returns that are timed in the range.
func (s *AdminStore) each(ctx context.Context, employee string, from, to time.Time, pick func(dayEvents) []mapping.Event) ([]string, error) {
	var ids []string
	last := to.In(s.loc).AddDate(0, 0, 1).Format(time.DateOnly)
	for d := from.In(s.loc).AddDate(0, 0, -1); d.Format(time.DateOnly) <= last; d = d.AddDate(0, 0, 1) {
		q := url.Values{"date": {d.Format(time.DateOnly)}}
		if employee != "" {
			q.Set("employee", employee)
		}
		var out dayEvents
		if err := s.get(ctx, "/api/v1/events?"+q.Encode(), &out); err != nil {
			return nil, err
		}
		ids = append(ids, idsIn(pick(out), from, to)...)
	}
	return ids, nil
}

func (s *AdminStore) get(ctx context.Context, path string, out any) error {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("admin API: read %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin API: GET %s: HTTP %d: %s", path, resp.StatusCode, clip(strings.TrimSpace(string(b))))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin API: decode %s: %w", path, err)
	}
	return nil
}
