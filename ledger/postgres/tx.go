package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/punchbridge/punchbridge/ledger"
)

// txAttempts is how often a transaction runs before a retryable failure is
// returned to the caller.
const txAttempts = 5

// errLostRace reports that a row the transaction meant to insert appeared
// meanwhile. The advisory locks make this impossible among Ledgers; it is
// retried rather than miscounted should another writer skip the locks.
var errLostRace = errors.New("a concurrent writer stored the same row")

// tx runs fn in one READ COMMITTED transaction, committed if fn returns
// nil. fn runs again, on a fresh transaction, after a deadlock, a
// serialization failure or errLostRace, so it must reset whatever it
// accumulates.
func (l *Ledger) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := l.pool.with(ctx, func(c *pgx.Conn) error { return pgx.BeginFunc(ctx, c, fn) })
		if err == nil || attempt == txAttempts || !retryable(err) {
			return err
		}
	}
}

// retryable reports whether running the transaction again may succeed.
func retryable(err error) bool {
	if errors.Is(err, errLostRace) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}

// query runs q on a pooled connection and collects its rows with scan.
func query[T any](ctx context.Context, l *Ledger, scan pgx.RowToFunc[T], q string, args ...any) ([]T, error) {
	var out []T
	err := l.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scan)
		return err
	})
	return out, err
}

// exec runs one statement on a pooled connection.
func (l *Ledger) exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := l.pool.with(ctx, func(c *pgx.Conn) error {
		var err error
		tag, err = c.Exec(ctx, q, args...)
		return err
	})
	return tag, err
}

// Advisory lock kinds. Every lock a Ledger takes is a transaction-level
// advisory lock on lockKey(kind, name), so it is released at commit or
// rollback, even when the process dies.
const (
	lockMigrate   = "migrate"    // schema migrations, one at a time
	lockEvent     = "event"      // the revisions of one event id
	lockAllEvents = "all-events" // every event id at once (see lockEvents)
	lockDay       = "day"        // the day records of one employee
	lockAllDays   = "all-days"   // every day record at once (see lockDays)
)

// lockKey maps a lock to PostgreSQL's 64-bit advisory lock space. The kind
// prefix keeps the kinds apart and makes collisions with other users of
// advisory locks unlikely; a collision only makes a writer wait.
func lockKey(kind, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("punchbridge.ledger." + kind + "\x00" + name))
	return int64(h.Sum64())
}

// advisoryLock is one lock to take, exclusive unless shared.
type advisoryLock struct {
	key    int64
	shared bool
}

// takeLocks takes the locks in the given order, in one statement: unnest
// yields the keys in array order, and each lock is taken as its row is
// produced.
func takeLocks(ctx context.Context, tx pgx.Tx, locks []advisoryLock) error {
	keys, shared := make([]int64, len(locks)), make([]bool, len(locks))
	for i, l := range locks {
		keys[i], shared[i] = l.key, l.shared
	}
	_, err := tx.Exec(ctx, `SELECT CASE WHEN u.shared THEN pg_advisory_xact_lock_shared(u.key) ELSE pg_advisory_xact_lock(u.key) END
		FROM unnest($1::bigint[], $2::boolean[]) AS u(key, shared)`, keys, shared)
	return err
}

// exclusive returns exclusive locks of kind on every name, in ascending key
// order: two transactions locking overlapping sets then wait for each
// other in the same order and cannot deadlock.
func exclusive(kind string, names []string) []advisoryLock {
	keys := make([]int64, 0, len(names))
	for _, n := range names {
		keys = append(keys, lockKey(kind, n))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	locks := make([]advisoryLock, len(keys))
	for i, k := range keys {
		locks[i] = advisoryLock{key: k}
	}
	return locks
}

// lockAll takes exclusive locks of kind on every name.
func lockAll(ctx context.Context, tx pgx.Tx, kind string, names []string) error {
	return takeLocks(ctx, tx, exclusive(kind, names))
}

// maxEventLocks bounds the per-id (and per-day) locks one transaction
// takes. Advisory locks live in PostgreSQL's shared lock table, sized by
// max_locks_per_transaction; a few replicas each locking thousands of ids
// could fill it.
const maxEventLocks = 500

// lockMany serializes writers of the same names of kind (see manyLocks).
func lockMany(ctx context.Context, tx pgx.Tx, all, kind string, names []string) error {
	return takeLocks(ctx, tx, manyLocks(all, kind, names))
}

// manyLocks returns the locks a writer of names takes. On up to
// maxEventLocks distinct names it is a shared lock on all (the kind's lock
// on every name at once), then an exclusive lock per name; on more, all
// taken exclusively, which waits for (and holds off) every other writer of
// the kind. Either way two writers of one name never overlap, and the lock
// table holds at most maxEventLocks+1 locks per transaction. Names repeat
// (a reconciliation batch names an employee once a day), so the bound
// counts distinct ones.
func manyLocks(all, kind string, names []string) []advisoryLock {
	allKey := lockKey(all, "")
	each := exclusive(kind, names)
	if len(each) > maxEventLocks {
		return []advisoryLock{{key: allKey}}
	}
	return append([]advisoryLock{{key: allKey, shared: true}}, each...)
}

// lockDays serializes writers of the same day records (PutDay, PutDays) by
// employee, not by day: a reconciliation batch holds a thousand days, each
// employee's run several of them (its look-back), so a few hundred
// employees, which stays under maxEventLocks and leaves other replicas'
// batches of other employees free to proceed.
func lockDays(ctx context.Context, tx pgx.Tx, employees []string) error {
	return lockMany(ctx, tx, lockAllDays, lockDay, employees)
}

// lockEvents serializes writers of the same event ids (see lockMany).
func lockEvents(ctx context.Context, tx pgx.Tx, ids []string) error {
	return lockMany(ctx, tx, lockAllEvents, lockEvent, ids)
}

// migrator applies migrations under an advisory lock, so that replicas
// starting together apply each one exactly once.
type migrator struct{ l *Ledger }

func (m migrator) AppliedVersions(ctx context.Context) ([]int, error) {
	var vs []int
	err := m.l.tx(ctx, func(tx pgx.Tx) error {
		if err := lockAll(ctx, tx, lockMigrate, []string{""}); err != nil {
			return err
		}
		if err := createSchema(ctx, tx, m.l.schema); err != nil {
			return err
		}
		// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
		vs, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	})
	return vs, err
}

// createSchema creates the named schema unless it exists. It looks first
// because CREATE SCHEMA IF NOT EXISTS demands the CREATE privilege on the
// database even when the schema is there.
func createSchema(ctx context.Context, tx pgx.Tx, schema string) error {
	if schema == "" {
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
	return err
}

func (m migrator) Apply(ctx context.Context, mig ledger.Migration) error {
	return m.l.tx(ctx, func(tx pgx.Tx) error {
		if err := lockAll(ctx, tx, lockMigrate, []string{""}); err != nil {
			return err
		}
		var applied bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, mig.Version).Scan(&applied); err != nil {
			return err
		}
		if applied {
			return nil // another replica applied it while we waited for the lock
		}
		// Without arguments Exec uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, mig.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			mig.Version, mig.Name, m.l.now())
		return err
	})
}
