package dingtalk

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// monday is the first day of the generated companies: Monday 2 March 2026.
var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai)

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
	srv    *dingtalktest.Server
	clock  *clocktest.Clock // shared by the fake server and the connector
	tokens *connectors.MemoryTokenCache
	logs   *syncBuffer
	conn   *Connector
	sleeps *sleeps
}

// sleeps records the connector's waits and advances the test clock by
// each instead of waiting for the wall clock.
type sleeps struct {
	mu    sync.Mutex
	clock *clocktest.Clock
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Advance(d)
	return nil
}

// total returns the number of waits and their sum.
func (s *sleeps) total() (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum time.Duration
	for _, w := range s.waits {
		sum += w
	}
	return len(s.waits), sum
}

// newEnv starts a fake serving company and a connector pointed at it, with
// a clock 40 days after monday, debug logs captured, retry waits of a
// millisecond, a QPS limit high enough not to slow tests, and waits that
// advance the clock instead of sleeping. edit may adjust the config.
func newEnv(t testing.TB, company dingtalktest.Company, opts []dingtalktest.Option, edit func(*Config)) *env {
	t.Helper()
	e := &env{clock: clocktest.New(monday.AddDate(0, 0, 40)), tokens: connectors.NewMemoryTokenCache(), logs: &syncBuffer{}}
	e.srv = dingtalktest.NewServer(append([]dingtalktest.Option{
		dingtalktest.WithCompany(company), dingtalktest.WithClock(e.clock.Now),
	}, opts...)...)
	t.Cleanup(e.srv.Close)
	cfg := Config{
		AppKey:       e.srv.AppKey(),
		AppSecret:    config.Secret(e.srv.AppSecret()),
		CorpID:       company.CorpID,
		BaseURL:      e.srv.URL(),
		APIBaseURL:   e.srv.URL(),
		RetryWait:    time.Millisecond,
		QPS:          1000,
		RefreshDelay: time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	conn, err := NewConnector("dingtalk-test", cfg, connectors.Deps{
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    e.clock.Now,
		Tokens: e.tokens,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.conn = conn
	e.sleeps = &sleeps{clock: e.clock}
	conn.client.sleep = e.sleeps.sleep
	return e
}

// pull runs a pull and returns every emitted event and the batch sizes.
func (e *env) pull(t *testing.T, w connectors.Window) ([]mapping.Event, []int, connectors.PullStats, error) {
	t.Helper()
	var (
		mu      sync.Mutex // a pull stores several answers at once
		events  []mapping.Event
		batches []int
	)
	st, err := e.conn.Pull(context.Background(), w, func(_ context.Context, evs []mapping.Event) error {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, evs...)
		batches = append(batches, len(evs))
		return nil
	})
	return events, batches, st, err
}

// cachedToken returns the token value the connector holds.
func (e *env) cachedToken(t *testing.T) string {
	t.Helper()
	tok, ok, _ := e.tokens.Get(context.Background(), e.conn.client.tokenKey)
	if !ok {
		t.Fatal("no token cached")
	}
	return tok.Value
}

// userIDs lists a company's user ids.
func userIDs(c dingtalktest.Company) []string {
	out := make([]string, len(c.Users))
	for i, u := range c.Users {
		out[i] = u.UserID
	}
	return out
}

// days is the window of n days from monday.
func days(n int) connectors.Window {
	return connectors.Window{From: monday, To: monday.AddDate(0, 0, n)}
}
