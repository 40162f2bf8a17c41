package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// DayStatus is the attendance verdict of one employee's shift occurrence.
type DayStatus string

// Day statuses.
const (
	DayPresent DayStatus = "present"
	DayHalfDay DayStatus = "half_day"
	DayAbsent  DayStatus = "absent"
	DayOnLeave DayStatus = "on_leave"
	DayRestDay DayStatus = "rest_day"
	DayHoliday DayStatus = "holiday"
)

// Anomaly is something about a day worth a human's look. Anomalies never
// change a day's status; they are there to be seen and explained.
type Anomaly struct {
	Type    string `json:"type"`
	EventID string `json:"event_id,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// DayRecord is the reconciled attendance of one employee for one shift
// occurrence, identified by (EmployeeID, Date, Shift). Date is the scheduled
// start date of the shift in the rules' time zone, as YYYY-MM-DD.
type DayRecord struct {
	Schema           string     `json:"schema"`
	EmployeeID       string     `json:"employee_id"`
	Date             string     `json:"date"`
	Shift            string     `json:"shift"`
	Status           DayStatus  `json:"status"`
	FirstIn          *time.Time `json:"first_in,omitempty"`
	LastOut          *time.Time `json:"last_out,omitempty"`
	WorkedMinutes    int        `json:"worked_minutes"`
	Late             bool       `json:"late"`
	LateMinutes      int        `json:"late_minutes"`
	EarlyExit        bool       `json:"early_exit"`
	EarlyExitMinutes int        `json:"early_exit_minutes"`
	OvertimeMinutes  int        `json:"overtime_minutes"`
	LeaveMinutes     int        `json:"leave_minutes"`
	Missing          []string   `json:"missing"`
	Anomalies        []Anomaly  `json:"anomalies"`
	Events           []string   `json:"events"`
	Version          int        `json:"version"`
}

// MarshalJSON writes empty lists as [] rather than null, as the contract
// requires.
func (d DayRecord) MarshalJSON() ([]byte, error) {
	type plain DayRecord
	p := plain(d)
	if p.Schema == "" {
		p.Schema = DaySchema
	}
	if p.Missing == nil {
		p.Missing = []string{}
	}
	if p.Anomalies == nil {
		p.Anomalies = []Anomaly{}
	}
	if p.Events == nil {
		p.Events = []string{}
	}
	return json.Marshal(p)
}

// Key identifies the shift occurrence a record describes.
func (d DayRecord) Key() DayKey {
	return DayKey{EmployeeID: d.EmployeeID, Date: d.Date, Shift: d.Shift}
}

// ContentHash hashes everything but the version, so that an identical
// recomputation can be recognized and keep its version.
func (d DayRecord) ContentHash() string {
	d.Version = 0
	b, err := json.Marshal(d)
	if err != nil {
		// DayRecord holds only plain values; Marshal cannot fail.
		panic("mapping: marshal day record: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// DayKey identifies one employee's shift occurrence.
type DayKey struct {
	EmployeeID string
	Date       string
	Shift      string
}

// EmployeeDay identifies one employee's calendar day, the unit that new
// events mark dirty for recomputation.
type EmployeeDay struct {
	EmployeeID string
	Date       string
}
