package loadgen

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Store is where Verify looks for the events: a ledger, or the admin API
// of the server that holds one.
type Store interface {
	// Quarantined returns the ids of the quarantined events (those of
	// users without an employee id) whose time lies in [from, to).
	Quarantined(ctx context.Context, from, to time.Time) ([]string, error)
	// Events returns the ids of the employee's events whose time lies in
	// [from, to).
	Events(ctx context.Context, employee string, from, to time.Time) ([]string, error)
}

// Check is what Verify found.
type Check struct {
	Expected int `json:"expected"`
	// Stored counts the expected events found exactly once.
	Stored int `json:"stored_once"`
	// Missing lists (up to 10 of) the expected events not found, and
	// Repeated those found more than once; MissingCount and RepeatedCount
	// count them all.
	Missing       []string `json:"missing,omitempty"`
	MissingCount  int      `json:"missing_count"`
	Repeated      []string `json:"repeated,omitempty"`
	RepeatedCount int      `json:"repeated_count"`
}

// OK reports whether every expected event is stored exactly once.
func (c Check) OK() bool {
	return c.MissingCount == 0 && c.RepeatedCount == 0 && c.Stored == c.Expected
}

// Verify looks up every expected event of w in s: the quarantined ones
// once, and each employee's over the workload's time span.
func Verify(ctx context.Context, s Store, w Workload) (Check, error) {
	found := map[string]int{}
	q, err := s.Quarantined(ctx, w.From, w.To)
	if err != nil {
		return Check{}, fmt.Errorf("loadgen: list quarantined events: %w", err)
	}
	for _, id := range q {
		found[id]++
	}
	var employees []string
	seen := map[string]bool{}
	for _, e := range w.Expected {
		if e.Employee != "" && !seen[e.Employee] {
			seen[e.Employee] = true
			employees = append(employees, e.Employee)
		}
	}
	slices.Sort(employees)
	for _, emp := range employees {
		ids, err := s.Events(ctx, emp, w.From, w.To)
		if err != nil {
			return Check{}, fmt.Errorf("loadgen: list events of %s: %w", emp, err)
		}
		for _, id := range ids {
			found[id]++
		}
	}
	c := Check{Expected: len(w.Expected)}
	for _, e := range w.Expected {
		switch n := found[e.ID]; {
		case n == 1:
			c.Stored++
		case n == 0:
			c.MissingCount++
			if len(c.Missing) < 10 {
				c.Missing = append(c.Missing, e.ID)
			}
		default:
			c.RepeatedCount++
			if len(c.Repeated) < 10 {
				c.Repeated = append(c.Repeated, fmt.Sprintf("%s ×%d", e.ID, n))
			}
		}
	}
	return c, nil
}

// VerifyWithin repeats Verify until every event is found or wait has
// passed, for receivers that store some events after they answer (WeCom
// approvals are read from the platform first). sleep waits between tries.
func VerifyWithin(ctx context.Context, s Store, w Workload, wait time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) (Check, error) {
	deadline := now().Add(wait)
	for {
		c, err := Verify(ctx, s, w)
		if err != nil || c.OK() || c.RepeatedCount > 0 || !now().Before(deadline) {
			return c, err
		}
		if err := sleep(ctx, time.Second); err != nil {
			return c, err
		}
	}
}
