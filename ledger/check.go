package ledger

import (
	"fmt"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// DateLayout is how the ledger writes dates: YYYY-MM-DD, which sorts and
// compares as text.
const DateLayout = "2006-01-02"

// CheckDate reports an error naming field and value unless v is a
// YYYY-MM-DD date.
func CheckDate(field, v string) error {
	if _, err := time.Parse(DateLayout, v); err != nil {
		return fmt.Errorf("%s %q is not a date; write it as YYYY-MM-DD, e.g. 2026-11-20", field, v)
	}
	return nil
}

// CheckEmployeeDay reports what is wrong with an employee-day: an empty
// employee id or a date not written YYYY-MM-DD.
func CheckEmployeeDay(d mapping.EmployeeDay) error {
	if d.EmployeeID == "" {
		return fmt.Errorf("employee day %q: employee_id is empty; give the HR employee id", d.Date)
	}
	return CheckDate("date", d.Date)
}

// CheckDirtyRange reports what is wrong with the bounds given to
// DirtyDaysBetween: an empty employee id or a date not written YYYY-MM-DD.
func CheckDirtyRange(firstEmployee, lastEmployee, from, to string) error {
	var problems []string
	if firstEmployee == "" || lastEmployee == "" {
		problems = append(problems, "the first and last employee ids must not be empty; give HR employee ids")
	}
	for _, d := range [][2]string{{"from", from}, {"to", to}} {
		if err := CheckDate(d[0], d[1]); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("dirty days of %q..%q %q..%q: %s", firstEmployee, lastEmployee, from, to, strings.Join(problems, "; "))
	}
	return nil
}

// CheckDayKey reports what is wrong with a day record's key: an empty
// employee id or shift, or a date not written YYYY-MM-DD.
func CheckDayKey(k mapping.DayKey) error {
	var problems []string
	if k.EmployeeID == "" {
		problems = append(problems, "employee_id is empty; give the HR employee id")
	}
	if err := CheckDate("date", k.Date); err != nil {
		problems = append(problems, err.Error())
	}
	if k.Shift == "" {
		problems = append(problems, "shift is empty; give the shift name from the rules")
	}
	if len(problems) > 0 {
		return fmt.Errorf("day record %s/%s/%s: %s", k.EmployeeID, k.Date, k.Shift, strings.Join(problems, "; "))
	}
	return nil
}

// DayVersion names one version of one day record.
type DayVersion struct {
	Key     mapping.DayKey
	Version int
}

// DeliveredOf answers a ledger's DeliveredAll from the versions it found
// in its delivery log: done[i] reports whether recs[i]'s version is one.
func DeliveredOf(recs []mapping.DayRecord, found []DayVersion) []bool {
	set := make(map[DayVersion]bool, len(found))
	for _, f := range found {
		set[f] = true
	}
	done := make([]bool, len(recs))
	for i, r := range recs {
		done[i] = set[DayVersion{r.Key(), r.Version}]
	}
	return done
}
