package postgres

import (
	"fmt"
	"testing"
)

// TestManyLocksCountsDistinctNames: a batch that names each employee once a
// day locks its employees, not every day record, unless the employees
// themselves pass the bound.
func TestManyLocksCountsDistinctNames(t *testing.T) {
	names := func(employees, each int) []string {
		var out []string
		for e := range employees {
			for range each {
				out = append(out, fmt.Sprintf("E%05d", e))
			}
		}
		return out
	}
	all := lockKey(lockAllDays, "")
	for _, tc := range []struct {
		name      string
		names     []string
		wantLocks int
		wantAll   bool // the every-day lock taken exclusively
	}{
		{"300 employees, 4 days each", names(300, 4), 301, false},
		{"500 employees, 2 days each", names(maxEventLocks, 2), maxEventLocks + 1, false},
		{"501 employees", names(maxEventLocks+1, 1), 1, true},
	} {
		locks := manyLocks(lockAllDays, lockDay, tc.names)
		if len(locks) != tc.wantLocks || locks[0].key != all || locks[0].shared == tc.wantAll {
			t.Errorf("%s: %d locks, the first %+v; want %d, the every-day lock exclusive: %v",
				tc.name, len(locks), locks[0], tc.wantLocks, tc.wantAll)
		}
	}
}
