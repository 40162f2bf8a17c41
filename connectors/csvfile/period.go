package csvfile

import (
	"fmt"
	"time"
)

// period is one payroll period: the dates [start, end) in the sink's zone.
type period struct {
	key   string // in file names: 2026-11, 2026-11-01_15
	start time.Time
	end   time.Time // the next period's start, 00:00
}

// periodOf returns the period that holds date (YYYY-MM-DD).
func periodOf(date, kind string, loc *time.Location) (period, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return period{}, fmt.Errorf("day record date %q: want YYYY-MM-DD", date)
	}
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, loc)
	next := first.AddDate(0, 1, 0)
	if kind == PeriodMonth {
		return period{key: first.Format("2006-01"), start: first, end: next}, nil
	}
	mid := first.AddDate(0, 0, 15)
	if d.Before(mid) {
		return period{key: first.Format("2006-01") + "-01_15", start: first, end: mid}, nil
	}
	last := next.AddDate(0, 0, -1).Day()
	return period{key: fmt.Sprintf("%s-16_%02d", first.Format("2006-01"), last), start: mid, end: next}, nil
}

// closesAt is when a period is exported.
func (p period) closesAt(after time.Duration) time.Time { return p.end.Add(after) }
