package mapping

import (
	"encoding/json"
	"time"
)

// UnmarshalDay decodes data into *r with the result json.Unmarshal would
// give. Every push reads its due records back from the ledger, and every
// export and summary reads days; through reflection the decoding took
// most of that read's CPU. The ledger's records are all written by
// json.Marshal (ContentJSON), so the canonical reader of UnmarshalEvent
// decodes nearly every one directly; anything else is handed to
// json.Unmarshal whole, which TestUnmarshalDayMatchesEncodingJSON and
// FuzzUnmarshalDay hold it to.
func UnmarshalDay(data []byte, r *DayRecord) error {
	// As UnmarshalEvent: a generic form of the two, taking the reader as a
	// function, let the record escape to the heap.
	d := canonDecoder{b: data, s: string(data)}
	var fast DayRecord
	if d.day(&fast) && d.i == len(d.b) {
		*r = fast
		return nil
	}
	*r = DayRecord{}
	return json.Unmarshal(data, r)
}

// CanonicalDays decodes data when it is a JSON array of day records as
// json.Marshal writes them (DayRecord.MarshalJSON, joined with commas), and
// reports whether it was. Anything else gives false (whitespace, a field a
// day record does not have, a repeated key, another form of a value), and
// the caller decodes data with encoding/json, strictly or not: what this
// reads decodes to the same records either way, and holds no unknown
// field. A push's batches are such arrays; decoding them by reflection
// took most of the fake HR system's CPU.
func CanonicalDays(data []byte) ([]DayRecord, bool) {
	d := canonDecoder{b: data, s: string(data)}
	if !d.lit('[') {
		return nil, false
	}
	out := []DayRecord{}
	if !d.lit(']') {
		for {
			var r DayRecord
			if !d.day(&r) {
				return nil, false
			}
			out = append(out, r)
			if d.lit(']') {
				break
			}
			if !d.lit(',') {
				return nil, false
			}
		}
	}
	if d.i != len(d.b) {
		return nil, false
	}
	return out, true
}

func (d *canonDecoder) day(r *DayRecord) bool {
	return d.object(func(key string) bool {
		switch key {
		case "schema":
			return into(d, &r.Schema)
		case "employee_id":
			return into(d, &r.EmployeeID)
		case "date":
			return into(d, &r.Date)
		case "shift":
			return into(d, &r.Shift)
		case "status":
			return into(d, &r.Status)
		case "first_in":
			r.FirstIn = new(time.Time)
			return d.time(r.FirstIn)
		case "last_out":
			r.LastOut = new(time.Time)
			return d.time(r.LastOut)
		case "worked_minutes":
			return d.integer(&r.WorkedMinutes)
		case "late":
			return d.boolean(&r.Late)
		case "late_minutes":
			return d.integer(&r.LateMinutes)
		case "early_exit":
			return d.boolean(&r.EarlyExit)
		case "early_exit_minutes":
			return d.integer(&r.EarlyExitMinutes)
		case "overtime_minutes":
			return d.integer(&r.OvertimeMinutes)
		case "leave_minutes":
			return d.integer(&r.LeaveMinutes)
		case "missing":
			return d.strings(&r.Missing)
		case "anomalies":
			return d.anomalies(&r.Anomalies)
		case "events":
			return d.strings(&r.Events)
		case "version":
			return d.integer(&r.Version)
		}
		return false
	})
}

// anomalies reads a list as strings does; a generic list reader taking
// the item's reader as a function put each item on the heap.
func (d *canonDecoder) anomalies(dst *[]Anomaly) bool {
	if !d.lit('[') {
		return false
	}
	out := []Anomaly{}
	if !d.lit(']') {
		for {
			var a Anomaly
			if !d.anomaly(&a) {
				return false
			}
			out = append(out, a)
			if d.lit(']') {
				break
			}
			if !d.lit(',') {
				return false
			}
		}
	}
	*dst = out
	return true
}

func (d *canonDecoder) anomaly(a *Anomaly) bool {
	return d.object(func(key string) bool {
		switch key {
		case "type":
			return into(d, &a.Type)
		case "event_id":
			return into(d, &a.EventID)
		case "detail":
			return into(d, &a.Detail)
		}
		return false
	})
}
