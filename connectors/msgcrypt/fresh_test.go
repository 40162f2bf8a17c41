package msgcrypt

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/internal/clocktest"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"1409659589", time.Unix(1409659589, 0), false},         // C1, seconds
		{"1614767836", time.Unix(1614767836, 0), false},         // C2, seconds
		{"1700000000123", time.UnixMilli(1700000000123), false}, // DingTalk Java reply, ms
		{"100000000000", time.Unix(100000000000, 0), false},     // 1e11 itself: seconds
		{"100000000001", time.UnixMilli(100000000001), false},   // just above: ms
		{"0", time.Unix(0, 0), false},
		{"", time.Time{}, true},
		{"-1", time.Time{}, true},
		{"1.5", time.Time{}, true},
		{" 1409659589", time.Time{}, true},
		{"1409659589\n", time.Time{}, true},
		{"0x10", time.Time{}, true},
		{"99999999999999999999", time.Time{}, true},
		{strings.Repeat("9", 500), time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrStale) {
				t.Errorf("ParseTimestamp(%.20q) error = %v, want ErrStale", tt.in, err)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Errorf("ParseTimestamp error is %d bytes; untrusted input must be clipped", len(err.Error()))
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckFresh(t *testing.T) {
	now := time.Unix(1700000000, 0)
	sec := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	tests := []struct {
		name   string
		ts     string
		window time.Duration
		stale  bool
	}{
		{"now", sec(0), 0, false},
		{"default window edge past", sec(-10 * time.Minute), 0, false},
		{"default window edge future", sec(10 * time.Minute), 0, false},
		{"past the default window", sec(-10*time.Minute - time.Second), 0, true},
		{"ahead of the default window", sec(10*time.Minute + time.Second), 0, true},
		{"negative window means default", sec(-9 * time.Minute), -time.Second, false},
		{"ms inside", ms(-9*time.Minute - 59*time.Second), 0, false},
		{"ms one ms past", ms(-10*time.Minute - time.Millisecond), 0, true},
		{"custom window", sec(-2 * time.Minute), time.Minute, true},
		{"custom window inside", sec(-59 * time.Second), time.Minute, false},
		{"epoch", "0", 0, true},
		{"garbage", "yesterday", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFresh(tt.ts, now, tt.window)
			if tt.stale {
				assertOnly(t, err, ErrStale)
			} else if err != nil {
				t.Errorf("CheckFresh(%s) = %v", tt.ts, err)
			}
		})
	}
}

func TestGuard(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Unix(1700000000, 0))
	store := NewMemoryNonces(clk.Now)
	g := Guard{Nonces: store, Now: clk.Now}
	c := newTestCipher(t, testReceiver)
	seal := func(ts, nonce string) Sealed {
		s, err := c.Seal([]byte("event"), ts, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := seal("1700000000", "n1")
	if err := g.Check(ctx, s); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	assertOnly(t, g.Check(ctx, s), ErrReplay)

	// The same timestamp and nonce with another ciphertext is another
	// message (another signature), not a replay.
	if err := g.Check(ctx, seal("1700000000", "n1")); err != nil {
		t.Errorf("other message, same nonce: %v", err)
	}

	// Stale deliveries are rejected before the store sees them.
	before := store.Len()
	assertOnly(t, g.Check(ctx, seal("1699999000", "n2")), ErrStale)
	assertOnly(t, g.Check(ctx, seal("1700000601", "n3")), ErrStale)
	if store.Len() != before {
		t.Errorf("stale deliveries were recorded: %d keys, want %d", store.Len(), before)
	}

	// Release lets the platform's retry of a failed delivery through.
	if err := g.Release(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(ctx, s); err != nil {
		t.Errorf("after Release: %v", err)
	}
	assertOnly(t, g.Check(ctx, s), ErrReplay)

	// Still remembered at the end of the window, when the timestamp is
	// still fresh; stale (not a replay) after it.
	clk.Advance(10 * time.Minute)
	assertOnly(t, g.Check(ctx, s), ErrReplay)
	clk.Advance(time.Second)
	assertOnly(t, g.Check(ctx, s), ErrStale)

	// A timestamp one window ahead stays fresh for two windows and must
	// be remembered as long.
	ahead := seal(strconv.FormatInt(clk.Now().Add(10*time.Minute).Unix(), 10), "n4")
	if err := g.Check(ctx, ahead); err != nil {
		t.Fatalf("future timestamp inside the window: %v", err)
	}
	clk.Advance(20 * time.Minute)
	assertOnly(t, g.Check(ctx, ahead), ErrReplay)
}

func TestGuardCustomWindow(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Unix(1700000000, 0))
	g := Guard{Window: time.Minute, Nonces: NewMemoryNonces(clk.Now), Now: clk.Now}
	s := Sealed{Encrypt: "e", Signature: "s", Timestamp: "1699999900", Nonce: "n"}
	assertOnly(t, g.Check(ctx, s), ErrStale)
	s.Timestamp = "1699999950"
	if err := g.Check(ctx, s); err != nil {
		t.Fatal(err)
	}
}

func TestGuardNeedsStore(t *testing.T) {
	g := Guard{Now: func() time.Time { return time.Unix(1700000000, 0) }}
	err := g.Check(context.Background(), Sealed{Timestamp: "1700000000", Nonce: "n", Signature: "s"})
	if err == nil {
		t.Fatal("Guard without a store accepted a delivery")
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("misconfiguration reported as %v", s)
		}
	}
	if err := g.Release(context.Background(), Sealed{}); err != nil {
		t.Errorf("Release without a store: %v", err)
	}
}

