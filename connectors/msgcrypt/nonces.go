package msgcrypt

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// NonceStore remembers keys for a time. Implementations must be safe for
// concurrent use, and Seen must be atomic: of two concurrent calls with the
// same key, exactly one reports false. A Redis store does this with
// SET key 1 NX PX ttl.
type NonceStore interface {
	// Seen records key for ttl and reports whether it was already there
	// and unexpired. A key already there keeps its first expiry.
	Seen(ctx context.Context, key string, ttl time.Duration) (seen bool, err error)
}

// NonceForgetter is a NonceStore that can drop a key again (Guard.Release).
type NonceForgetter interface {
	Forget(ctx context.Context, key string) error
}

// DefaultNonceLimit is how many keys a MemoryNonces holds at most.
// 100,000 deliveries in a 20-minute TTL is about 80 a second, far above the
// punch and approval traffic of one organization (DingTalk pushes at most
// one punch event per user per minute, A6).
const DefaultNonceLimit = 100_000

// MemoryNonces is an in-process NonceStore for a single replica. Memory is
// bounded: expired keys are dropped as time passes, and when the limit is
// reached the oldest key is dropped early. Dropping early is the lesser
// evil: the oldest key is the nearest to expiry anyway, and the timestamp
// window still bounds replays, whereas refusing new keys would reject
// genuine deliveries. It is safe for concurrent use.
type MemoryNonces struct {
	now   func() time.Time
	limit int

	mu   sync.Mutex
	keys map[string]entry
	// queue holds keys in insertion order, which is expiry order when
	// every TTL is the same (one Guard per store). Entries whose key was
	// forgotten or re-recorded since (another gen) are skipped when popped.
	queue []queued
	head  int
	gen   uint64
}

// entry is a remembered key: its expiry and the insertion that made it,
// which tells a re-recorded key from a queue entry of its forgotten
// predecessor even when both expire at the same instant.
type entry struct {
	expiry time.Time
	gen    uint64
}

type queued struct {
	key string
	entry
}

var (
	_ NonceStore     = (*MemoryNonces)(nil)
	_ NonceForgetter = (*MemoryNonces)(nil)
)

// NewMemoryNonces returns an empty store holding at most DefaultNonceLimit
// keys, reading time from now (time.Now if nil).
func NewMemoryNonces(now func() time.Time) *MemoryNonces {
	return NewMemoryNoncesLimit(now, DefaultNonceLimit)
}

// NewMemoryNoncesLimit is NewMemoryNonces holding at most limit keys
// (DefaultNonceLimit if limit <= 0).
func NewMemoryNoncesLimit(now func() time.Time, limit int) *MemoryNonces {
	if now == nil {
		now = time.Now
	}
	if limit <= 0 {
		limit = DefaultNonceLimit
	}
	return &MemoryNonces{now: now, limit: limit, keys: make(map[string]entry)}
}

// Seen implements NonceStore.
func (m *MemoryNonces) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("msgcrypt: nonce ttl %s, want > 0", ttl)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if e, ok := m.keys[key]; ok && now.Before(e.expiry) {
		return true, nil
	}
	m.gen++
	e := entry{expiry: now.Add(ttl), gen: m.gen}
	m.keys[key] = e
	m.queue = append(m.queue, queued{key: key, entry: e})
	for len(m.queue)-m.head > m.limit {
		m.pop()
	}
	m.compact()
	return false, nil
}

// Forget implements NonceForgetter.
func (m *MemoryNonces) Forget(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

// Len reports how many keys are held, expired ones not yet dropped included.
func (m *MemoryNonces) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// expire pops queue entries that have expired by now.
func (m *MemoryNonces) expire(now time.Time) {
	for m.head < len(m.queue) && !now.Before(m.queue[m.head].expiry) {
		m.pop()
	}
}

// pop removes the oldest queue entry and its key, unless the key was
// forgotten or recorded again since.
func (m *MemoryNonces) pop() {
	q := m.queue[m.head]
	m.queue[m.head] = queued{} // let the key string be collected
	m.head++
	if e, ok := m.keys[q.key]; ok && e.gen == q.gen {
		delete(m.keys, q.key)
	}
}

// compact moves the live part of the queue to the front once the popped
// part is at least half of it, so the slice stays within twice the limit
// at an amortized constant cost per key.
func (m *MemoryNonces) compact() {
	if m.head == 0 || 2*m.head < len(m.queue) {
		return
	}
	n := copy(m.queue, m.queue[m.head:])
	clear(m.queue[n:])
	m.queue = m.queue[:n]
	m.head = 0
}
