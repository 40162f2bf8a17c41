package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// datedRange is a compiled DatedAssignment.
type datedRange struct {
	from, to day
	shifts   []int32
}

// assignment is one employee's resolved schedule.
type assignment struct {
	base  []int32
	dated []datedRange
}

// assignmentOf resolves the employee's base shifts (their own assignment
// or the default) and dated assignments.
func (e *Engine) assignmentOf(emp string) assignment {
	base, ok := e.employees[emp]
	if !ok {
		base = e.def
	}
	return assignment{base: base, dated: e.dated[emp]}
}

// on returns the shifts of date d: a dated assignment covering d (from <= d
// <= to) beats the base assignment.
func (a assignment) on(d day) []int32 {
	for _, r := range a.dated {
		if d < r.from {
			break
		}
		if d <= r.to {
			return r.shifts
		}
	}
	return a.base
}

// shiftList resolves a ShiftList to shift indices, reporting unknown and
// repeated names.
func (c *compiler) shiftList(path string, l ShiftList) []int32 {
	if len(l) == 0 {
		c.add(path, "is empty: name a shift or a list of shifts")
		return nil
	}
	out := make([]int32, 0, len(l))
	for i, n := range l {
		ip := path
		if len(l) > 1 {
			ip = fmt.Sprintf("%s[%d]", path, i)
		}
		idx, ok := c.index[n]
		if !ok {
			c.add(ip, "%q is not a shift; define it under shifts or use one of: %s", n, strings.Join(c.names(), ", "))
			continue
		}
		if slices.Contains(out, idx) {
			c.add(ip, "%q is listed twice; a shift occurs at most once a day", n)
			continue
		}
		out = append(out, idx)
	}
	return out
}

func (c *compiler) names() []string {
	names := make([]string, 0, len(c.index))
	for n := range c.index {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// parseWeekday reads a rest day: sun, mon, ..., sat.
func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s == strings.ToLower(d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

func (c *compiler) assign(a Assign) {
	if len(a.Default) == 0 {
		c.add("assign.default", "is required: the shift (or list of shifts) of every employee without an assignment of their own")
	} else {
		c.e.def = c.shiftList("assign.default", a.Default)
	}
	emps := make([]string, 0, len(a.Employees))
	for id := range a.Employees {
		emps = append(emps, id)
	}
	slices.Sort(emps)
	for _, id := range emps {
		if strings.TrimSpace(id) == "" {
			c.add("assign.employees", "has an empty employee id; use the HR employee id as key")
			continue
		}
		c.e.employees[id] = c.shiftList("assign.employees."+id, a.Employees[id])
	}
	for i, d := range a.Dated {
		p := fmt.Sprintf("assign.dated[%d]", i)
		if strings.TrimSpace(d.Employee) == "" {
			c.add(p+".employee", "is required: the HR employee id this assignment is for")
		}
		r := datedRange{shifts: c.shiftList(p+".shifts", d.Shifts)}
		var okFrom, okTo bool
		if r.from, okFrom = parseDay(d.From); !okFrom {
			c.add(p+".from", "%q must be a date YYYY-MM-DD", d.From)
		}
		if r.to, okTo = parseDay(d.To); !okTo {
			c.add(p+".to", "%q must be a date YYYY-MM-DD", d.To)
		}
		if okFrom && okTo && r.to < r.from {
			c.add(p+".to", "%q is before from %q; the range is inclusive, so use to >= from", d.To, d.From)
			continue
		}
		for _, o := range c.e.dated[d.Employee] {
			if okFrom && okTo && r.from <= o.to && o.from <= r.to {
				c.add(p, "%s to %s overlaps another dated assignment of %q (%s to %s); make the ranges disjoint", d.From, d.To, d.Employee, o.from, o.to)
			}
		}
		c.e.dated[d.Employee] = append(c.e.dated[d.Employee], r)
	}
	for _, rs := range c.e.dated {
		slices.SortFunc(rs, func(a, b datedRange) int { return int(a.from) - int(b.from) })
	}
	for i, w := range a.RestDays {
		wd, ok := parseWeekday(w)
		if !ok {
			c.add(fmt.Sprintf("assign.rest_days[%d]", i), "%q must be one of mon, tue, wed, thu, fri, sat, sun", w)
			continue
		}
		c.e.restDays[wd] = true
	}
}
