package mapping

import (
	"encoding/json"
	"time"
)

// Schema identifiers written into every event and day record.
const (
	EventSchema = "punchbridge.event/v1"
	DaySchema   = "punchbridge.day/v1"
)

// Kind says which of the payload objects an event carries.
type Kind string

// Event kinds.
const (
	KindPunch    Kind = "punch"
	KindApproval Kind = "approval"
	KindMakeup   Kind = "makeup"
)

// Via says how an event reached Punchbridge.
type Via string

// Ways an event arrives.
const (
	ViaPull    Via = "pull"
	ViaWebhook Via = "webhook"
	ViaStream  Via = "stream"
	ViaImport  Via = "import"
)

// Event is one normalized attendance fact: a punch, an approval or a make-up
// request. Exactly one of Punch, Approval and Makeup is set, matching Kind.
type Event struct {
	Schema     string    `json:"schema"`
	ID         string    `json:"id"`
	Kind       Kind      `json:"kind"`
	Platform   string    `json:"platform"`
	Connector  string    `json:"connector"`
	Tenant     string    `json:"tenant"`
	UserID     string    `json:"user_id"`
	EmployeeID string    `json:"employee_id,omitempty"`
	Time       time.Time `json:"time"`
	ReceivedAt time.Time `json:"received_at"`
	Via        Via       `json:"via"`
	Punch      *Punch    `json:"punch,omitempty"`
	Approval   *Approval `json:"approval,omitempty"`
	Makeup     *Makeup   `json:"makeup,omitempty"`

	// Raw is the platform's own record the event was made from, when the
	// connector keeps it. It is not part of the schema: the ledger stores it
	// apart and purges it after the raw-payload retention.
	Raw json.RawMessage `json:"-"`
}

// Direction of a punch.
type Direction string

// Punch directions.
const (
	DirIn      Direction = "in"
	DirOut     Direction = "out"
	DirUnknown Direction = "unknown"
)

// Punch is the payload of a punch event. Coordinates are pointers so that a
// punch taken at 0,0 is distinguishable from one without a location.
//
// PlatformResult holds the platform's primary verdict; when a platform reports
// several (WeCom joins them with ";"), the first non-normal one is the
// verdict and the rest go to Anomalies, which also carries connector findings
// such as a record the platform flagged invalid. Datum names the coordinate
// system when it is not WGS-84 (WeCom reports GCJ-02). UploadedAt is when
// the platform received the punch from the device, where the platform
// reports it; a pulled punch's received_at is only the pull's time, so
// offline uploads are judged by UploadedAt.
type Punch struct {
	Direction      Direction  `json:"direction"`
	Method         string     `json:"method"`
	Field          bool       `json:"field"`
	Lat            *float64   `json:"lat,omitempty"`
	Lng            *float64   `json:"lng,omitempty"`
	AccuracyM      *float64   `json:"accuracy_m,omitempty"`
	Datum          string     `json:"datum,omitempty"`
	Address        string     `json:"address,omitempty"`
	DeviceID       string     `json:"device_id,omitempty"`
	WifiBSSID      string     `json:"wifi_bssid,omitempty"`
	WifiSSID       string     `json:"wifi_ssid,omitempty"`
	PlatformResult string     `json:"platform_result,omitempty"`
	ScheduledAt    *time.Time `json:"scheduled_at,omitempty"`
	UploadedAt     *time.Time `json:"uploaded_at,omitempty"`
	Anomalies      []string   `json:"anomalies,omitempty"`
}

// Punch methods.
const (
	MethodApp    = "app"
	MethodDevice = "device"
	MethodWifi   = "wifi"
	MethodBeacon = "beacon"
	MethodFace   = "face"
	MethodField  = "field"
	MethodMakeup = "makeup"
	MethodSystem = "system"
)

// Approval is the payload of an approval event (leave, overtime, trip, ...).
type Approval struct {
	Type            string    `json:"type"`
	LeaveType       string    `json:"leave_type,omitempty"`
	Status          Status    `json:"status"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationMinutes int       `json:"duration_minutes,omitempty"`
	ApprovalID      string    `json:"approval_id"`
}

// Approval types.
const (
	ApprovalLeave    = "leave"
	ApprovalOvertime = "overtime"
	ApprovalTrip     = "trip"
	ApprovalOut      = "out"
	ApprovalOther    = "other"
)

// Status is the state of an approval or make-up request.
type Status string

// Approval and make-up states.
const (
	StatusPending  Status = "pending"
	StatusApproved Status = "approved"
	StatusRejected Status = "rejected"
	StatusRevoked  Status = "revoked"
)

// Makeup is the payload of a make-up punch request; the corrected punch
// instant is the event's Time.
type Makeup struct {
	Direction  Direction `json:"direction"`
	Status     Status    `json:"status"`
	ApprovalID string    `json:"approval_id"`
	Reason     string    `json:"reason,omitempty"`
}

// Marshal encodes e as one line of canonical JSON (no trailing newline).
func (e Event) Marshal() ([]byte, error) {
	b, err := e.AppendJSON(nil)
	if err != nil {
		return nil, err
	}
	return b, nil
}
