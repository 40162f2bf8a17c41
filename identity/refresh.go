package identity

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

// Change is one platform user whose employee id changed. Old or New is ""
// when the user was or is no longer mapped.
type Change struct {
	Platform, Tenant, UserID string
	Old, New                 string
}

// maxUserErrors bounds the per-user errors one refresh reports.
const maxUserErrors = 10

// Refresh lists the users of every directory, resolves each with r, and
// writes the answers into ids. It returns exactly the users whose
// employee id changed, sorted. A directory that cannot be listed, or a
// user whose resolution fails, keeps its current mapping; their errors
// are returned joined, alongside the changes that were made.
func Refresh(ctx context.Context, dirs []connectors.Directory, r Resolver, ids *mapping.Identities) ([]Change, error) {
	var changes []Change
	var errs []error
	failed := 0
	for _, d := range dirs {
		users, err := d.Users(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("identity: list users of %s: %w", d.Name(), err))
			continue
		}
		for _, u := range users {
			if u.UserID == "" {
				continue
			}
			id, err := r.Resolve(ctx, d.Platform(), d.Tenant(), u)
			if err != nil {
				if failed++; failed <= maxUserErrors {
					errs = append(errs, fmt.Errorf("identity: %s user %s: %w", d.Name(), u.UserID, err))
				}
				continue
			}
			old, _ := ids.Lookup(d.Platform(), d.Tenant(), u.UserID)
			if id == old {
				continue
			}
			ids.Set(d.Platform(), d.Tenant(), u.UserID, id)
			changes = append(changes, Change{Platform: d.Platform(), Tenant: d.Tenant(), UserID: u.UserID, Old: old, New: id})
		}
	}
	if failed > maxUserErrors {
		errs = append(errs, fmt.Errorf("identity: %d more users could not be resolved", failed-maxUserErrors))
	}
	sort.Slice(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		return a.UserID < b.UserID
	})
	return changes, errors.Join(errs...)
}

// Remapper re-maps the quarantined events of one user to the employee id
// the identity table now holds and marks their days for reconciliation,
// returning how many events left quarantine. *ingest.Ingester is one.
type Remapper interface {
	Remap(ctx context.Context, platform, tenant, userID string) (int, error)
}

// Remap re-maps the quarantined events of the users in changes who now
// have an employee id, and of no one else. It returns how many events
// left quarantine. A user who lost their mapping keeps the events already
// mapped: those were right when they arrived.
func Remap(ctx context.Context, r Remapper, changes []Change) (int, error) {
	total := 0
	var errs []error
	for _, c := range changes {
		if c.New == "" {
			continue
		}
		n, err := r.Remap(ctx, c.Platform, c.Tenant, c.UserID)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("identity: remap %s/%s/%s: %w", c.Platform, c.Tenant, c.UserID, err))
		}
	}
	return total, errors.Join(errs...)
}
