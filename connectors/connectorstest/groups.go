// Package connectorstest holds checks that the tests of several source
// connectors share.
package connectorstest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

// PunchesInUserGroups returns an EmitFunc that fails t when one batch
// holds punches of users from two groups, the groups being users, sorted,
// cut into runs of size: what a pull emits when it asks for its users in
// id order, size at a time, one batch an answer. Batches may arrive from
// several goroutines at once.
func PunchesInUserGroups(t testing.TB, users []string, size int) connectors.EmitFunc {
	sorted := slices.Sorted(slices.Values(users))
	var mu sync.Mutex
	return func(_ context.Context, evs []mapping.Event) error {
		mu.Lock()
		defer mu.Unlock()
		group := -1
		for _, ev := range evs {
			if ev.Kind != mapping.KindPunch {
				continue
			}
			i, found := slices.BinarySearch(sorted, ev.UserID)
			if !found {
				t.Errorf("a punch of %s, who is not among the users", ev.UserID)
				return nil
			}
			if group == -1 {
				group = i / size
			}
			if i/size != group {
				t.Errorf("one batch holds punches of %s (user %d in id order) and of users of group %d", ev.UserID, i, group)
				return nil
			}
		}
		return nil
	}
}
