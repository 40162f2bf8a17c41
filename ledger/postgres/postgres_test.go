package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/ledgertest"
	"github.com/punchbridge/punchbridge/ledger/postgres"
	"github.com/punchbridge/punchbridge/mapping"
)

// freshSchema names a new schema for one test and drops it, with its
// tables, when the test ends. Open creates it.
func freshSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = testenv.PostgresURL(t)
	schema = "pbtest_" + strings.ToLower(rand.Text())
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

func open(t testing.TB, dsn, schema string, opts ...postgres.Option) *postgres.Ledger {
	t.Helper()
	l, err := postgres.Open(t.Context(), dsn, append([]postgres.Option{postgres.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// freshLedger opens a ledger on a schema of its own.
func freshLedger(t *testing.T) ledger.Ledger {
	dsn, schema := freshSchema(t)
	return open(t, dsn, schema)
}

// sqlConn connects straight to the schema, to look behind the ledger.
func sqlConn(t testing.TB, dsn, schema string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	c, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func count(t testing.TB, c *pgx.Conn, q string, args ...any) int {
	t.Helper()
	var n int
	if err := c.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestConformance(t *testing.T) {
	testenv.PostgresURL(t) // skip once, not in every subtest
	ledgertest.Run(t, freshLedger)
}

func TestOperations(t *testing.T) {
	testenv.PostgresURL(t)
	ledgertest.RunOperations(t, freshLedger)
}

func TestAudit(t *testing.T) {
	testenv.PostgresURL(t)
	ledgertest.RunAudit(t, freshLedger)
}

func TestOpenRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		opts      []postgres.Option
		want      string
	}{
		{"empty dsn", "", nil, "dsn is empty"},
		{"unparseable dsn", "postgres://pb:s3cret@db:notaport/pb", nil, "dsn cannot be parsed"},
		{"quoted schema", "postgres://pb@db/pb", []postgres.Option{postgres.WithSchema(`a"b`)}, `schema "a\"b"`},
		{"upper-case schema", "postgres://pb@db/pb", []postgres.Option{postgres.WithSchema("Ledger")}, `schema "Ledger"`},
		{"schema starting with a digit", "postgres://pb@db/pb", []postgres.Option{postgres.WithSchema("1ledger")}, `schema "1ledger"`},
		{"long schema", "postgres://pb@db/pb", []postgres.Option{postgres.WithSchema(strings.Repeat("a", 64))}, "at most 63"},
		{"no connections", "postgres://pb@db/pb", []postgres.Option{postgres.WithMaxConns(0)}, "max connections 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := postgres.Open(t.Context(), tc.dsn, tc.opts...)
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open = %v, want an error containing %q and no password", err, tc.want)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	// Port 1 on the loopback refuses at once.
	_, err := postgres.Open(t.Context(), "postgres://pb:s3cret@127.0.0.1:1/pb?sslmode=disable&connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of an unreachable server = %v, want an error without the password", err)
	}
}

func schemaVersions(t *testing.T, c *pgx.Conn) []int {
	t.Helper()
	rows, err := c.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrations(t *testing.T) {
	known, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(known) == 0 {
		t.Fatal("no migrations embedded")
	}
	dsn, schema := freshSchema(t)
	clock := func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) }

	l := open(t, dsn, schema, postgres.WithClock(clock))
	if _, err := l.Append(t.Context(), []mapping.Event{{ID: "dingtalk/t/punch/1", Kind: mapping.KindPunch, Time: clock()}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c := sqlConn(t, dsn, schema)
	if got := schemaVersions(t, c); len(got) != len(known) || got[len(got)-1] != known[len(known)-1].Version {
		t.Fatalf("schema_migrations = %v after the first Open, want 1..%d", got, len(known))
	}
	var applied time.Time
	if err := c.QueryRow(t.Context(), `SELECT applied_at FROM schema_migrations WHERE version = 1`).Scan(&applied); err != nil || !applied.Equal(clock()) {
		t.Errorf("applied_at = %v, %v; want the ledger's clock, %v", applied, err, clock())
	}

	// Re-opening applies nothing and keeps the data.
	l = open(t, dsn, schema)
	q, err := l.Quarantined(t.Context(), 0)
	if err != nil || len(q) != 1 {
		t.Fatalf("after re-opening: %d quarantined events, %v; want 1", len(q), err)
	}
	l.Close()
	if got := schemaVersions(t, c); len(got) != len(known) {
		t.Fatalf("schema_migrations = %v after re-opening, want %d rows", got, len(known))
	}

	// A database from a newer binary is refused.
	newer := len(known) + 1
	if _, err := c.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())`,
		newer, fmt.Sprintf("%04d_future.sql", newer)); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
	if !errors.Is(err, ledger.ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", newer)) {
		t.Errorf("Open of a newer database = %v, want ErrSchemaTooNew naming version %d", err, newer)
	}
}

// Replicas starting together apply each migration once: a second
// application would fail on the tables the first created.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	known, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	dsn, schema := freshSchema(t)
	const replicas = 3
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errs    = make([]error, replicas)
		ledgers = make([]*postgres.Ledger, replicas)
	)
	for i := range replicas {
		wg.Go(func() {
			<-start
			ledgers[i], errs[i] = postgres.Open(t.Context(), dsn, postgres.WithSchema(schema))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		defer ledgers[i].Close()
	}
	c := sqlConn(t, dsn, schema)
	if got := schemaVersions(t, c); len(got) != len(known) {
		t.Errorf("schema_migrations = %v, want %d rows", got, len(known))
	}
	for i, l := range ledgers {
		if err := l.Ping(t.Context()); err != nil {
			t.Errorf("replica %d: Ping: %v", i, err)
		}
	}
}

// Two schemas in one database are two ledgers.
func TestSchemasAreSeparate(t *testing.T) {
	dsn, a := freshSchema(t)
	_, b := freshSchema(t)
	la, lb := open(t, dsn, a), open(t, dsn, b)
	defer la.Close()
	defer lb.Close()
	if err := la.SetCheckpoint(t.Context(), "dingtalk-hq", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := lb.Checkpoint(t.Context(), "dingtalk-hq"); ok || err != nil {
		t.Errorf("Checkpoint in the other schema = %v, %v; want none", ok, err)
	}
}

// The ledger stamps and returns its own times in UTC at millisecond
// precision, as the SQLite ledger does.
func TestTimesAreUTCMilliseconds(t *testing.T) {
	dsn, schema := freshSchema(t)
	shanghai := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 21, 2, 0, 0, 123456789, shanghai)
	l := open(t, dsn, schema, postgres.WithClock(func() time.Time { return now }))
	defer l.Close()
	want := time.Date(2026, 11, 20, 18, 0, 0, 123000000, time.UTC)

	if err := l.SetCheckpoint(t.Context(), "dingtalk-hq", now); err != nil {
		t.Fatal(err)
	}
	if got, _, err := l.Checkpoint(t.Context(), "dingtalk-hq"); err != nil || got != want {
		t.Errorf("Checkpoint = %v, %v; want %v", got, err, want)
	}
	if err := l.Reject(t.Context(), []ledger.Rejection{{Connector: "wecom-sh", Reason: "bad"}}); err != nil {
		t.Fatal(err)
	}
	if rs, err := l.Rejections(t.Context(), time.Time{}, 0); err != nil || len(rs) != 1 || rs[0].ReceivedAt != want {
		t.Errorf("Rejections = %+v, %v; want one received at %v", rs, err, want)
	}
	rec := mapping.DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Status: mapping.DayPresent, Version: 1}
	if err := l.Enqueue(t.Context(), "hr", rec); err != nil {
		t.Fatal(err)
	}
	es, err := l.Outbox(t.Context(), "hr", "", 0)
	if err != nil || len(es) != 1 {
		t.Fatalf("Outbox = %d entries, %v; want 1", len(es), err)
	}
	if e := es[0]; e.CreatedAt != want || e.UpdatedAt != want || !e.NextAt.IsZero() {
		t.Errorf("entry created %v updated %v next %v; want %v, %v and zero", e.CreatedAt, e.UpdatedAt, e.NextAt, want, want)
	}
	if err := l.MarkFailed(t.Context(), es[0].ID, "503", now.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if es, err = l.Outbox(t.Context(), "hr", "", 0); err != nil || es[0].NextAt != want.Add(time.Minute) {
		t.Errorf("NextAt after MarkFailed = %v, %v; want %v", es[0].NextAt, err, want.Add(time.Minute))
	}
	// An event a microsecond inside a range's end compares as the end.
	p := mapping.Event{ID: "dingtalk/t/punch/1", Kind: mapping.KindPunch, EmployeeID: "E1", Time: want.Add(time.Microsecond)}
	if _, err := l.Append(t.Context(), []mapping.Event{p}); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Events(t.Context(), "E1", want.Add(-time.Hour), want.Add(999*time.Microsecond)); err != nil || len(got) != 0 {
		t.Errorf("Events up to the same millisecond = %d events, %v; want none", len(got), err)
	}
}

func TestClosedLedgerFails(t *testing.T) {
	dsn, schema := freshSchema(t)
	l := open(t, dsn, schema)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if _, err := l.Employees(t.Context()); err == nil {
		t.Error("Employees after Close succeeded")
	}
}

// A key with a malformed date cannot have been stored, so reading it finds
// nothing (as on SQLite) rather than failing on PostgreSQL's date parser.
func TestMalformedDatesAreUnknown(t *testing.T) {
	dsn, schema := freshSchema(t)
	l := open(t, dsn, schema)
	defer l.Close()
	key := mapping.DayKey{EmployeeID: "E1", Date: "20.11.2026", Shift: "standard"}
	if _, err := l.Day(t.Context(), key); !errors.Is(err, ledger.ErrNotFound) || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("Day = %v, want ErrNotFound saying how to write the date", err)
	}
	if hist, err := l.DayHistory(t.Context(), key); len(hist) != 0 || err != nil {
		t.Errorf("DayHistory = %d versions, %v; want none, nil", len(hist), err)
	}
	if ok, err := l.Delivered(t.Context(), "hr", key, 1); ok || err != nil {
		t.Errorf("Delivered = %v, %v; want false, nil", ok, err)
	}
	if err := l.ClearDirty(t.Context(), []ledger.DirtyDay{{EmployeeDay: mapping.EmployeeDay{EmployeeID: "E1", Date: "20.11.2026"}}}); err != nil {
		t.Errorf("ClearDirty = %v, want nil", err)
	}
}

// TestIngestBatches holds IngestBatches to Append, all or nothing.
func TestIngestBatches(t *testing.T) {
	testenv.PostgresURL(t)
	ledgertest.RunIngestBatcher(t, freshLedger)
}

// TestPutDaysMatchesPutDay holds PutDays to PutDay and Enqueue.
func TestPutDaysMatchesPutDay(t *testing.T) {
	testenv.PostgresURL(t)
	ledgertest.RunDayBatcher(t, freshLedger)
}
