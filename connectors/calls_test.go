package connectors

import (
	"context"
	"reflect"
	"sync"
	"testing"
)

// TestCallCounts counts requests from many goroutines, some of them under
// a pull's context: the connector's counts hold all of them, the pull's
// only its own, and snapshots are copies.
func TestCallCounts(t *testing.T) {
	var c CallCounts
	if calls, codes := c.Snapshot(); calls == nil || codes == nil || len(calls) != 0 {
		t.Fatalf("zero value Snapshot = %v, %v; want empty maps", calls, codes)
	}
	pull := &PullCalls{}
	if pull.Snapshot() != nil {
		t.Fatal("a pull without calls has counts")
	}
	pctx := WithPullCalls(context.Background(), pull)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			ctx := context.Background()
			if i%2 == 0 {
				ctx = pctx
			}
			outcome := "0"
			if i%5 == 0 {
				outcome = "transport"
			}
			c.Count(ctx, "attendance/listRecord", outcome)
			c.Count(ctx, "gettoken", "0")
		})
	}
	wg.Wait()
	calls, codes := c.Snapshot()
	if want := map[string]int{"attendance/listRecord": 50, "gettoken": 50}; !reflect.DeepEqual(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	if want := map[string]map[string]int{"attendance/listRecord": {"0": 40, "transport": 10}, "gettoken": {"0": 50}}; !reflect.DeepEqual(codes, want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
	if got, want := pull.Snapshot(), map[string]int{"attendance/listRecord": 25, "gettoken": 25}; !reflect.DeepEqual(got, want) {
		t.Errorf("the pull's calls = %v, want %v", got, want)
	}
	calls["gettoken"], codes["gettoken"]["0"] = 0, 0
	if again, againCodes := c.Snapshot(); again["gettoken"] != 50 || againCodes["gettoken"]["0"] != 50 {
		t.Error("changing a snapshot changed the counts")
	}
}
