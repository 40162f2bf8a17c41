package wecom

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
)

// failingTasks refuses to store tasks, like a ledger that is down.
type failingTasks struct{ connectors.TaskStore }

func (failingTasks) AddTask(context.Context, string, string, string) error {
	return errors.New("database is locked")
}

// TestApprovalCallbackIsDurable: with a task store, an approval callback
// is acknowledged only once its task is stored; a replica that dies right
// after the reply loses nothing, because the next one's Work fetches the
// stored approvals; and a store that fails answers 503 so WeCom retries.
func TestApprovalCallbackIsDurable(t *testing.T) {
	company := wt.GenerateCompany(61, 40, monday, 10)
	h := newHook(t, company, nil)
	l, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	replica := func(store connectors.TaskStore) (*Connector, *wt.Sender) {
		c, err := NewConnector("wecom-test", h.conn.cfg, connectors.Deps{Logger: slog.New(slog.DiscardHandler), Now: h.clock.Now, Tokens: h.tokens, Tasks: store})
		if err != nil {
			t.Fatal(err)
		}
		c.client.sleep = h.clock.sleep
		ts := httptest.NewServer(c.Handler(h.ingest))
		t.Cleanup(ts.Close)
		s, err := wt.NewSender(ts.URL+"/hooks/wecom/wecom-test", testToken, testAESKey, company.CorpID, wt.WithSenderClock(h.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return c, s
	}
	ctx := context.Background()
	leave, correction := someApproval(t, h.env, 1), someApproval(t, h.env, 2)

	_, sender := replica(l)
	for _, a := range []wt.Approval{leave, correction} {
		if err := sender.Deliver(ctx, wt.ApprovalChange(h.srv.CorpID(), a, h.clock.Now())); err != nil {
			t.Fatal(err)
		}
	}
	due, err := l.DueTasks(ctx, "wecom-test", h.clock.Now(), 0)
	if err != nil || len(due) != 2 {
		t.Fatalf("stored tasks %d (%v), want both approvals before the replies", len(due), err)
	}
	if n, _ := h.stored(); n != 0 {
		t.Fatal("events were ingested before any Work ran")
	}

	// The replica dies here; the next one starts its Work.
	next, _ := replica(l)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- next.Work(wctx, h.ingest) }()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if due, _ := l.DueTasks(ctx, "wecom-test", h.clock.Now(), 0); len(due) == 0 {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, evs := h.stored()
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[ev.ID] = true
	}
	corp := h.srv.CorpID()
	if !ids["wecom/"+corp+"/approval/"+leave.SpNo] || !ids["wecom/"+corp+"/makeup/"+correction.SpNo] {
		t.Fatalf("after the restart, ingested %v; want the leave and the make-up", ids)
	}
	if due, _ := l.DueTasks(ctx, "wecom-test", h.clock.Now().Add(time.Hour), 0); len(due) != 0 {
		t.Fatalf("%d tasks left after they were done", len(due))
	}

	// A store that fails: the callback is refused so that WeCom retries.
	_, failing := replica(failingTasks{l})
	d, err := failing.Event(wt.ApprovalChange(h.srv.CorpID(), leave, h.clock.Now()), wt.Genuine)
	if err != nil {
		t.Fatal(err)
	}
	status, _, err := failing.Do(ctx, d)
	if err != nil || status != 503 {
		t.Fatalf("callback with the task store down answered %d (%v), want 503", status, err)
	}
}
