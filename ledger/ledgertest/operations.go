package ledgertest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// RunOperations checks a backend's job-run log and dead-letter queue
// (ledger.RunLog and ledger.DeadLetters), which every backend implements
// beside ledger.Ledger.
func RunOperations(t *testing.T, open Open) {
	t.Helper()
	for _, tt := range operationTests {
		t.Run(tt.name, func(t *testing.T) {
			l := open(t)
			t.Cleanup(func() { l.Close() })
			tt.run(t, l)
		})
	}
}

var operationTests = []test{
	{"runs are recorded and listed newest first", func(t *testing.T, l ledger.Ledger) {
		ctx := context.Background()
		rl, ok := l.(ledger.RunLog)
		if !ok {
			t.Fatalf("%T does not implement ledger.RunLog", l)
		}
		tick := at(21, 2, 0)
		id1, err := rl.StartRun(ctx, ledger.JobRun{Job: "nightly", Tick: tick, Trigger: "schedule", Owner: "r1", Started: tick})
		if err != nil {
			t.Fatal(err)
		}
		if err := rl.FinishRun(ctx, id1, tick.Add(time.Minute), ledger.RunSucceeded, "", json.RawMessage(`{"records_pushed":3}`)); err != nil {
			t.Fatal(err)
		}
		id2, err := rl.StartRun(ctx, ledger.JobRun{Job: "nightly", Tick: tick.Add(24 * time.Hour), Trigger: "catch_up", Started: tick.Add(25 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rl.StartRun(ctx, ledger.JobRun{Job: "purge", Tick: tick, Trigger: "manual", Started: tick}); err != nil {
			t.Fatal(err)
		}
		runs, err := rl.Runs(ctx, "nightly", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].ID != id2 || runs[1].ID != id1 {
			t.Fatalf("runs %+v, want the two nightly runs newest first", runs)
		}
		r := runs[1]
		if r.Outcome != ledger.RunSucceeded || !r.Tick.Equal(tick) || !r.Finished.Equal(tick.Add(time.Minute)) || r.Owner != "r1" || r.Trigger != "schedule" {
			t.Fatalf("finished run %+v", r)
		}
		var counts map[string]int
		if err := json.Unmarshal(r.Counts, &counts); err != nil || counts["records_pushed"] != 3 {
			t.Fatalf("counts %s: %v", r.Counts, err)
		}
		if runs[0].Outcome != ledger.RunRunning || !runs[0].Finished.IsZero() {
			t.Fatalf("running run %+v", runs[0])
		}
		all, err := rl.Runs(ctx, "", 2)
		if err != nil || len(all) != 2 {
			t.Fatalf("Runs(all, 2) = %d runs, %v", len(all), err)
		}
		if err := rl.FinishRun(ctx, 9999, tick, ledger.RunFailed, "x", nil); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("FinishRun of an unknown run = %v, want ErrNotFound", err)
		}
	}},
	{"a dead delivery is requeued, due at once, attempts reset", func(t *testing.T, l ledger.Ledger) {
		ctx := context.Background()
		dl, ok := l.(ledger.DeadLetters)
		if !ok {
			t.Fatalf("%T does not implement ledger.DeadLetters", l)
		}
		rec := mapping.DayRecord{Schema: mapping.DaySchema, EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Status: mapping.DayPresent, Version: 1}
		if err := l.Enqueue(ctx, "hr", rec); err != nil {
			t.Fatal(err)
		}
		due, err := l.Due(ctx, "hr", at(21, 2, 0), 0)
		if err != nil || len(due) != 1 {
			t.Fatalf("Due = %v, %v", due, err)
		}
		id := due[0].ID
		if ok, err := dl.Requeue(ctx, id, at(21, 2, 0)); err != nil || ok {
			t.Fatalf("Requeue of a pending entry = %v, %v; want false and no change", ok, err)
		}
		if err := l.MarkFailed(ctx, id, "503 from HR", at(21, 3, 0), true); err != nil {
			t.Fatal(err)
		}
		dead, err := dl.Outbox(ctx, "hr", ledger.DeliveryDead, 0)
		if err != nil || len(dead) != 1 || dead[0].LastError != "503 from HR" {
			t.Fatalf("dead-letter queue %+v, %v", dead, err)
		}
		now := at(22, 9, 0)
		if ok, err := dl.Requeue(ctx, id, now); err != nil || !ok {
			t.Fatalf("Requeue = %v, %v", ok, err)
		}
		due, err = l.Due(ctx, "hr", now, 0)
		if err != nil || len(due) != 1 || due[0].Attempts != 0 || due[0].State != ledger.DeliveryPending {
			t.Fatalf("after requeue Due = %+v, %v; want the entry pending with 0 attempts", due, err)
		}
		if _, err := dl.Requeue(ctx, 9999, now); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("Requeue of an unknown id = %v, want ErrNotFound", err)
		}
	}},
	{"raw payloads are kept apart and purged after the retention", func(t *testing.T, l ledger.Ledger) {
		ctx := context.Background()
		rs, ok := l.(ledger.RawStore)
		if !ok {
			t.Fatalf("%T does not implement ledger.RawStore", l)
		}
		// A payload belongs to a stored revision, so the events come first.
		p1, p2 := punch(1, "u1", "E1", at(1, 9, 0)), punch(2, "u2", "E2", at(25, 9, 0))
		if _, err := l.Append(ctx, []mapping.Event{p1, p2}); err != nil {
			t.Fatal(err)
		}
		old := ledger.RawPayload{EventID: p1.ID, Fingerprint: mapping.Fingerprint(p1), Connector: "hq", ReceivedAt: at(1, 9, 0), Body: json.RawMessage(`{"userId":"u1","checkTime":1}`)}
		fresh := ledger.RawPayload{EventID: p2.ID, Fingerprint: mapping.Fingerprint(p2), Connector: "hq", ReceivedAt: at(25, 9, 0), Body: json.RawMessage(`{"userId":"u2"}`)}
		if err := rs.StoreRaw(ctx, []ledger.RawPayload{old, fresh, old}); err != nil {
			t.Fatal(err)
		}
		got, err := rs.RawFor(ctx, old.EventID)
		if err != nil || len(got) != 1 || got[0].Connector != "hq" || !got[0].ReceivedAt.Equal(old.ReceivedAt) || got[0].Fingerprint != old.Fingerprint {
			t.Fatalf("RawFor = %+v, %v", got, err)
		}
		var body map[string]any
		if err := json.Unmarshal(got[0].Body, &body); err != nil || body["userId"] != "u1" {
			t.Fatalf("body %s: %v", got[0].Body, err)
		}
		n, err := rs.PurgeRaw(ctx, at(20, 0, 0))
		if err != nil || n != 1 {
			t.Fatalf("PurgeRaw = %d, %v; want the old payload purged", n, err)
		}
		if got, _ := rs.RawFor(ctx, old.EventID); len(got) != 0 {
			t.Fatal("the purged payload is still there")
		}
		if got, _ := rs.RawFor(ctx, fresh.EventID); len(got) != 1 {
			t.Fatal("the fresh payload was purged too")
		}
	}},
	{"event revisions are queued once per sink and delivered or dead-lettered", func(t *testing.T, l ledger.Ledger) {
		ctx := context.Background()
		eo, ok := l.(ledger.EventOutbox)
		if !ok {
			t.Fatalf("%T does not implement ledger.EventOutbox", l)
		}
		p1, p2 := punch(1, "u1", "E1", at(20, 9, 0)), punch(2, "u1", "E1", at(20, 18, 0))
		if err := eo.EnqueueEvents(ctx, "erp", []mapping.Event{p1, p2, p1}); err != nil {
			t.Fatal(err)
		}
		if err := eo.EnqueueEvents(ctx, "erp", []mapping.Event{p1}); err != nil {
			t.Fatal(err)
		}
		revised := p1
		pr := *p1.Punch
		pr.Direction = mapping.DirOut
		revised.Punch = &pr
		if err := eo.EnqueueEvents(ctx, "erp", []mapping.Event{revised}); err != nil {
			t.Fatal(err)
		}
		due, err := eo.DueEvents(ctx, "erp", at(21, 0, 0), 0)
		if err != nil || len(due) != 3 {
			t.Fatalf("due = %d entries, %v; want p1, p2 and p1's revision", len(due), err)
		}
		b1, _ := json.Marshal(p1)
		b2, _ := json.Marshal(due[0].Event)
		if string(b1) != string(b2) {
			t.Fatalf("the queued event changed:\n%s\n%s", b1, b2)
		}
		if err := eo.MarkEventDelivered(ctx, due[0].ID, at(21, 1, 0)); err != nil {
			t.Fatal(err)
		}
		if err := eo.MarkEventFailed(ctx, due[1].ID, "409 overlap", at(21, 2, 0), true); err != nil {
			t.Fatal(err)
		}
		if err := eo.MarkEventFailed(ctx, due[2].ID, "503", at(21, 3, 0), false); err != nil {
			t.Fatal(err)
		}
		if due, _ := eo.DueEvents(ctx, "erp", at(21, 2, 0), 0); len(due) != 0 {
			t.Fatalf("%d entries due before their next attempt", len(due))
		}
		if due, _ := eo.DueEvents(ctx, "erp", at(21, 3, 0), 0); len(due) != 1 || due[0].Attempts != 1 {
			t.Fatalf("due after the backoff: %+v", due)
		}
		dead, err := eo.EventEntries(ctx, "erp", ledger.DeliveryDead, 0)
		if err != nil || len(dead) != 1 || dead[0].LastError != "409 overlap" {
			t.Fatalf("dead-letter queue %+v, %v", dead, err)
		}
		if other, _ := eo.DueEvents(ctx, "other-sink", at(22, 0, 0), 0); len(other) != 0 {
			t.Fatal("another sink sees this sink's events")
		}
		if err := eo.MarkEventDelivered(ctx, 9999, at(21, 0, 0)); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("MarkEventDelivered(unknown) = %v, want ErrNotFound", err)
		}
	}},
	{"tasks are stored once, listed when due, retried and finished", func(t *testing.T, l ledger.Ledger) {
		ctx := context.Background()
		tq, ok := l.(ledger.TaskQueue)
		if !ok {
			t.Fatalf("%T does not implement ledger.TaskQueue", l)
		}
		for _, key := range []string{"202611200001", "202611200002", "202611200001"} {
			if err := tq.AddTask(ctx, "wecom-sh", "approval", key); err != nil {
				t.Fatal(err)
			}
		}
		if err := tq.AddTask(ctx, "other", "approval", "x"); err != nil {
			t.Fatal(err)
		}
		due, err := tq.DueTasks(ctx, "wecom-sh", at(21, 0, 0), 0)
		if err != nil || len(due) != 2 || due[0].Key != "202611200001" || due[0].Kind != "approval" {
			t.Fatalf("due = %+v, %v; want the two approvals once each, oldest first", due, err)
		}
		if err := tq.RetryTask(ctx, due[0].ID, "301026 busy", at(21, 1, 0)); err != nil {
			t.Fatal(err)
		}
		if err := tq.FinishTask(ctx, due[1].ID); err != nil {
			t.Fatal(err)
		}
		if due, _ := tq.DueTasks(ctx, "wecom-sh", at(21, 0, 30), 0); len(due) != 0 {
			t.Fatalf("%d tasks due before the retry time", len(due))
		}
		due, err = tq.DueTasks(ctx, "wecom-sh", at(21, 1, 0), 0)
		if err != nil || len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "301026 busy" {
			t.Fatalf("after the retry time: %+v, %v", due, err)
		}
		if err := tq.RetryTask(ctx, 9999, "x", at(21, 1, 0)); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("RetryTask(unknown) = %v, want ErrNotFound", err)
		}
	}},
}
