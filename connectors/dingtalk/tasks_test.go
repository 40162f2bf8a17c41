package dingtalk

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// TestApprovalPushIsDurable: with a task store, a pushed approval change
// is acknowledged once its refresh is a stored task; the replica dies
// before reading the instance, and the next one's Work reads it from the
// stored task and finishes the task.
func TestApprovalPushIsDurable(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, func(cfg *Config) { withCallback(cfg); approvalsConfig(cfg) })
	l, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	replica := func() *Connector {
		conn, err := NewConnector("dingtalk-test", e.conn.cfg, connectors.Deps{Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now, Tokens: e.tokens, Tasks: l})
		if err != nil {
			t.Fatal(err)
		}
		conn.client.sleep = e.sleeps.sleep
		return conn
	}
	e.conn = replica()
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	in := dt.Instance{ID: "leave-42", ProcessCode: dt.ProcLeave, Originator: c.Users[1].UserID, Status: dt.StatusCompleted, Result: dt.ResultAgree,
		Created: monday.Add(-48 * time.Hour), Finished: monday.Add(-47 * time.Hour), Form: dt.LeaveForm(monday.Add(9*time.Hour), monday.Add(18*time.Hour), 8, "hour", "病假")}
	e.srv.AddInstances(in)
	if _, err := e.push(t, url, dt.InstanceChangeEvent(c.CorpID, "evt-42", in)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if due, err := l.DueTasks(ctx, "dingtalk-test", e.clock.Now(), 0); err != nil || len(due) != 1 {
		t.Fatalf("stored tasks %d (%v), want the refresh stored before the reply", len(due), err)
	}

	// The replica that acknowledged dies; the next one works the task.
	e.conn = replica()
	e.startWork(t, rec.emit)
	evs := rec.waitFor(t, "the approval from the stored task", func(evs []mapping.Event) bool { return len(evs) >= 1 })
	if evs[0].ID != ApprovalID(c.CorpID, mapping.KindApproval, "leave-42") || evs[0].Approval.LeaveType != "SICK" {
		t.Fatalf("ingested %s %+v", evs[0].ID, evs[0].Approval)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if due, _ := l.DueTasks(ctx, "dingtalk-test", e.clock.Now().Add(time.Hour), 0); len(due) == 0 {
			return
		}
	}
	t.Fatal("the done task was not removed")
}
