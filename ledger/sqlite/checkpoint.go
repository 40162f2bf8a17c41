package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// Checkpointing. SQLite copies the WAL back into the database file in a
// checkpoint; by default the writer does that itself after a commit once
// the WAL holds 1,000 pages, and every write waits meanwhile. On a ledger
// of a few hundred megabytes and more those pages lie all over the file,
// and a month's pull spent a quarter of the writer's time checkpointing.
// So the writer's connection does not checkpoint, and a goroutine with a
// connection of its own does, beside the writer: commits kick it, and it
// runs at most once an interval (WithCheckpointInterval).
const (
	// checkpointEvery is the default interval. Longer ones cost less CPU
	// an event under load but make the latency of writes less even
	// (docs/PERFORMANCE.md).
	checkpointEvery = 20 * time.Millisecond
	// walPagesRestart is the WAL size at which the checkpointer also
	// makes the writer start the WAL over. A passive checkpoint never
	// blocks the writer, but while the writer keeps appending, the WAL is
	// never wholly copied at a moment the writer could restart it, and
	// grows; a RESTART checkpoint takes a gap between writes (the ledger's
	// gate) and then lets the next write begin the WAL anew.
	walPagesRestart = 16384
	// checkpointBusy is how long a RESTART checkpoint waits for readers
	// still on the WAL before it gives up until the next kick. It holds
	// the write lock while it waits, so the wait must stay short: the
	// writer's callers (webhooks) wait with it.
	checkpointBusy = 100 * time.Millisecond
)

// checkpointer runs checkpoints on its own connection.
type checkpointer struct {
	db    *sql.DB
	gate  gate          // the writer's, held across a RESTART
	every time.Duration // at most one run an interval
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}

	closeOnce sync.Once
	closeErr  error
}

func startCheckpointer(db *sql.DB, every time.Duration, gate gate) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	c := &checkpointer{db: db, gate: gate, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed tells the checkpointer that the WAL has grown.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	ctx := context.Background()
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		// Whatever the checkpoint cannot copy now (a reader still needs
		// it) it copies next time; an error here leaves the work for the
		// next kick, and the last connection to close checkpoints anyway.
		if pages, err := c.checkpoint(ctx, "PASSIVE"); err == nil && pages >= walPagesRestart {
			_ = c.restart(ctx)
		}
		t.Reset(c.every)
		select {
		case <-t.C:
		case <-c.stop:
			t.Stop()
			return
		}
	}
}

// checkpoint runs one checkpoint of mode and returns the pages in the WAL.
func (c *checkpointer) checkpoint(ctx context.Context, mode string) (walPages int, err error) {
	var busy, copied int
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &walPages, &copied)
	return walPages, err
}

// restart runs a RESTART checkpoint in a gap between the writer's
// transactions: it holds the gate, so the writer neither holds SQLite's
// write lock meanwhile nor sleeps in the busy handler waiting for it.
func (c *checkpointer) restart(ctx context.Context) error {
	if err := c.gate.lock(ctx); err != nil {
		return err
	}
	defer c.gate.unlock()
	_, err := c.checkpoint(ctx, "RESTART")
	return err
}

// close stops the checkpointer and closes its connection; closing again
// does nothing, as closing a ledger twice does.
func (c *checkpointer) close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
		<-c.done
		c.closeErr = c.db.Close()
	})
	return c.closeErr
}

// gate is a lock whose waiters can give up with their context.
type gate chan struct{}

func newGate() gate { return make(gate, 1) }

// lock takes the gate, or returns ctx's error if ctx ends first.
func (g gate) lock(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g gate) unlock() { <-g }
