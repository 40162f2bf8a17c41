package mapping

import (
	"sort"
	"sync"
)

// Identities maps platform users to HR employee ids. The spine fills it from
// a platform directory field (job number by default); an event whose user is
// not in it keeps an empty employee_id and is quarantined by the ledger.
// Safe for concurrent use.
type Identities struct {
	mu sync.RWMutex
	m  map[identityKey]string
	// tenants counts, for each employee, the mapped users in each
	// "platform/tenant", so that Tenants does not scan the whole table:
	// reconciliation asks once per employee, and a scan each time made
	// planning a company's night quadratic in its size.
	tenants map[string]map[string]int
}

type identityKey struct{ platform, tenant, user string }

// NewIdentities returns an empty identity table.
func NewIdentities() *Identities {
	return &Identities{m: map[identityKey]string{}, tenants: map[string]map[string]int{}}
}

// Set maps (platform, tenant, userID) to employeeID; an empty employeeID
// removes the mapping.
func (t *Identities) Set(platform, tenant, userID, employeeID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := identityKey{platform, tenant, userID}
	if old, ok := t.m[k]; ok {
		if old == employeeID {
			return
		}
		t.uncount(old, platform+"/"+tenant)
	}
	if employeeID == "" {
		delete(t.m, k)
		return
	}
	t.m[k] = employeeID
	byTenant := t.tenants[employeeID]
	if byTenant == nil {
		byTenant = map[string]int{}
		t.tenants[employeeID] = byTenant
	}
	byTenant[platform+"/"+tenant]++
}

// uncount takes one user of tenant away from employeeID's count.
func (t *Identities) uncount(employeeID, tenant string) {
	byTenant := t.tenants[employeeID]
	if byTenant[tenant]--; byTenant[tenant] <= 0 {
		delete(byTenant, tenant)
	}
	if len(byTenant) == 0 {
		delete(t.tenants, employeeID)
	}
}

// Lookup returns the employee id of a platform user.
func (t *Identities) Lookup(platform, tenant, userID string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.m[identityKey{platform, tenant, userID}]
	return id, ok
}

// Len reports how many users are mapped.
func (t *Identities) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

// Tenants lists the platform tenants ("platform/tenant") in which the
// employee has a mapped user, sorted: the sources that feed the employee.
func (t *Identities) Tenants(employeeID string) []string {
	t.mu.RLock()
	byTenant := t.tenants[employeeID]
	out := make([]string, 0, len(byTenant))
	for k := range byTenant {
		out = append(out, k)
	}
	t.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Employees lists the distinct employee ids in the table, sorted.
func (t *Identities) Employees() []string {
	t.mu.RLock()
	out := make([]string, 0, len(t.tenants))
	for id := range t.tenants {
		out = append(out, id)
	}
	t.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Apply fills in e.EmployeeID from the table and reports whether the user is
// mapped. An employee id the connector already set is kept.
func (t *Identities) Apply(e *Event) bool {
	if e.EmployeeID != "" {
		return true
	}
	id, ok := t.Lookup(e.Platform, e.Tenant, e.UserID)
	if ok {
		e.EmployeeID = id
	}
	return ok
}
