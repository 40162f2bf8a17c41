package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

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
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	const batches, per = 20, 200
	for b := range batches {
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
	// The checkpointer runs beside the writer; give it its turn.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := countInFileAlone(t, path)
		if err == nil && n == batches*per {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file alone holds %d of %d events (%v): the WAL was not checkpointed", n, batches*per, err)
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
