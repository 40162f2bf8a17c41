package dingtalk

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

// Callback settings of the test connectors.
const (
	hookToken  = "pbTestToken42"
	hookAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// withCallback configures HTTP push.
func withCallback(c *Config) {
	c.Token, c.AESKey = hookToken, hookAESKey
}

// recorder is an EmitFunc that keeps what it was given and can be made to
// fail. Waiters are woken on every call.
type recorder struct {
	mu      sync.Mutex
	batches [][]mapping.Event
	fail    error
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) emit(_ context.Context, evs []mapping.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { close(r.changed); r.changed = make(chan struct{}) }()
	if r.fail != nil {
		return r.fail
	}
	r.batches = append(r.batches, append([]mapping.Event(nil), evs...))
	return nil
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func (r *recorder) events() []mapping.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mapping.Event
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

// waitFor waits until cond holds, re-checking after every emit, for at
// most 10 seconds of wall time (a failing test, not a slow one).
func (r *recorder) waitFor(t *testing.T, what string, cond func([]mapping.Event) bool) []mapping.Event {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if evs := r.events(); cond(evs) {
			return evs
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; have %d events", what, len(r.events()))
		}
	}
}

// hookServer serves the connector's webhook handler with ingest.
func (e *env) hookServer(t *testing.T, ingest func(context.Context, []mapping.Event) error) string {
	t.Helper()
	srv := httptest.NewServer(e.conn.Handler(ingest))
	t.Cleanup(srv.Close)
	return srv.URL + "/hooks/dingtalk/" + e.conn.Name()
}

// push sends event to url as DingTalk would, timestamped by the test clock.
func (e *env) push(t *testing.T, url string, event any) (dingtalktest.PushResult, error) {
	t.Helper()
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	return dingtalktest.Push(context.Background(), nil, url, e.pushConfig(), b)
}

func (e *env) pushConfig() dingtalktest.PushConfig {
	return dingtalktest.PushConfig{Token: hookToken, AESKey: hookAESKey, OwnerKey: e.conn.cfg.OwnerKey, Time: e.clock.Now()}
}

// seal encrypts event for the test connector, with the test clock.
func (e *env) seal(t *testing.T, event any) msgcrypt.Sealed {
	t.Helper()
	return sealFor(t, e.conn.cfg.OwnerKey, e.clock.Now(), event)
}

func sealFor(t testing.TB, owner string, now time.Time, event any) msgcrypt.Sealed {
	t.Helper()
	c, err := msgcrypt.New(hookToken, hookAESKey, owner)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Seal(b, strconv.FormatInt(now.UnixMilli(), 10), msgcrypt.RandomNonce(16))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawEncrypt encrypts plain (already padded, a multiple of 16 bytes) with
// the test key and IV = key[:16], without any checks, to build ciphertexts
// the real encrypter never makes.
func rawEncrypt(t testing.TB, plain []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(hookAESKey + "=")
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

// badPadding seals msg with a last byte of pad that is not valid PKCS#7.
func badPadding(t testing.TB, owner string, now time.Time, msg []byte, pad byte) msgcrypt.Sealed {
	t.Helper()
	plain := append([]byte("0123456789abcdef"), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(plain[16:], uint32(len(msg)))
	plain = append(append(plain, msg...), owner...)
	for len(plain)%32 != 0 {
		plain = append(plain, pad)
	}
	plain = append(plain, make([]byte, 31)...)
	plain = append(plain, pad)
	enc := rawEncrypt(t, plain)
	c, err := msgcrypt.New(hookToken, hookAESKey, owner)
	if err != nil {
		t.Fatal(err)
	}
	ts, nonce := strconv.FormatInt(now.UnixMilli(), 10), msgcrypt.RandomNonce(16)
	return msgcrypt.Sealed{Encrypt: enc, Signature: c.Sign(ts, nonce, enc), Timestamp: ts, Nonce: nonce}
}

// resign returns s with a new ciphertext and a valid signature for it.
func resign(t testing.TB, s msgcrypt.Sealed, enc string) msgcrypt.Sealed {
	t.Helper()
	c, err := msgcrypt.New(hookToken, hookAESKey, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Encrypt = enc
	s.Signature = c.Sign(s.Timestamp, s.Nonce, enc)
	return s
}

var errLedgerDown = errors.New("ledger down")

// startWork runs the connector's Work until the test ends.
func (e *env) startWork(t *testing.T, ingest func(context.Context, []mapping.Event) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.conn.Work(ctx, ingest) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Work: %v", err)
		}
	})
}
