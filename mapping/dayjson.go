package mapping

import (
	"fmt"
	"strconv"
)

// appendJSON appends the record as json.Marshal writes it (through
// MarshalJSON: the schema defaulted, empty lists as []), byte for byte.
// Reconciliation encodes every day it computes to hash and store it, and
// through reflection that was a tenth of a night's CPU.
// TestDayAppendJSONMatchesEncodingJSON holds it to json.Marshal.
func (d *DayRecord) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"schema":`...)
	if d.Schema == "" {
		b = appendString(b, DaySchema, true)
	} else {
		b = appendString(b, d.Schema, true)
	}
	b = append(b, `,"employee_id":`...)
	b = appendString(b, d.EmployeeID, true)
	b = append(b, `,"date":`...)
	b = appendString(b, d.Date, true)
	b = append(b, `,"shift":`...)
	b = appendString(b, d.Shift, true)
	b = append(b, `,"status":`...)
	b = appendString(b, string(d.Status), true)
	if d.FirstIn != nil {
		b = append(b, `,"first_in":`...)
		if b, err = appendTime(b, *d.FirstIn, false); err != nil {
			return b, fmt.Errorf("json: day first_in: %w", err)
		}
	}
	if d.LastOut != nil {
		b = append(b, `,"last_out":`...)
		if b, err = appendTime(b, *d.LastOut, false); err != nil {
			return b, fmt.Errorf("json: day last_out: %w", err)
		}
	}
	b = append(b, `,"worked_minutes":`...)
	b = strconv.AppendInt(b, int64(d.WorkedMinutes), 10)
	b = append(b, `,"late":`...)
	b = strconv.AppendBool(b, d.Late)
	b = append(b, `,"late_minutes":`...)
	b = strconv.AppendInt(b, int64(d.LateMinutes), 10)
	b = append(b, `,"early_exit":`...)
	b = strconv.AppendBool(b, d.EarlyExit)
	b = append(b, `,"early_exit_minutes":`...)
	b = strconv.AppendInt(b, int64(d.EarlyExitMinutes), 10)
	b = append(b, `,"overtime_minutes":`...)
	b = strconv.AppendInt(b, int64(d.OvertimeMinutes), 10)
	b = append(b, `,"leave_minutes":`...)
	b = strconv.AppendInt(b, int64(d.LeaveMinutes), 10)
	b = append(b, `,"missing":`...)
	b = appendStrings(b, d.Missing)
	b = append(b, `,"anomalies":[`...)
	for i, a := range d.Anomalies {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendString(b, a.Type, true)
		if a.EventID != "" {
			b = append(b, `,"event_id":`...)
			b = appendString(b, a.EventID, true)
		}
		if a.Detail != "" {
			b = append(b, `,"detail":`...)
			b = appendString(b, a.Detail, true)
		}
		b = append(b, '}')
	}
	b = append(b, `],"events":`...)
	b = appendStrings(b, d.Events)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(d.Version), 10)
	return append(b, '}'), nil
}

// appendStrings writes a list of strings, [] for none.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s, true)
	}
	return append(b, ']')
}
