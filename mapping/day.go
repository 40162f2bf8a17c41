package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
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
	if b, err := d.appendJSON(nil); err == nil {
		return b, nil
	}
	// A time JSON cannot hold: encoding/json says so in its own words.
	return d.reflectJSON()
}

// reflectJSON is MarshalJSON through encoding/json's reflection: the
// reference appendJSON is tested against, and the encoder of what it
// refuses.
func (d DayRecord) reflectJSON() ([]byte, error) {
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
	return HashContent(d.ContentJSON())
}

// ContentJSON returns the record's JSON with version 0: what ContentHash
// hashes and, with the version put in by VersionedJSON, the record's JSON.
// A ledger stores a record with one encoding this way, and the caller can
// make it before the ledger's writer knows the version.
func (d DayRecord) ContentJSON() []byte {
	d.Version = 0
	return d.marshal()
}

// marshal encodes d. DayRecord holds only plain values, so json.Marshal
// cannot fail on it but for a time beyond year 9999, which no rule makes.
func (d DayRecord) marshal() []byte {
	if b, err := d.appendJSON(make([]byte, 0, 512)); err == nil {
		return b
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic("mapping: marshal day record: " + err.Error())
	}
	return b
}

// HashContent returns the content hash of a record's ContentJSON.
func HashContent(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// versionZero ends every ContentJSON: version is the last field.
const versionZero = `"version":0}`

// VersionedJSON returns the record's JSON with version v, byte for byte
// what json.Marshal gives for it, from content, the record's ContentJSON,
// without encoding the record again.
func (d DayRecord) VersionedJSON(content []byte, v int) []byte {
	if !bytes.HasSuffix(content, []byte(versionZero)) {
		// Not a ContentJSON: encode the record itself.
		d.Version = v
		return d.marshal()
	}
	out := make([]byte, 0, len(content)+8)
	out = append(out, content[:len(content)-len("0}")]...) // up to "version":
	out = strconv.AppendInt(out, int64(v), 10)
	return append(out, '}')
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
