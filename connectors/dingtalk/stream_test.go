package dingtalk

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

func withStream(c *Config) { c.Stream = true }

// ackOf waits for the ack of a frame, for at most 10 s of wall time.
func ackOf(t *testing.T, s *dt.Server, id string) dt.StreamAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := s.WaitStreamAck(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func waitConnects(t *testing.T, s *dt.Server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitStreamConnects(ctx, n); err != nil {
		t.Fatal(err)
	}
}

func TestStreamSubscribesAndAcksEvents(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withStream)
	rec := newRecorder()
	e.startWork(t, rec.emit)
	waitConnects(t, e.srv, 1)

	subs := map[string]bool{}
	for _, s := range e.srv.StreamSubscriptions() {
		subs[s.Type+" "+s.Topic] = true
	}
	for _, want := range []string{"EVENT *", "SYSTEM ping", "SYSTEM disconnect"} {
		if !subs[want] {
			t.Errorf("subscriptions %v lack %s", subs, want)
		}
	}

	id := e.srv.StreamEvent("attendance_check_record", dt.CheckRecordData(c.CorpID, c.Records[0]))
	a := ackOf(t, e.srv, id)
	if a.Code != 200 || a.Status() != "SUCCESS" || a.Headers["messageId"] != id {
		t.Errorf("ack = %+v", a)
	}
	evs := rec.events()
	r := c.Records[0]
	// The first batch is the pushed copy, stored before the ack; Work
	// may have stored the full record after it.
	if len(evs) == 0 || evs[0].ID != PunchID(c.CorpID, r.UserID, r.CheckTime.UnixMilli()) || evs[0].Via != mapping.ViaStream ||
		evs[0].Punch.Direction != mapping.DirUnknown {
		t.Fatalf("stored %+v, want the punch via stream", evs)
	}

	ping := e.srv.StreamPing(`{"opaque":"x1"}`)
	if a := ackOf(t, e.srv, ping); a.Code != 200 || a.Data != `{"opaque":"x1"}` {
		t.Errorf("ping answer = %+v, want code 200 and the ping's data", a)
	}

	unknown := e.srv.StreamEvent("org_dept_create", map[string]any{"deptId": []int{5}})
	if a := ackOf(t, e.srv, unknown); a.Status() != "SUCCESS" {
		t.Errorf("unknown event ack = %+v, want SUCCESS", a)
	}
	if st := e.conn.CallbackStats(); st["unknown_event"] != 1 || st["stream:ping"] != 1 || st["event:attendance_check_record"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

func TestStreamDropsRedeliveredEventIDs(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withStream)
	rec := newRecorder()
	e.startWork(t, rec.emit)
	waitConnects(t, e.srv, 1)
	data := dt.CheckRecordData(c.CorpID, c.Records[0])
	first := e.srv.StreamEventWithID("attendance_check_record", "evt-same", data)
	ackOf(t, e.srv, first)
	again := e.srv.StreamEventWithID("attendance_check_record", "evt-same", data)
	if a := ackOf(t, e.srv, again); a.Status() != "SUCCESS" {
		t.Errorf("redelivery ack = %+v", a)
	}
	// Only pushed copies have no direction; the follow-up's full record
	// (which Work may store meanwhile) has one.
	pushed := 0
	for _, ev := range rec.events() {
		if ev.Punch.Direction == mapping.DirUnknown {
			pushed++
		}
	}
	if pushed != 1 || e.conn.CallbackStats()["redelivered"] != 1 {
		t.Errorf("stored %d pushed copies, stats %v; want the redelivery dropped", pushed, e.conn.CallbackStats())
	}
}

func TestStreamReconnects(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withStream)
	rec := newRecorder()
	e.startWork(t, rec.emit)
	waitConnects(t, e.srv, 1)

	// The gateway asks to reconnect.
	if a := ackOf(t, e.srv, e.srv.StreamDisconnect()); a.Code != 200 {
		t.Errorf("disconnect ack = %+v", a)
	}
	waitConnects(t, e.srv, 2)
	// The connection breaks: reconnect after a backoff wait.
	waits, _ := e.sleeps.total()
	e.srv.DropStreamConnections()
	waitConnects(t, e.srv, 3)
	if n, _ := e.sleeps.total(); n <= waits {
		t.Error("reconnected without a backoff wait")
	}
	// Events still flow on the new connection.
	id := e.srv.StreamEvent("attendance_check_record", dt.CheckRecordData(c.CorpID, c.Records[1]))
	if a := ackOf(t, e.srv, id); a.Status() != "SUCCESS" {
		t.Errorf("ack after reconnecting = %+v", a)
	}
	if st := e.conn.CallbackStats(); st["stream:connected"] < 3 || st["stream:disconnect"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

func TestStreamAsksForRedeliveryWhenNothingCouldBeStored(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withStream)
	rec := newRecorder()
	rec.setFail(errLedgerDown)
	e.startWork(t, rec.emit)
	waitConnects(t, e.srv, 1)
	id := e.srv.StreamEvent("attendance_check_record", dt.CheckRecordData(c.CorpID, c.Records[0]))
	if a := ackOf(t, e.srv, id); a.Status() != "LATER" {
		t.Fatalf("ack = %+v, want LATER", a)
	}
	if e.srv.StreamPending() != 1 {
		t.Fatalf("pending frames = %d, want the event kept for redelivery", e.srv.StreamPending())
	}
	// The gateway redelivers it on the next connection; now it is stored.
	rec.setFail(nil)
	e.srv.DropStreamConnections()
	rec.waitFor(t, "the redelivered punch", func(evs []mapping.Event) bool { return len(evs) >= 1 })
	waitPending(t, e.srv, 0)
}

func waitPending(t *testing.T, s *dt.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.StreamPending() != n {
		if time.Now().After(deadline) {
			t.Fatalf("pending frames = %d, want %d", s.StreamPending(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStreamRefusedCredentialsEndWork(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, func(c *Config) { withStream(c); c.AppSecret = "not-the-secret" })
	err := e.conn.Work(context.Background(), newRecorder().emit)
	if !errors.Is(err, ErrCredentials) || strings.Contains(err.Error(), "not-the-secret") {
		t.Fatalf("Work = %v, want ErrCredentials without the secret", err)
	}
}
