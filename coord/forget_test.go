package coord

import (
	"fmt"
	"testing"
	"time"
)

// TestDeleteAll deletes a prefix's keys, and only those: not a key under
// another prefix, nor one that a glob character in the prefix would
// otherwise match.
func TestDeleteAll(t *testing.T) {
	rdb := newClient(t)
	base := testPrefix(t)
	for _, tc := range []struct {
		name, prefix, other string
		keys                int
	}{
		{"plain", base + "a:", base + "b:", 2500},
		{"glob characters", base + "x*[1]?:", base + "xAB1C:", 3}, // unescaped, x*[1]?: matches xAB1C:
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, other := NewKeys(tc.prefix), NewKeys(tc.other)
			for i := range tc.keys {
				if err := rdb.Set(t.Context(), k.Lock(fmt.Sprint(i)), "x", time.Hour).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if err := rdb.Set(t.Context(), other.Lock("kept"), "x", time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			n, err := DeleteAll(t.Context(), rdb, k)
			if err != nil || n != tc.keys {
				t.Fatalf("DeleteAll = %d, %v; want %d", n, err, tc.keys)
			}
			if left, _ := rdb.Keys(t.Context(), globEscape(tc.prefix)+"*").Result(); len(left) != 0 {
				t.Errorf("%d keys left under %q", len(left), tc.prefix)
			}
			if ok, _ := rdb.Exists(t.Context(), other.Lock("kept")).Result(); ok != 1 {
				t.Error("a key under another prefix was deleted")
			}
		})
	}
}
