package reconcile

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Rules is the attendance rules file (see DESIGN.md, "Attendance rules").
type Rules struct {
	// Timezone is the IANA zone in which shift times and dates are read.
	Timezone string `yaml:"timezone"`
	// Shifts by name.
	Shifts map[string]Shift `yaml:"shifts"`
	// Assign says which shifts each employee works on which dates.
	Assign Assign `yaml:"assign"`
	// Holidays are YYYY-MM-DD dates with no scheduled work.
	Holidays []string `yaml:"holidays"`
	// Settle is an extra wait after a shift's window closes before its day
	// is final.
	Settle time.Duration `yaml:"settle"`
	// Anomalies configures the checks that flag days for a human's look.
	Anomalies AnomalyRules `yaml:"anomalies"`
}

// Shift is one shift definition.
type Shift struct {
	Start               string        `yaml:"start"` // HH:MM
	End                 string        `yaml:"end"`   // HH:MM; at or before Start means the next day
	CheckinOpensBefore  time.Duration `yaml:"checkin_opens_before"`
	CheckoutClosesAfter time.Duration `yaml:"checkout_closes_after"`
	LateGrace           time.Duration `yaml:"late_grace"`
	EarlyExitGrace      time.Duration `yaml:"early_exit_grace"`
	HalfDayBelow        time.Duration `yaml:"half_day_below"` // 0 disables
	AbsentBelow         time.Duration `yaml:"absent_below"`   // 0 disables
	Directions          string        `yaml:"directions"`     // alternate | strict
	WorkingHours        string        `yaml:"working_hours"`  // first_last | every_pair
	Overtime            Overtime      `yaml:"overtime"`
}

// Overtime is a shift's overtime policy.
type Overtime struct {
	After            time.Duration `yaml:"after"`
	RequiresApproval bool          `yaml:"requires_approval"`
}

// Assign maps employees to shifts. Dated assignments beat per-employee ones,
// which beat the default.
type Assign struct {
	Default   ShiftList            `yaml:"default"`
	Employees map[string]ShiftList `yaml:"employees"`
	Dated     []DatedAssignment    `yaml:"dated"`
	RestDays  []string             `yaml:"rest_days"` // mon..sun
}

// DatedAssignment assigns shifts to an employee for dates in [From, To].
type DatedAssignment struct {
	Employee string    `yaml:"employee"`
	Shifts   ShiftList `yaml:"shifts"`
	From     string    `yaml:"from"` // YYYY-MM-DD, inclusive
	To       string    `yaml:"to"`   // YYYY-MM-DD, inclusive
}

// AnomalyRules configures anomaly detection; zero values take the defaults.
type AnomalyRules struct {
	OfflineAfter time.Duration `yaml:"offline_after"` // default 1h
	MaxSpeedKmh  float64       `yaml:"max_speed_kmh"` // default 120
	DriftKm      float64       `yaml:"drift_km"`      // default 1
	// Lookback is how long before a punch the previous punch may lie for
	// the location_jump checks to compare the two (default 12h). It bounds
	// how far back a day's result depends on earlier events.
	Lookback time.Duration `yaml:"lookback"`
	// Disabled lists anomaly types not to report, e.g. [offline_upload].
	Disabled []string `yaml:"disabled"`
}

// ShiftList is one shift name or a list of them; in YAML either a scalar
// ("standard") or a sequence ([early, late]).
type ShiftList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (l *ShiftList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = ShiftList{n.Value}
		return nil
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		*l = names
		return nil
	}
	return fmt.Errorf("line %d: want a shift name or a list of shift names", n.Line)
}
