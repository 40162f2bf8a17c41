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
}

type identityKey struct{ platform, tenant, user string }

// NewIdentities returns an empty identity table.
func NewIdentities() *Identities {
	return &Identities{m: map[identityKey]string{}}
}

// Set maps (platform, tenant, userID) to employeeID; an empty employeeID
// removes the mapping.
func (t *Identities) Set(platform, tenant, userID, employeeID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := identityKey{platform, tenant, userID}
	if employeeID == "" {
		delete(t.m, k)
		return
	}
	t.m[k] = employeeID
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
	set := map[string]bool{}
	for k, id := range t.m {
		if id == employeeID {
			set[k.platform+"/"+k.tenant] = true
		}
	}
	t.mu.RUnlock()
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Employees lists the distinct employee ids in the table, sorted.
func (t *Identities) Employees() []string {
	t.mu.RLock()
	set := make(map[string]bool, len(t.m))
	for _, id := range t.m {
		set[id] = true
	}
	t.mu.RUnlock()
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
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
