package msgcrypt

import (
	"context"
	"fmt"
	"hash/maphash"
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
//
// Every webhook records a key, so a store of thousands of keys is split
// into up to nonceShards shards by a hash of the key, each under a lock of
// its own and holding its share of the limit, oldest dropped first: with
// one lock, a holder the scheduler set aside under load held up every
// webhook behind it (a lock convoy, docs/PERFORMANCE.md).
type MemoryNonces struct {
	now    func() time.Time
	seed   maphash.Seed
	shards []nonceShard
}

// nonceShards is the most shards a MemoryNonces has, and
// keysPerNonceShard the fewest keys a shard holds, so that a small store
// (the tests' few keys) keeps one order for all of them.
const (
	nonceShards       = 16
	keysPerNonceShard = 1024
)

// nonceShard is one part of a MemoryNonces.
type nonceShard struct {
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
	n := min(nonceShards, max(1, limit/keysPerNonceShard))
	m := &MemoryNonces{now: now, seed: maphash.MakeSeed(), shards: make([]nonceShard, n)}
	for i := range m.shards {
		// The shares add up to the limit: the first limit%n take one more.
		m.shards[i].limit = limit / n
		if i < limit%n {
			m.shards[i].limit++
		}
		m.shards[i].keys = make(map[string]entry)
	}
	return m
}

func (m *MemoryNonces) shard(key string) *nonceShard {
	if len(m.shards) == 1 {
		return &m.shards[0]
	}
	return &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
}

// Seen implements NonceStore.
func (m *MemoryNonces) Seen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("msgcrypt: nonce ttl %s, want > 0", ttl)
	}
	return m.shard(key).seen(m.now(), key, ttl), nil
}

func (s *nonceShard) seen(now time.Time, key string, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if e, ok := s.keys[key]; ok && now.Before(e.expiry) {
		return true
	}
	s.gen++
	e := entry{expiry: now.Add(ttl), gen: s.gen}
	s.keys[key] = e
	s.queue = append(s.queue, queued{key: key, entry: e})
	for len(s.queue)-s.head > s.limit {
		s.pop()
	}
	s.compact()
	return false
}

// Forget implements NonceForgetter.
func (m *MemoryNonces) Forget(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
	return nil
}

// Len reports how many keys are held. A shard drops its expired keys when
// it is next used; Len drops them in every shard first.
func (m *MemoryNonces) Len() int {
	now := m.now()
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.expire(now)
		n += len(s.keys)
		s.mu.Unlock()
	}
	return n
}

// expire pops queue entries that have expired by now.
func (s *nonceShard) expire(now time.Time) {
	for s.head < len(s.queue) && !now.Before(s.queue[s.head].expiry) {
		s.pop()
	}
}

// pop removes the oldest queue entry and its key, unless the key was
// forgotten or recorded again since.
func (s *nonceShard) pop() {
	q := s.queue[s.head]
	s.queue[s.head] = queued{} // let the key string be collected
	s.head++
	if e, ok := s.keys[q.key]; ok && e.gen == q.gen {
		delete(s.keys, q.key)
	}
}

// compact moves the live part of the queue to the front once the popped
// part is at least half of it, so the slice stays within twice the limit
// at an amortized constant cost per key.
func (s *nonceShard) compact() {
	if s.head == 0 || 2*s.head < len(s.queue) {
		return
	}
	n := copy(s.queue, s.queue[s.head:])
	clear(s.queue[n:])
	s.queue = s.queue[:n]
	s.head = 0
}
