package msgcrypt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// DefaultWindow is how far a timestamp may lie from now when no window is
// configured (issue: a configurable window, default 10 minutes).
const DefaultWindow = 10 * time.Minute

// msAfter separates seconds from milliseconds: WeCom and the DingTalk docs
// send seconds, DingTalk's Java sample replies with milliseconds. 1e11
// seconds is the year 5138; 1e11 milliseconds is March 1973.
const msAfter = 1e11

// ParseTimestamp reads a callback timestamp in seconds or, above 1e11, in
// milliseconds. A value that is not a non-negative integer is an error
// wrapping ErrStale: a timestamp that cannot be read cannot be shown fresh.
func ParseTimestamp(ts string) (time.Time, error) {
	v, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v < 0 {
		return time.Time{}, fmt.Errorf("%w: timestamp %s is not a non-negative integer of seconds or milliseconds", ErrStale, clip(ts))
	}
	if v > msAfter {
		return time.UnixMilli(v), nil
	}
	return time.Unix(v, 0), nil
}

// CheckFresh returns an error wrapping ErrStale when ts lies more than
// window before or after now; window <= 0 means DefaultWindow. Future
// timestamps are bounded too, since a clock ahead by more than the window
// would otherwise extend how long a captured request can be replayed.
func CheckFresh(ts string, now time.Time, window time.Duration) error {
	t, err := ParseTimestamp(ts)
	if err != nil {
		return err
	}
	if window <= 0 {
		window = DefaultWindow
	}
	d := now.Sub(t) // saturates instead of overflowing
	if d < 0 {
		d = -d
	}
	if d > window {
		return fmt.Errorf("%w: timestamp %s (%s) is %s from now (%s), window %s",
			ErrStale, ts, t.UTC().Format(time.RFC3339), d.Round(time.Second), now.UTC().Format(time.RFC3339), window)
	}
	return nil
}

// Guard rejects stale and replayed deliveries of one connector. The zero
// Window means DefaultWindow and a nil Now means time.Now; Nonces is
// required. Guard is a value with no state of its own: it is as safe for
// concurrent use as its NonceStore.
type Guard struct {
	Window time.Duration
	Nonces NonceStore
	Now    func() time.Time
}

// Check returns an error wrapping ErrStale when s's timestamp is outside
// the window, or ErrReplay when its (timestamp, nonce, signature) was
// checked before and is still remembered; otherwise it records them. Call
// it after Open succeeded, so that only genuine deliveries are recorded.
//
// A replay means the message was accepted once already; a receiver may
// acknowledge it without storing anything. If storing the accepted
// message fails, call Release so the platform's retry is not taken for a
// replay (claim, deliver, then commit or release).
func (g Guard) Check(ctx context.Context, s Sealed) error {
	if err := CheckFresh(s.Timestamp, g.now(), g.Window); err != nil {
		return err
	}
	if g.Nonces == nil {
		return errors.New("msgcrypt: guard has no nonce store; set Guard.Nonces")
	}
	seen, err := g.Nonces.Seen(ctx, replayKey(s), g.ttl())
	if err != nil {
		return fmt.Errorf("msgcrypt: record nonce: %w", err)
	}
	if seen {
		return fmt.Errorf("%w: timestamp %s, nonce %s seen before", ErrReplay, clip(s.Timestamp), clip(s.Nonce))
	}
	return nil
}

// Release forgets s, when the store can forget (NonceForgetter), so that a
// delivery whose processing failed is accepted when the platform retries.
func (g Guard) Release(ctx context.Context, s Sealed) error {
	f, ok := g.Nonces.(NonceForgetter)
	if !ok {
		return nil
	}
	if err := f.Forget(ctx, replayKey(s)); err != nil {
		return fmt.Errorf("msgcrypt: forget nonce: %w", err)
	}
	return nil
}

func (g Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

// ttlMargin outlasts the inclusive edge of the window and small clock
// differences between replicas sharing one store.
const ttlMargin = time.Minute

// ttl is twice the window and a margin: a timestamp up to one window in the
// future stays fresh for two windows from now, and must be remembered as
// long.
func (g Guard) ttl() time.Duration {
	w := g.Window
	if w <= 0 {
		w = DefaultWindow
	}
	return 2*w + ttlMargin
}

// maxKey bounds the stored key; longer triples are hashed so that an
// oversized nonce cannot make one entry large.
const maxKey = 128

// replayKey joins timestamp, nonce and signature unambiguously: the
// timestamp (a checked integer) holds no ":", and the nonce is
// length-prefixed.
func replayKey(s Sealed) string {
	k := s.Timestamp + ":" + strconv.Itoa(len(s.Nonce)) + ":" + s.Nonce + ":" + s.Signature
	if len(k) <= maxKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// clip quotes an untrusted value for an error message, shortened.
func clip(s string) string {
	const max = 32
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
