package reconcile

import (
	"time"
)

// day is a civil date counted in days since 1970-01-01. The engine works on
// day numbers so that walking dates and checking weekdays costs no time
// zone arithmetic; only a shift's start and end are placed in the zone.
type day int32

// parseDay reads a strict YYYY-MM-DD date.
func parseDay(s string) (day, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	y, m, d := t.Date()
	return dayOf(y, m, d), true
}

// dayOf converts a proleptic Gregorian date to a day number (the inverse of
// civil, after H. Hinnant's days_from_civil).
func dayOf(y int, m time.Month, d int) day {
	mm := int(m)
	if mm <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (mm + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

// civil converts a day number back to year, month and day.
func (d day) civil() (int, time.Month, int) {
	z := int(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, time.Month(m), dd
}

// String formats the day as YYYY-MM-DD without fmt (it runs once per
// record on the hot path).
func (d day) String() string {
	y, m, dd := d.civil()
	var b [10]byte
	b[0] = byte('0' + y/1000%10)
	b[1] = byte('0' + y/100%10)
	b[2] = byte('0' + y/10%10)
	b[3] = byte('0' + y%10)
	b[4] = '-'
	b[5] = byte('0' + int(m)/10)
	b[6] = byte('0' + int(m)%10)
	b[7] = '-'
	b[8] = byte('0' + dd/10)
	b[9] = byte('0' + dd%10)
	return string(b[:])
}

// weekday of the day; 1970-01-01 was a Thursday.
func (d day) weekday() time.Weekday {
	w := (int(d) + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// at is the instant, in Unix seconds, of minute-of-day min on day d in the
// engine's zone. A wall time that a DST change skips is normalized by
// time.Date.
func (e *Engine) at(d day, min int) int64 {
	y, m, dd := d.civil()
	return time.Date(y, m, dd, min/60, min%60, 0, 0, e.loc).Unix()
}

// dayOfInstant is the date, in the engine's zone, of the instant sec.
func (e *Engine) dayOfInstant(sec int64) day {
	y, m, d := time.Unix(sec, 0).In(e.loc).Date()
	return dayOf(y, m, d)
}
