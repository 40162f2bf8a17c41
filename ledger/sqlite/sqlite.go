package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/punchbridge/punchbridge/ledger"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations this binary knows, in order.
func Migrations() ([]ledger.Migration, error) {
	return ledger.LoadMigrations(migrationFiles, "migrations")
}

// readConns bounds the reader pool; SQLite in WAL mode lets readers run
// beside the one writer.
const readConns = 4

// Ledger is the SQLite implementation of ledger.Ledger. It is safe for
// concurrent use.
type Ledger struct {
	w     *sql.DB // one connection: every write transaction, serialized
	r     *sql.DB // read-only connections
	clock func() time.Time

	// stmtMu guards appendStmts, Append's statements prepared on w.
	stmtMu      sync.Mutex
	appendStmts *appendStmts

	// shared coalesces the small writes of concurrent callers, and hot
	// holds their statements, prepared once on w.
	shared shared
	hot    map[string]*sql.Stmt

	// ckpt checkpoints the WAL beside the writer (checkpoint.go).
	ckpt *checkpointer
	// gate is held by write across a transaction and by the checkpointer
	// across a RESTART checkpoint, which takes SQLite's write lock: the
	// two then wait for each other in Go, where the waiter wakes as soon
	// as the lock is free, instead of in SQLite's busy handler, which
	// sleeps 1, 2, 5, 10, 15, 20 ms and more between tries. Writes that
	// do not go through write still wait in the busy handler.
	gate gate

	// events is Events' statement, prepared once on r: compiling it (a
	// union with a recursive list of days) cost more than running it, and
	// reconciliation runs it once an employee.
	events *sql.Stmt
}

var _ ledger.Ledger = (*Ledger)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	clock           func() time.Time
	busyTimeout     time.Duration
	checkpointEvery time.Duration
}

// WithClock sets the clock for the bookkeeping times the ledger stamps
// itself (created and updated times); every other time is the caller's.
// The default is time.Now.
func WithClock(clock func() time.Time) Option {
	return func(o *options) { o.clock = clock }
}

// WithBusyTimeout sets how long a write waits for another process holding
// the database's write lock (default 5s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithCheckpointInterval sets how often, at most, the WAL is copied back
// into the database file while commits keep coming (default 20ms). Longer
// intervals copy a page written by many commits once instead of once each
// time, less CPU and I/O an event, in fewer, larger checkpoints that make
// the latency of concurrent writes less even.
func WithCheckpointInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.checkpointEvery = d
		}
	}
}

// Open opens (creating if needed) the ledger database at path and applies
// any pending migrations. A database migrated by a newer binary is refused
// with an error wrapping ledger.ErrSchemaTooNew.
func Open(ctx context.Context, path string, opts ...Option) (*Ledger, error) {
	o := options{clock: time.Now, busyTimeout: 5 * time.Second, checkpointEvery: checkpointEvery}
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	w, err := openPool(path, o.busyTimeout, poolWriter)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	l := &Ledger{w: w, clock: o.clock, gate: newGate()}
	known, err := Migrations()
	if err == nil {
		_, err = ledger.Migrate(ctx, migrator{l}, known)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite ledger %s: %w", path, err)
	}
	// The reader pool opens only after migrating: the WAL journal mode the
	// writer set is then persistent, and query_only connections cannot set it.
	l.r, err = openPool(path, o.busyTimeout, poolReader)
	if err != nil {
		w.Close()
		return nil, err
	}
	ck, err := openPool(path, min(o.busyTimeout, checkpointBusy), poolCheckpointer)
	if err != nil {
		w.Close()
		l.r.Close()
		return nil, err
	}
	l.ckpt = startCheckpointer(ck, o.checkpointEvery, l.gate)
	l.r.SetMaxOpenConns(readConns)
	l.r.SetMaxIdleConns(readConns)
	if err := l.prepareHot(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("sqlite ledger %s: %w", path, err)
	}
	if l.events, err = l.r.PrepareContext(ctx, eventsOf); err != nil {
		l.Close()
		return nil, fmt.Errorf("sqlite ledger %s: prepare: %w", path, err)
	}
	return l, nil
}