type failingStore struct{ err error }

func (f failingStore) Seen(context.Context, string, time.Duration) (bool, error) { return false, f.err }

func TestGuardStoreError(t *testing.T) {
	down := errors.New("redis down")
	g := Guard{Nonces: failingStore{down}, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	err := g.Check(context.Background(), Sealed{Timestamp: "1700000000"})
	if !errors.Is(err, down) || errors.Is(err, ErrReplay) {
		t.Errorf("error = %v, want the store's error and not ErrReplay", err)
	}
	if err := g.Release(context.Background(), Sealed{}); err != nil {
		t.Errorf("Release with a store that cannot forget: %v", err)
	}
}

// Of many concurrent deliveries of one message exactly one is accepted.
func TestGuardConcurrentReplay(t *testing.T) {
	now := func() time.Time { return time.Unix(1700000000, 0) }
	g := Guard{Nonces: NewMemoryNonces(now), Now: now}
	s := Sealed{Encrypt: "e", Signature: "sig", Timestamp: "1700000000", Nonce: "n"}
	var accepted, replays atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch err := g.Check(context.Background(), s); {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, ErrReplay):
				replays.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 || replays.Load() != 19 {
		t.Errorf("accepted %d, replays %d; want 1 and 19", accepted.Load(), replays.Load())
	}
}

func TestReplayKey(t *testing.T) {
	// Moving bytes between nonce and signature must change the key.
	a := replayKey(Sealed{Timestamp: "1", Nonce: "ab", Signature: "c"})
	b := replayKey(Sealed{Timestamp: "1", Nonce: "a", Signature: "bc"})
	if a == b {
		t.Errorf("ambiguous keys: %q", a)
	}
	long := replayKey(Sealed{Timestamp: "1700000000", Nonce: strings.Repeat("n", 10000), Signature: strings.Repeat("f", 40)})
	if len(long) > maxKey {
		t.Errorf("key of %d bytes, want at most %d", len(long), maxKey)
	}
	if long == replayKey(Sealed{Timestamp: "1700000000", Nonce: strings.Repeat("n", 10001), Signature: strings.Repeat("f", 40)}) {
		t.Error("hashed keys collide")
	}
}

type forgetFailStore struct{ *MemoryNonces }

func (forgetFailStore) Forget(context.Context, string) error { return errors.New("redis down") }

func TestGuardReleaseError(t *testing.T) {
	g := Guard{Nonces: forgetFailStore{NewMemoryNonces(nil)}}
	if err := g.Release(context.Background(), Sealed{}); err == nil || !strings.Contains(err.Error(), "redis down") {
		t.Errorf("Release error = %v, want the store's", err)
	}
}

// Without Now the guard reads the wall clock.
func TestGuardDefaultClock(t *testing.T) {
	g := Guard{Nonces: NewMemoryNonces(nil)}
	s := Sealed{Timestamp: strconv.FormatInt(time.Now().Unix(), 10), Nonce: "n", Signature: "s"}
	if err := g.Check(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, g.Check(context.Background(), s), ErrReplay)
}
