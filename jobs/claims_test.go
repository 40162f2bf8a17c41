package jobs

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// roundTrips counts a client's single commands and pipelines, leaving out
// the loading of scripts into a server that lacks them.
type roundTrips struct{ single, pipelines atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "script" {
			h.single.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		return next(ctx, cmds)
	}
}

// loggedMeanwhile is a ledger on which another replica delivers and logs
// one entry between this replica's read of the outbox and its claims.
type loggedMeanwhile struct {
	ledger.Ledger
	employee string
}

func (l loggedMeanwhile) Due(ctx context.Context, sink string, now time.Time, limit int) ([]ledger.OutboxEntry, error) {
	due, err := l.Ledger.Due(ctx, sink, now, limit)
	for _, e := range due {
		if err == nil && e.Record.EmployeeID == l.employee {
			err = l.Ledger.MarkDelivered(ctx, e.ID, now)
		}
	}
	return due, err
}

// TestPushClaimsAChunkAtATime: with replicas sharing the outbox, the push
// claims a chunk's deliveries, marks them done and releases the failed
// ones each in one round trip; it sends neither a delivery another replica
// holds nor one the delivery log has by the time of the claim, and the
// claims it gives up can be taken again.
func TestPushClaimsAChunkAtATime(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	hook := &roundTrips{}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(hook)
	prefix := testenv.RedisPrefix(t, rdb, "jobs")
	mine := coord.NewDeliveries(rdb, prefix, 0)
	other := coord.NewDeliveries(rdb, prefix, 0)

	now := at("2026-11-21", "02:00")
	f := newFixture(t)
	sink := &batchSink{size: 4, refused: "E3"}
	f.job.Sinks = []connectors.Sink{sink}
	f.job.Ledger = loggedMeanwhile{f.ledger, "E4"}
	f.job.Claims = mine
	f.job.Push.Workers = 1
	var days []mapping.DayRecord
	key := func(d mapping.DayRecord) coord.DeliveryKey {
		return coord.DeliveryKey{Sink: "hr", EmployeeID: d.EmployeeID, Date: d.Date, Shift: d.Shift, Version: d.Version}
	}
	for e := 1; e <= 5; e++ {
		for d := 18; d <= 20; d++ {
			days = append(days, mapping.DayRecord{Schema: mapping.DaySchema, EmployeeID: fmt.Sprintf("E%d", e),
				Date: fmt.Sprintf("2026-11-%d", d), Shift: "standard", Version: 1, Status: mapping.DayPresent})
		}
	}
	for _, d := range days {
		if err := f.ledger.Enqueue(t.Context(), "hr", d); err != nil {
			t.Fatal(err)
		}
	}
	// Another replica is sending E1's days.
	for _, d := range days[:3] {
		if _, ok, err := other.Claim(t.Context(), key(d)); err != nil || !ok {
			t.Fatalf("the other replica's claim = %v, %v", ok, err)
		}
	}
	// Open the pipelines' connection first: its handshake is not the push's.
	if _, err := rdb.Pipelined(t.Context(), func(p redis.Pipeliner) error { return p.Ping(t.Context()).Err() }); err != nil {
		t.Fatal(err)
	}
	hook.single.Store(0)
	hook.pipelines.Store(0)
	// E1's entries stay pending while the other replica holds them; the
	// push must leave them, not claim them again until its lease ends.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	rep, err := f.job.PushDue(ctx, now)
	if err != nil {
		t.Fatalf("push: %v (one that returns to held entries runs until their lease ends)", err)
	}
	singles, pipelines := hook.single.Load(), hook.pipelines.Load()
	if rep.RecordsPushed != 6 || rep.DeadLettered != 3 {
		t.Errorf("pushed %d, dead-lettered %d; want E2's and E5's 6, E3's 3", rep.RecordsPushed, rep.DeadLettered)
	}
	for _, d := range days {
		sent := sink.got[connectors.IdempotencyKey("hr", d)] > 0
		if want := d.EmployeeID == "E2" || d.EmployeeID == "E5"; sent != want {
			t.Errorf("%s %s sent = %v, want %v", d.EmployeeID, d.Date, sent, want)
		}
		done, err := other.Delivered(t.Context(), key(d))
		if err != nil {
			t.Fatal(err)
		}
		if want := d.EmployeeID == "E2" || d.EmployeeID == "E5"; done != want {
			t.Errorf("%s %s claim marked done = %v, want %v", d.EmployeeID, d.Date, done, want)
		}
		_, free, err := other.Claim(t.Context(), key(d))
		if err != nil {
			t.Fatal(err)
		}
		// E1's are the other replica's still; E3's (failed) and E4's
		// (logged meanwhile) were released.
		if want := d.EmployeeID == "E3" || d.EmployeeID == "E4"; free != want {
			t.Errorf("%s %s claimable after the push = %v, want %v", d.EmployeeID, d.Date, free, want)
		}
	}
	// 15 entries in chunks of 4: a claim, a done and a release a chunk at
	// most, and a script sent again after loading it.
	if singles != 0 || pipelines > 14 {
		t.Errorf("the push took %d single commands and %d pipelines; want none and a few a chunk", singles, pipelines)
	}
}
