package wecom

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// monday is the first day of the generated companies: Monday 2 March 2026.
var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai)

// clock is a settable clock shared by the fake server and the connector.
// Its sleep moves it forward instead of waiting and remembers the waits.
type clock struct {
	*clocktest.Clock
	mu     sync.Mutex // guards sleeps, and orders sleeps with their moves
	sleeps []time.Duration
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.Advance(d)
		c.sleeps = append(c.sleeps, d)
	}
	return nil
}

func (c *clock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	srv    *wecomtest.Server
	clock  *clock
	tokens *connectors.MemoryTokenCache
	logs   *syncBuffer
	conn   *Connector
}

// Callback settings of the test connectors: the official sample's token
// and key (vector C1).
const (
	testToken  = "QDG6eK"
	testAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

// newEnv starts a fake serving company and a connector pointed at it, with
// a clock 40 days after monday, debug logs captured, retry waits of a
// millisecond and the limiter's waits moving the clock. edit may adjust
// the config.
func newEnv(t testing.TB, company wecomtest.Company, opts []wecomtest.Option, edit func(*Config)) *env {
	t.Helper()
	e := &env{clock: &clock{Clock: clocktest.New(monday.AddDate(0, 0, 40))}, tokens: connectors.NewMemoryTokenCache(), logs: &syncBuffer{}}
	e.srv = wecomtest.NewServer(append([]wecomtest.Option{
		wecomtest.WithCompany(company), wecomtest.WithClock(e.clock.Now),
	}, opts...)...)
	t.Cleanup(e.srv.Close)
	cfg := Config{
		CorpID:         company.CorpID,
		CheckinSecret:  config.Secret(wecomtest.DefaultCheckinSecret),
		ApprovalSecret: config.Secret(wecomtest.DefaultApprovalSecret),
		ContactsSecret: config.Secret(wecomtest.DefaultContactsSecret),
		BaseURL:        e.srv.URL(),
		CallbackToken:  testToken,
		CallbackAESKey: testAESKey,
		RetryWait:      time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	conn, err := NewConnector("wecom-test", cfg, connectors.Deps{
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    e.clock.Now,
		Tokens: e.tokens,
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.client.sleep = e.clock.sleep
	e.conn = conn
	return e
}

// collector gathers emitted batches.
type collector struct {
	mu      sync.Mutex
	events  []mapping.Event
	batches []int
}

func (c *collector) emit(_ context.Context, evs []mapping.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, evs...)
	c.batches = append(c.batches, len(evs))
	return nil
}

func (c *collector) all() []mapping.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]mapping.Event(nil), c.events...)
}

// pull runs a pull and returns every emitted event.
func (e *env) pull(t testing.TB, w connectors.Window) ([]mapping.Event, connectors.PullStats, error) {
	t.Helper()
	var c collector
	st, err := e.conn.Pull(context.Background(), w, c.emit)
	return c.all(), st, err
}

// days is the window of n days from monday.
func days(n int) connectors.Window {
	return connectors.Window{From: monday, To: monday.AddDate(0, 0, n)}
}

// byKind splits events by kind.
func byKind(events []mapping.Event) map[mapping.Kind][]mapping.Event {
	out := map[mapping.Kind][]mapping.Event{}
	for _, e := range events {
		out[e.Kind] = append(out[e.Kind], e)
	}
	return out
}

// pointer returns a pointer to v.
func pointer[T any](v T) *T { return &v }