func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("sqlite ledger: path is empty; give a database file, e.g. ledger.path: /var/lib/punchbridge/ledger.db")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite ledger: path %q is not a plain file; give a database file (tests use a file in t.TempDir())", path)
	case strings.ContainsAny(path, "?#"):
		return fmt.Errorf("sqlite ledger: path %q contains '?' or '#'; rename the file", path)
	}
	return nil
}

// poolRole is what a pool's connections are for.
type poolRole int

const (
	poolWriter       poolRole = iota // the one write connection
	poolReader                       // read-only queries
	poolCheckpointer                 // the checkpointer's connection
)

// openPool opens a pool whose every connection gets the ledger's pragmas.
// Writes begin IMMEDIATE, so that a transaction takes the write lock before
// it reads and two processes on one file cannot deadlock upgrading locks.
// synchronous=NORMAL in WAL mode survives a crash of the process; a power
// loss may undo the last commits but never corrupts the file.
func openPool(path string, busy time.Duration, role poolRole) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	switch role {
	case poolReader:
		q.Add("_pragma", "query_only(1)")
	case poolWriter:
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
		// A multi-row INSERT keeps a statement journal, to undo itself
		// alone if it fails; in memory it costs no file writes.
		q.Add("_pragma", "temp_store(MEMORY)")
		// The checkpointer checkpoints (checkpoint.go), not the writer.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// 16 MiB of pages (the default is 2 MiB): a pulled answer or a
		// reconciled partition then commits without spilling pages to the
		// WAL mid-transaction, and the index pages it revisits are at hand.
		q.Add("_pragma", "cache_size(-16384)")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger %s: open: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite ledger %s: open: %w", path, err)
	}
	return db, nil
}

// Ping checks that the database answers on both the write and the read
// connections.
func (l *Ledger) Ping(ctx context.Context) error {
	if err := l.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := l.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping readers: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (l *Ledger) Close() error {
	var errs []error
	l.stmtMu.Lock()
	if st := l.appendStmts; st != nil {
		sets := []map[int]*sql.Stmt{st.lookup, st.insert}
		for _, m := range st.rows {
			sets = append(sets, m)
		}
		for _, m := range sets {
			for _, s := range m {
				errs = append(errs, s.Close())
			}
		}
		errs = append(errs, st.lastSeq.Close())
		l.appendStmts = nil
	}
	l.stmtMu.Unlock()
	for _, st := range l.hot {
		errs = append(errs, st.Close())
	}
	if l.events != nil {
		errs = append(errs, l.events.Close())
	}
	var rerr error
	if l.r != nil {
		rerr = l.r.Close()
	}
	if l.ckpt != nil {
		errs = append(errs, l.ckpt.close())
	}
	return errors.Join(append(errs, rerr, l.w.Close())...)
}

// write runs fn in one write transaction, committed if fn returns nil.
func (l *Ledger) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := l.gate.lock(ctx); err != nil {
		return err
	}
	defer l.gate.unlock()
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if l.ckpt != nil {
		l.ckpt.committed()
	}
	return nil
}

// migrator applies migrations through the write connection.
type migrator struct{ l *Ledger }

func (m migrator) AppliedVersions(ctx context.Context) ([]int, error) {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_ms INTEGER NOT NULL)`
	if _, err := m.l.w.ExecContext(ctx, create); err != nil {
		return nil, err
	}
	rows, err := m.l.w.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, errors.Join(rows.Err(), rows.Close())
}

func (m migrator) Apply(ctx context.Context, mig ledger.Migration) error {
	return m.l.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, mig.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil // another process applied it while we waited for the lock
		}
		if _, err := tx.ExecContext(ctx, mig.SQL); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`,
			mig.Version, mig.Name, m.l.clock().UnixMilli())
		return err
	})
}

// ms converts t to unix milliseconds, the zero time to 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts unix milliseconds to a UTC time, 0 to the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// limitArg turns the interface's limit into SQLite's: 0 or less means no
// limit, which SQLite spells -1.
func limitArg(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
