package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// TestWritesAndRestartsShareTheGate checks that a write transaction and a
// RESTART checkpoint each wait for the other in the ledger's gate: a write
// gives up with its context while the gate is held, and a restart waits
// until it is free.
func TestWritesAndRestartsShareTheGate(t *testing.T) {
	ctx := t.Context()
	l, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	punch := func(n int) []mapping.Event {
		return []mapping.Event{{Schema: mapping.EventSchema, ID: "fake/t1/punch/" + string(rune('a'+n)), Kind: mapping.KindPunch,
			Platform: "fake", Tenant: "t1", UserID: "u1", EmployeeID: "E1", Time: t0.Add(time.Duration(n) * time.Minute),
			ReceivedAt: t0, Via: mapping.ViaPull, Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp}}}
	}

	if err := l.gate.lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = l.Append(short, punch(0))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append while the gate is held: err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	restarted := make(chan error, 1)
	go func() { restarted <- l.ckpt.restart(ctx) }()
	select {
	case err := <-restarted:
		t.Fatalf("a restart ran while the gate was held (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	l.gate.unlock()
	if err := <-restarted; err != nil {
		t.Fatalf("restart once the gate is free: %v", err)
	}

	if _, err := l.Append(ctx, punch(1)); err != nil {
		t.Fatalf("Append once the gate is free: %v", err)
	}
	evs, err := l.Events(ctx, "E1", t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ID != "fake/t1/punch/b" {
		t.Fatalf("stored %d events (%v), want only the one appended once the gate was free", len(evs), evs)
	}
}
