package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/ledgertest"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

func open(t testing.TB, path string, opts ...sqlite.Option) *sqlite.Ledger {
	t.Helper()
	l, err := sqlite.Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// freshLedger opens an empty ledger in t's temporary directory.
func freshLedger(t *testing.T) ledger.Ledger {
	return open(t, filepath.Join(t.TempDir(), "ledger.db"))
}

func TestConformance(t *testing.T) {
	ledgertest.Run(t, freshLedger)
}

func TestOperations(t *testing.T) {
	ledgertest.RunOperations(t, freshLedger)
}

func TestAudit(t *testing.T) {
	ledgertest.RunAudit(t, freshLedger)
}

func TestOpenRefusesBadPaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory", filepath.Join(t.TempDir(), "a?b.db")} {
		if l, err := sqlite.Open(t.Context(), path); err == nil {
			l.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// schemaVersions reads schema_migrations directly.
func schemaVersions(t *testing.T, path string) []int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestMigrations(t *testing.T) {
	known, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(known) == 0 {
		t.Fatal("no migrations embedded")
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	clock := func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) }

	l := open(t, path, sqlite.WithClock(clock))
	if _, err := l.Append(t.Context(), []mapping.Event{{ID: "dingtalk/t/punch/1", Kind: mapping.KindPunch, Time: clock()}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := schemaVersions(t, path); len(got) != len(known) || got[len(got)-1] != known[len(known)-1].Version {
		t.Fatalf("schema_migrations = %v after the first Open, want 1..%d", got, len(known))
	}

	// Re-opening applies nothing and keeps the data.
	l = open(t, path)
	q, err := l.Quarantined(t.Context(), 0)
	if err != nil || len(q) != 1 {
		t.Fatalf("after re-opening: %d quarantined events, %v; want 1", len(q), err)
	}
	l.Close()
	if got := schemaVersions(t, path); len(got) != len(known) {
		t.Fatalf("schema_migrations = %v after re-opening, want %d rows", got, len(known))
	}

	// A database from a newer binary is refused.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	newer := len(known) + 1
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, 0)`, newer, fmt.Sprintf("%04d_future.sql", newer)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(t.Context(), path)
	if !errors.Is(err, ledger.ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", newer)) {
		t.Errorf("Open of a newer database = %v, want ErrSchemaTooNew naming version %d", err, newer)
	}
}

// A second process on the same file shares the data and the write lock.
func TestTwoLedgersOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a, b := open(t, path), open(t, path)
	defer a.Close()
	defer b.Close()
	rec := mapping.DayRecord{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard", Status: mapping.DayPresent}
	done := make(chan error, 1)
	go func() {
		_, _, err := a.PutDay(t.Context(), rec)
		done <- err
	}()
	if _, _, err := b.PutDay(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	hist, err := a.DayHistory(t.Context(), rec.Key())
	if err != nil || len(hist) != 1 {
		t.Errorf("DayHistory = %d versions, %v; want 1", len(hist), err)
	}
}

// TestIngestBatches holds IngestBatches to Append, all or nothing.
func TestIngestBatches(t *testing.T) {
	ledgertest.RunIngestBatcher(t, freshLedger)
}
