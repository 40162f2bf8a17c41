package ledger_test

import (
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

func TestCheckDayKey(t *testing.T) {
	tests := []struct {
		key  mapping.DayKey
		want []string // substrings of the error; none means valid
	}{
		{mapping.DayKey{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard"}, nil},
		{mapping.DayKey{Date: "2026-11-20", Shift: "standard"}, []string{"employee_id is empty"}},
		{mapping.DayKey{EmployeeID: "E1", Date: "2026-11-31", Shift: "standard"}, []string{`date "2026-11-31" is not a date`, "YYYY-MM-DD"}},
		{mapping.DayKey{EmployeeID: "E1", Date: "2026-11-20"}, []string{"shift is empty"}},
		{mapping.DayKey{}, []string{"employee_id is empty", `date ""`, "shift is empty"}},
	}
	for _, tt := range tests {
		err := ledger.CheckDayKey(tt.key)
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("CheckDayKey(%v) = %v, want nil", tt.key, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckDayKey(%v) = nil, want an error", tt.key)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CheckDayKey(%v) = %q, want it to contain %q", tt.key, err, w)
			}
		}
	}
}

func TestCheckEmployeeDay(t *testing.T) {
	tests := []struct {
		day  mapping.EmployeeDay
		want string
	}{
		{mapping.EmployeeDay{EmployeeID: "E1", Date: "2026-11-20"}, ""},
		{mapping.EmployeeDay{Date: "2026-11-20"}, "employee_id is empty"},
		{mapping.EmployeeDay{EmployeeID: "E1", Date: "20/11/2026"}, `date "20/11/2026" is not a date`},
	}
	for _, tt := range tests {
		err := ledger.CheckEmployeeDay(tt.day)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckEmployeeDay(%v) = %v, want nil", tt.day, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckEmployeeDay(%v) = %v, want it to contain %q", tt.day, err, tt.want)
		}
	}
}
