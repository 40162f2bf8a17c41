package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// TestCheckpointerCopiesTheWAL checks that commits reach the database file
// itself while the ledger is open, though its writer does not checkpoint:
// a copy of the database file alone, without its WAL, holds them.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	l := open(t, path)
	defer l.Close()
	const batches, per = 20, 200
	for b := range batches {
		appendBatch(t, l, b, per)
	}
	waitInFileAlone(t, path, batches*per)
}

// TestCheckpointInterval checks that the checkpointer runs at most once an
// interval: with an interval of an hour, the first commit is copied into
// the database file and the next one stays in the WAL until the ledger
// closes, when the last connection checkpoints it.
func TestCheckpointInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := open(t, path, sqlite.WithCheckpointInterval(time.Hour))
	const per = 100
	appendBatch(t, l, 0, per)
	waitInFileAlone(t, path, per)
	appendBatch(t, l, 1, per)
	time.Sleep(300 * time.Millisecond) // many times the default interval
	if n, err := countInFileAlone(t, path); err != nil || n != per {
		t.Fatalf("the database file alone holds %d events (%v) before the hour is up, want the first %d", n, err, per)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := countInFileAlone(t, path); err != nil || n != 2*per {
		t.Fatalf("after Close the database file alone holds %d events (%v), want %d", n, err, 2*per)
	}
}

// appendBatch appends the bth batch of per punches.
func appendBatch(t *testing.T, l *sqlite.Ledger, b, per int) {
	t.Helper()
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	events := make([]mapping.Event, per)
	for i := range events {
		n := b*per + i
		events[i] = mapping.Event{Schema: mapping.EventSchema, ID: fmt.Sprintf("fake/t1/punch/%d", n), Kind: mapping.KindPunch,
			Platform: "fake", Tenant: "t1", UserID: "u1", EmployeeID: "E1", Time: t0.Add(time.Duration(n) * time.Second),
			ReceivedAt: t0, Via: mapping.ViaPull, Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp}}
	}
	if _, err := l.Append(t.Context(), events); err != nil {
		t.Fatal(err)
	}
}

// waitInFileAlone waits until the database file alone, without its WAL,
// holds want events: the checkpointer runs beside the writer, and this
// gives it its turn.
func waitInFileAlone(t *testing.T, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := countInFileAlone(t, path)
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file alone holds %d of %d events (%v): the WAL was not checkpointed", n, want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countInFileAlone counts the events in a copy of the database file made
// without its WAL.
func countInFileAlone(t *testing.T, path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", cp)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// TestCloseTwice checks that a second Close, as deferred cleanups make,
// does not fail on the checkpointer.
func TestCloseTwice(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_ = l.Close() // the pools report their own state; only a panic fails
}
