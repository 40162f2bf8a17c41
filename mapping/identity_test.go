package mapping

import (
	"fmt"
	"slices"
	"testing"
)

func TestIdentitiesTenantsAndEmployees(t *testing.T) {
	type set struct{ platform, tenant, user, employee string }
	tests := []struct {
		name      string
		sets      []set
		tenants   map[string][]string // employee → want Tenants
		employees []string
	}{
		{
			name: "one user",
			sets: []set{{"dingtalk", "corp1", "u1", "E1"}},
			tenants: map[string][]string{
				"E1": {"dingtalk/corp1"}, "E2": {},
			},
			employees: []string{"E1"},
		},
		{
			name: "an employee in two platforms and two users of one tenant",
			sets: []set{
				{"wecom", "ww1", "zhang", "E1"},
				{"dingtalk", "corp1", "u1", "E1"},
				{"dingtalk", "corp1", "u1-watch", "E1"},
				{"dingtalk", "corp1", "u2", "E2"},
			},
			tenants: map[string][]string{
				"E1": {"dingtalk/corp1", "wecom/ww1"}, "E2": {"dingtalk/corp1"},
			},
			employees: []string{"E1", "E2"},
		},
		{
			name: "a user moved to another employee leaves the first",
			sets: []set{
				{"dingtalk", "corp1", "u1", "E1"},
				{"wecom", "ww1", "zhang", "E1"},
				{"dingtalk", "corp1", "u1", "E2"},
			},
			tenants: map[string][]string{
				"E1": {"wecom/ww1"}, "E2": {"dingtalk/corp1"},
			},
			employees: []string{"E1", "E2"},
		},
		{
			name: "one of two users of a tenant removed keeps the tenant",
			sets: []set{
				{"dingtalk", "corp1", "u1", "E1"},
				{"dingtalk", "corp1", "u1-watch", "E1"},
				{"dingtalk", "corp1", "u1-watch", ""},
			},
			tenants:   map[string][]string{"E1": {"dingtalk/corp1"}},
			employees: []string{"E1"},
		},
		{
			name: "the last user removed drops the employee",
			sets: []set{
				{"dingtalk", "corp1", "u1", "E1"},
				{"dingtalk", "corp1", "u2", "E2"},
				{"dingtalk", "corp1", "u1", ""},
				{"dingtalk", "corp1", "never-mapped", ""},
			},
			tenants:   map[string][]string{"E1": {}, "E2": {"dingtalk/corp1"}},
			employees: []string{"E2"},
		},
		{
			name: "setting the same mapping twice counts it once",
			sets: []set{
				{"dingtalk", "corp1", "u1", "E1"},
				{"dingtalk", "corp1", "u1", "E1"},
				{"dingtalk", "corp1", "u1", ""},
			},
			tenants:   map[string][]string{"E1": {}},
			employees: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := NewIdentities()
			for _, s := range tt.sets {
				ids.Set(s.platform, s.tenant, s.user, s.employee)
			}
			for emp, want := range tt.tenants {
				if got := ids.Tenants(emp); !slices.Equal(got, want) {
					t.Errorf("Tenants(%q) = %q, want %q", emp, got, want)
				}
			}
			if got := ids.Employees(); !slices.Equal(got, tt.employees) {
				t.Errorf("Employees() = %q, want %q", got, tt.employees)
			}
		})
	}
}

// BenchmarkIdentitiesTenants asks for every employee's tenants once, as
// planning a night's reconciliation does, in a company of 10,000.
func BenchmarkIdentitiesTenants(b *testing.B) {
	const n = 10000
	ids := NewIdentities()
	emps := make([]string, n)
	for i := range n {
		emps[i] = fmt.Sprintf("E%05d", i)
		ids.Set("dingtalk", "corp1", fmt.Sprintf("user%05d", i), emps[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range emps {
			if len(ids.Tenants(e)) != 1 {
				b.Fatalf("Tenants(%s) is not one tenant", e)
			}
		}
	}
}
