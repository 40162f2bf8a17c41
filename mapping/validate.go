package mapping

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxFutureSkew is how far a punch may lie in the future of its received_at
// before it is rejected: phones with a drifting clock are common, punches an
// hour ahead are not.
const MaxFutureSkew = 10 * time.Minute

// ErrInvalid is matched by every validation failure (errors.Is).
var ErrInvalid = errors.New("invalid event")

// FieldError is one validation failure: which field, what value it had and
// what is wrong with it.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (f FieldError) Error() string {
	if f.Value == "" {
		return fmt.Sprintf("%s: %s", f.Field, f.Reason)
	}
	return fmt.Sprintf("%s=%q: %s", f.Field, f.Value, f.Reason)
}

// ValidationError lists every problem found in one event.
type ValidationError struct {
	ID     string
	Errors []FieldError
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Errors))
	for i, f := range v.Errors {
		parts[i] = f.Error()
	}
	if v.ID != "" {
		return fmt.Sprintf("event %s: %s", v.ID, strings.Join(parts, "; "))
	}
	return "event: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (v *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Enumerations accepted by validation.
var (
	kinds       = []string{string(KindPunch), string(KindApproval), string(KindMakeup)}
	vias        = []string{string(ViaPull), string(ViaWebhook), string(ViaStream), string(ViaImport)}
	directions  = []string{string(DirIn), string(DirOut), string(DirUnknown)}
	methods     = []string{MethodApp, MethodDevice, MethodWifi, MethodBeacon, MethodFace, MethodField, MethodMakeup, MethodSystem}
	statuses    = []string{string(StatusPending), string(StatusApproved), string(StatusRejected), string(StatusRevoked)}
	approvals   = []string{ApprovalLeave, ApprovalOvertime, ApprovalTrip, ApprovalOut, ApprovalOther}
	results     = []string{"normal", "late", "serious_late", "early", "absent", "not_signed", "outside", "time_exception", "location_exception", "device_exception", "wifi_exception"}
	datums      = []string{"wgs84", "gcj02", "bd09"}
	dayStatuses = []string{string(DayPresent), string(DayHalfDay), string(DayAbsent), string(DayOnLeave), string(DayRestDay), string(DayHoliday)}
)

// PlatformResults lists the normalized platform verdicts a punch may carry.
func PlatformResults() []string { return append([]string(nil), results...) }

type checker struct{ errs []FieldError }

func (c *checker) add(field, value, reason string) {
	c.errs = append(c.errs, FieldError{Field: field, Value: value, Reason: reason})
}

func (c *checker) required(field, value string) bool {
	if value == "" {
		c.add(field, "", "is required")
		return false
	}
	return true
}

