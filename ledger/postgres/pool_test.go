package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/internal/testenv"
)

func testPool(t *testing.T, max int) *pool {
	t.Helper()
	cfg, err := pgx.ParseConfig(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(cfg, max)
	t.Cleanup(func() { p.close(context.Background()) })
	return p
}

func acquire(t *testing.T, p *pool) *pgx.Conn {
	t.Helper()
	c, err := p.acquire(t.Context())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	return c
}

func TestPoolBoundsAndReuses(t *testing.T) {
	p := testPool(t, 1)
	c := acquire(t, p)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire beyond the bound = %v, want it to wait until the deadline", err)
	}
	p.release(t.Context(), c)
	again := acquire(t, p)
	defer p.release(t.Context(), again)
	if again != c {
		t.Error("acquire after release opened a new connection, want the idle one")
	}
}

func TestPoolReplacesDeadConnection(t *testing.T) {
	p := testPool(t, 1)
	p.pingAfter = 0 // ping on every reuse
	c := acquire(t, p)
	pid := c.PgConn().PID()
	p.release(t.Context(), c)

	admin, err := pgx.ConnectConfig(t.Context(), p.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var gone bool
	// The timeout makes it wait until the backend has exited.
	if err := admin.QueryRow(t.Context(), `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&gone); err != nil || !gone {
		t.Fatalf("terminate backend %d: %v, %v", pid, gone, err)
	}
	fresh := acquire(t, p)
	defer p.release(t.Context(), fresh)
	if fresh.PgConn().PID() == pid {
		t.Fatal("acquire returned the terminated connection")
	}
	if err := fresh.Ping(t.Context()); err != nil {
		t.Errorf("fresh connection: %v", err)
	}
}

func TestPoolDropsConnectionLeftInTransaction(t *testing.T) {
	p := testPool(t, 1)
	c := acquire(t, p)
	if _, err := c.Exec(t.Context(), `BEGIN`); err != nil {
		t.Fatal(err)
	}
	p.release(t.Context(), c)
	if !c.IsClosed() {
		t.Error("a connection released inside a transaction was kept")
	}
	fresh := acquire(t, p)
	defer p.release(t.Context(), fresh)
	if fresh == c {
		t.Error("acquire returned the connection left inside a transaction")
	}
}

func TestPoolClose(t *testing.T) {
	p := testPool(t, 2)
	idle, busy := acquire(t, p), acquire(t, p)
	p.release(t.Context(), idle)
	if err := p.close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !idle.IsClosed() {
		t.Error("close left an idle connection open")
	}
	p.release(t.Context(), busy)
	if !busy.IsClosed() {
		t.Error("a connection released after close was kept")
	}
	if _, err := p.acquire(t.Context()); !errors.Is(err, errPoolClosed) {
		t.Errorf("acquire after close = %v, want errPoolClosed", err)
	}
}
