package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// errPoolClosed is returned by acquire once the ledger is closed.
var errPoolClosed = errors.New("postgres ledger: closed")

// pingIdleAfter is how long a connection may sit idle before it is pinged
// on reuse: a server restart or a dropped TCP session then costs a reconnect
// instead of a failed query.
const pingIdleAfter = time.Second

// pool is a bounded pool of connections, each opened from one config (and
// so with one search_path). It keeps at most max connections open; acquire
// waits for a free one, honouring ctx.
//
// pgxpool would do this job, but its dependency is not part of the module;
// the ledger needs nothing beyond a bound, reuse and health checks.
type pool struct {
	cfg       *pgx.ConnConfig
	slots     chan struct{} // one token per connection in use or being opened
	idle      chan idleConn // connections ready for reuse, at most cap(slots)
	pingAfter time.Duration // idle time after which reuse pings first

	mu     sync.Mutex
	closed bool
}

type idleConn struct {
	conn  *pgx.Conn
	since time.Time // when it was released, by the monotonic clock
}

func newPool(cfg *pgx.ConnConfig, max int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, max), idle: make(chan idleConn, max), pingAfter: pingIdleAfter}
}

// acquire returns a connection for the caller's sole use until release.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.isClosed() {
		<-p.slots
		return nil, errPoolClosed
	}
	for {
		select {
		case ic := <-p.idle:
			if c := p.reuse(ctx, ic); c != nil {
				return c, nil
			}
		default:
			c, err := pgx.ConnectConfig(ctx, p.cfg)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		}
	}
}

// reuse returns ic's connection if it is still healthy, else closes it and
// returns nil.
func (p *pool) reuse(ctx context.Context, ic idleConn) *pgx.Conn {
	if ic.conn.IsClosed() {
		return nil
	}
	if time.Since(ic.since) >= p.pingAfter {
		if err := ic.conn.Ping(ctx); err != nil {
			ic.conn.Close(ctx)
			return nil
		}
	}
	return ic.conn
}

// release hands c back. A connection that is closed, busy or still inside
// a transaction (a failed rollback) is closed rather than reused.
func (p *pool) release(ctx context.Context, c *pgx.Conn) {
	defer func() { <-p.slots }()
	reusable := !c.IsClosed() && !c.PgConn().IsBusy() && c.PgConn().TxStatus() == 'I'
	if reusable {
		p.mu.Lock()
		if !p.closed {
			// Never blocks: idle holds up to cap(slots) and c holds a slot.
			p.idle <- idleConn{conn: c, since: time.Now()}
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	// pgconn closes the socket even when ctx is already done; it only skips
	// the polite goodbye to the server.
	c.Close(ctx)
}

// with runs fn on a pooled connection.
func (p *pool) with(ctx context.Context, fn func(c *pgx.Conn) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release(ctx, c)
	return fn(c)
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// close closes the idle connections; connections in use are closed as they
// are released.
func (p *pool) close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for {
		select {
		case ic := <-p.idle:
			errs = append(errs, ic.conn.Close(ctx))
		default:
			return errors.Join(errs...)
		}
	}
}