func (c *checker) oneOf(field, value string, allowed []string) {
	if !c.required(field, value) {
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	c.add(field, value, "must be one of "+strings.Join(allowed, ", "))
}

func (c *checker) timeSet(field string, t time.Time) {
	if t.IsZero() {
		c.add(field, "", "is required (RFC 3339 with an offset, e.g. 2026-11-20T09:02:11+08:00)")
	}
}

// Validate checks e against every rule of the common schema v1 and returns a
// *ValidationError listing all failures, or nil.
func Validate(e Event) error {
	var c checker
	if e.Schema != EventSchema {
		c.add("schema", e.Schema, "must be "+EventSchema)
	}
	c.required("platform", e.Platform)
	c.required("connector", e.Connector)
	c.required("tenant", e.Tenant)
	c.required("user_id", e.UserID)
	c.oneOf("kind", string(e.Kind), kinds)
	c.oneOf("via", string(e.Via), vias)
	c.timeSet("time", e.Time)
	c.timeSet("received_at", e.ReceivedAt)
	validateID(&c, e)

	present := 0
	for _, p := range []bool{e.Punch != nil, e.Approval != nil, e.Makeup != nil} {
		if p {
			present++
		}
	}
	if present != 1 {
		c.add("kind", string(e.Kind), fmt.Sprintf("exactly one of punch, approval, makeup must be present (found %d)", present))
	}
	switch e.Kind {
	case KindPunch:
		if e.Punch == nil {
			c.add("punch", "", "is required when kind is punch")
		} else {
			validatePunch(&c, e)
		}
	case KindApproval:
		if e.Approval == nil {
			c.add("approval", "", "is required when kind is approval")
		} else {
			validateApproval(&c, e.Approval)
		}
	case KindMakeup:
		if e.Makeup == nil {
			c.add("makeup", "", "is required when kind is makeup")
		} else {
			c.oneOf("makeup.direction", string(e.Makeup.Direction), directions)
			c.oneOf("makeup.status", string(e.Makeup.Status), statuses)
			c.required("makeup.approval_id", e.Makeup.ApprovalID)
		}
	}
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{ID: e.ID, Errors: c.errs}
}

// validateID checks that id is <platform>/<tenant>/<kind>/<record id>.
func validateID(c *checker, e Event) {
	if !c.required("id", e.ID) {
		return
	}
	parts := strings.SplitN(e.ID, "/", 4)
	if len(parts) != 4 || parts[3] == "" {
		c.add("id", e.ID, "must be <platform>/<tenant>/<kind>/<record id>")
		return
	}
	if parts[0] != e.Platform || parts[1] != e.Tenant || parts[2] != string(e.Kind) {
		c.add("id", e.ID, fmt.Sprintf("must start with %s/%s/%s/ to match platform, tenant and kind", e.Platform, e.Tenant, e.Kind))
	}
}

func validatePunch(c *checker, e Event) {
	p := e.Punch
	c.oneOf("punch.direction", string(p.Direction), directions)
	c.oneOf("punch.method", p.Method, methods)
	if p.PlatformResult != "" {
		c.oneOf("punch.platform_result", p.PlatformResult, results)
	}
	if p.Datum != "" {
		c.oneOf("punch.datum", p.Datum, datums)
	}
	if (p.Lat == nil) != (p.Lng == nil) {
		c.add("punch.lat", "", "lat and lng must be given together")
	}
	if p.Lat != nil && (*p.Lat < -90 || *p.Lat > 90) {
		c.add("punch.lat", fmt.Sprint(*p.Lat), "must be within [-90, 90]")
	}
	if p.Lng != nil && (*p.Lng < -180 || *p.Lng > 180) {
		c.add("punch.lng", fmt.Sprint(*p.Lng), "must be within [-180, 180]")
	}
	if p.AccuracyM != nil && *p.AccuracyM < 0 {
		c.add("punch.accuracy_m", fmt.Sprint(*p.AccuracyM), "must not be negative")
	}
	if !e.Time.IsZero() && !e.ReceivedAt.IsZero() && e.Time.Sub(e.ReceivedAt) > MaxFutureSkew {
		c.add("time", e.Time.Format(time.RFC3339), fmt.Sprintf("is %s after received_at %s; a punch may be at most %s in the future of its arrival (check the device clock)",
			e.Time.Sub(e.ReceivedAt).Round(time.Second), e.ReceivedAt.Format(time.RFC3339), MaxFutureSkew))
	}
}

func validateApproval(c *checker, a *Approval) {
	c.oneOf("approval.type", a.Type, approvals)
	c.oneOf("approval.status", string(a.Status), statuses)
	c.required("approval.approval_id", a.ApprovalID)
	c.timeSet("approval.start", a.Start)
	c.timeSet("approval.end", a.End)
	if !a.Start.IsZero() && !a.End.IsZero() && a.End.Before(a.Start) {
		c.add("approval.end", a.End.Format(time.RFC3339), "must not be before approval.start "+a.Start.Format(time.RFC3339))
	}
	if a.DurationMinutes < 0 {
		c.add("approval.duration_minutes", fmt.Sprint(a.DurationMinutes), "must not be negative")
	}
}

// ValidateDay checks a day record's enumerations and shape; reconciliation
// output that fails it is a bug, and sinks refuse to send it.
func ValidateDay(d DayRecord) error {
	var c checker
	c.required("employee_id", d.EmployeeID)
	if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
		c.add("date", d.Date, "must be YYYY-MM-DD")
	}
	c.required("shift", d.Shift)
	c.oneOf("status", string(d.Status), dayStatuses)
	for _, m := range d.Missing {
		if m != string(DirIn) && m != string(DirOut) {
			c.add("missing", m, "entries must be in or out")
		}
	}
	if d.Version < 1 {
		c.add("version", fmt.Sprint(d.Version), "must be at least 1")
	}
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{ID: d.EmployeeID + "/" + d.Date + "/" + d.Shift, Errors: c.errs}
}
