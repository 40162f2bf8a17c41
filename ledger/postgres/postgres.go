package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations this binary knows, in order.
func Migrations() ([]ledger.Migration, error) {
	return ledger.LoadMigrations(migrationFiles, "migrations")
}

// Ledger is the PostgreSQL implementation of ledger.Ledger. It is safe for
// concurrent use, and several Ledgers (in one process or in many) may share
// one database.
type Ledger struct {
	pool   *pool
	clock  func() time.Time
	schema string
}

var _ ledger.Ledger = (*Ledger)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	clock    func() time.Time
	schema   string
	maxConns int
}

// WithClock sets the clock for the bookkeeping times the ledger stamps
// itself (created and updated times); every other time is the caller's.
// The default is time.Now.
func WithClock(clock func() time.Time) Option {
	return func(o *options) { o.clock = clock }
}

// WithSchema keeps the ledger's tables in the named schema, created by Open
// if it does not exist, by setting search_path on every connection. The
// name must be a plain lower-case identifier. The default is the
// connection's own search_path (usually public).
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithMaxConns bounds the connections the ledger keeps open (default the
// larger of 4 and the number of CPUs).
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string as libpq takes it) and applies any pending migrations. A database
// migrated by a newer binary is refused with an error wrapping
// ledger.ErrSchemaTooNew. Errors never repeat the dsn, which may hold a
// password.
func Open(ctx context.Context, dsn string, opts ...Option) (*Ledger, error) {
	o := options{clock: time.Now, maxConns: max(4, runtime.NumCPU())}
	for _, opt := range opts {
		opt(&o)
	}
	if dsn == "" {
		return nil, errors.New("postgres ledger: dsn is empty; give a connection string, e.g. ledger.dsn: postgres://punchbridge:${PGPASSWORD}@db:5432/punchbridge")
	}
	if err := checkSchema(o.schema); err != nil {
		return nil, err
	}
	if o.maxConns < 1 {
		return nil, fmt.Errorf("postgres ledger: max connections %d is below 1; give at least 1", o.maxConns)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parse error quotes the dsn, password and all.
		return nil, errors.New("postgres ledger: dsn cannot be parsed; write it as postgres://user:password@host:5432/database?sslmode=disable or as key=value pairs (the value is not repeated here because it may hold a password)")
	}
	if o.schema != "" {
		cfg.RuntimeParams["search_path"] = o.schema
	}
	l := &Ledger{pool: newPool(cfg, o.maxConns), clock: o.clock, schema: o.schema}
	known, err := Migrations()
	if err == nil {
		_, err = ledger.Migrate(ctx, migrator{l}, known)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("postgres ledger%s: %w", l.where(), err), l.pool.close(ctx))
	}
	return l, nil
}

// checkSchema accepts the empty name and plain lower-case identifiers,
// which need no quoting in search_path or SQL.
func checkSchema(name string) error {
	if name == "" {
		return nil
	}
	ok := len(name) <= 63
	for i, r := range name {
		switch {
		case r == '_', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("postgres ledger: schema %q is not a plain identifier; use lower-case letters, digits and underscores, starting with a letter, at most 63 characters (e.g. punchbridge)", name)
	}
	return nil
}

// where names the schema in errors, if one was chosen.
func (l *Ledger) where() string {
	if l.schema == "" {
		return ""
	}
	return " (schema " + l.schema + ")"
}

// Ping checks that a connection can be had and that the server answers.
func (l *Ledger) Ping(ctx context.Context) error {
	err := l.pool.with(ctx, func(c *pgx.Conn) error { return c.Ping(ctx) })
	if err != nil {
		return fmt.Errorf("postgres ledger: ping: %w", err)
	}
	return nil
}

// closeTimeout bounds how long Close waits to say goodbye to the server.
const closeTimeout = 5 * time.Second

// Close closes the idle connections at once and the others as their
// calls return. Calls after Close fail.
func (l *Ledger) Close() error {
	// ledger.Ledger's Close takes no context; the timeout only bounds the
	// terminate messages, the sockets close regardless.
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := l.pool.close(ctx); err != nil {
		return fmt.Errorf("postgres ledger: close: %w", err)
	}
	return nil
}

// now is the ledger's clock at the precision it stores.
func (l *Ledger) now() time.Time {
	return ms(l.clock())
}

// ms truncates t to the millisecond precision the ledger stores, so that
// PostgreSQL compares times as SQLite does.
func ms(t time.Time) time.Time {
	return t.Truncate(time.Millisecond)
}

// msPtr is ms for an optional time; the zero time is NULL.
func msPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := ms(t)
	return &v
}

// limitArg turns the interface's limit into SQL's: 0 or less means no
// limit, which LIMIT NULL spells.
func limitArg(limit int) *int {
	if limit <= 0 {
		return nil
	}
	return &limit
}

// dateString formats a DATE column as the ledger writes dates.
func dateString(t time.Time) string {
	return t.Format(ledger.DateLayout)
}
