package dingtalk

import (
	"context"
	"errors"
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

// jobKind is a kind of follow-up work.
type jobKind int

const (
	// jobPunch reads the full listRecord record of a pushed punch.
	jobPunch jobKind = iota
	// jobInstance reads an approval instance whose state changed.
	jobInstance
	// jobDays re-pulls users' punches over whole days.
	jobDays
)

// maxJobAttempts bounds how often a job is tried: a punch not yet in
// listRecord, or a failed call, is tried again later, then left to the
// next scheduled pull.
const maxJobAttempts = 3

// job is follow-up work a push or Stream event schedules after it was
// acknowledged.
type job struct {
	kind     jobKind
	users    []string
	from, to time.Time // jobPunch: the punch instant (from); jobDays: [from, to)
	instance string    // jobInstance
	code     string    // jobInstance: the process code, when the event named it
	via      mapping.Via
	due      time.Time
	attempt  int
	task     int64 // the stored task behind the job, 0 when it has none
}

// lockShards is how many parts the follow-up queue and the redelivery set
// are split into, each under a lock of its own. Every webhook takes both.
// With one lock each, a holder that the scheduler set aside under load
// (preempted, or assisting the garbage collector while it grew a slice of
// a hundred thousand queued punches) held up every webhook behind it, and
// once waiters have waited a millisecond Go's mutex passes the lock from
// one to the next only as fast as the scheduler runs them: a convoy, and
// the p99 tail of docs/PERFORMANCE.md.
const lockShards = 16

// queue is the bounded follow-up queue. push never blocks: a full queue
// refuses, and the delivery is refused with it so the platform retries.
// Its jobs are spread over lockShards shards; which shard holds a job does
// not matter, since popDue looks at them all.
type queue struct {
	limit  int
	n      atomic.Int64  // jobs held or being added, in all shards
	next   atomic.Uint32 // the shard of the next push
	shards [lockShards]queueShard
	notify chan struct{}
}

// queueShard is one part of a queue.
type queueShard struct {
	mu    sync.Mutex
	items []job
	// punches holds the refreshes of single pushed punches, the one job
	// every pushed punch queues, in a compact form (punchEntry).
	punches []punchEntry
}

// punchEntry is a jobPunch job of one user and no stored task, as the
// queue holds it. A burst of a hundred thousand pushes queues as many for
// refresh_delay; at a third of a job's size, with two pointers instead of
// seven, they cost the heap and each garbage collection's marking a
// fraction of what jobs would.
type punchEntry struct {
	user    string
	at, due int64 // Unix nanoseconds
	via     mapping.Via
	attempt int
}

// compactPunch reports whether j can be queued as a punchEntry, and that
// entry.
func compactPunch(j job) (punchEntry, bool) {
	if j.kind != jobPunch || len(j.users) != 1 || j.task != 0 || !j.to.IsZero() || j.instance != "" || j.code != "" {
		return punchEntry{}, false
	}
	// The user id of a pushed punch shares the memory of the whole
	// decrypted callback; a copy keeps only itself alive while queued.
	return punchEntry{user: strings.Clone(j.users[0]), at: j.from.UnixNano(), due: j.due.UnixNano(), via: j.via, attempt: j.attempt}, true
}

// job is the entry as a job again.
func (p punchEntry) job() job {
	return job{kind: jobPunch, users: []string{p.user}, from: time.Unix(0, p.at), due: time.Unix(0, p.due), via: p.via, attempt: p.attempt}
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, notify: make(chan struct{}, 1)}
}

// push adds all of jobs or, when they do not fit, none.
func (q *queue) push(jobs ...job) bool {
	if len(jobs) == 0 {
		return true
	}
	if q.n.Add(int64(len(jobs))) > int64(q.limit) {
		q.n.Add(-int64(len(jobs)))
		return false
	}
	// Sorted into the two forms before the lock is taken, so that the only
	// allocation under it (and the garbage-collection work one may bring)
	// is a shard's own slice growing.
	var one [1]punchEntry
	punches, items := one[:0], []job(nil)
	for _, j := range jobs {
		if p, ok := compactPunch(j); ok {
			punches = append(punches, p)
		} else {
			items = append(items, j)
		}
	}
	s := &q.shards[q.next.Add(1)%lockShards]
	s.mu.Lock()
	s.punches = append(s.punches, punches...)
	s.items = append(s.items, items...)
	s.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

// popDue removes and returns the jobs due at now, and the earliest due
// time of those left (zero when none are left).
func (q *queue) popDue(now time.Time) (due []job, next time.Time) {
	for i := range q.shards {
		var n time.Time
		due, n = q.shards[i].popDue(now, due)
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	q.n.Add(-int64(len(due)))
	return due, next
}

// Len is the number of queued jobs.
func (q *queue) Len() int { return int(q.n.Load()) }

// popDue appends the shard's jobs due at now to due and removes them; next
// is the earliest due time of those left (zero when none are left).
func (s *queueShard) popDue(now time.Time, due []job) (_ []job, next time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.items[:0]
	for _, j := range s.items {
		if !j.due.After(now) {
			due = append(due, j)
			continue
		}
		keep = append(keep, j)
		if next.IsZero() || j.due.Before(next) {
			next = j.due
		}
	}
	clear(s.items[len(keep):])
	s.items = keep
	nowNs, nextP := now.UnixNano(), int64(0)
	keepP := s.punches[:0]
	for _, p := range s.punches {
		if p.due <= nowNs {
			due = append(due, p.job())
			continue
		}
		keepP = append(keepP, p)
		if nextP == 0 || p.due < nextP {
			nextP = p.due
		}
	}
	clear(s.punches[len(keepP):])
	s.punches = keepP
	if d := time.Unix(0, nextP); nextP != 0 && (next.IsZero() || d.Before(next)) {
		next = d
	}
	return due, next
}

// Work runs the connector's own work until ctx ends: it drains the
// follow-up queue that webhooks and Stream events fill, and in Stream mode
// keeps the Stream connection open. Events it produces go through ingest.
// It returns nil when ctx ends, or the Stream's fatal error (credentials
// the gateway refuses).
func (c *Connector) Work(ctx context.Context, ingest connectors.EmitFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var streamErr error
	if c.cfg.Stream {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.runStream(ctx, ingest); err != nil {
				streamErr = err
				cancel()
			}
		}()
	}
	if c.tasks != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.loadTasks(ctx)
		}()
	}
	c.drain(ctx, ingest)
	wg.Wait()
	return streamErr
}

// drain runs due jobs until ctx ends. Jobs due together are run together,
// so that pushed punches of many users cost one listRecord call per 50.
func (c *Connector) drain(ctx context.Context, ingest connectors.EmitFunc) {
	for ctx.Err() == nil {
		due, next := c.queue.popDue(c.now())
		if len(due) > 0 {
			c.runJobs(ctx, due, ingest)
			continue
		}
		if !next.IsZero() {
			if err := c.client.sleep(ctx, next.Sub(c.now())); err != nil {
				return
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-c.queue.notify:
		}
	}
}

// runJobs runs a set of due jobs: punch refreshes grouped into listRecord
// calls of up to 50 users over the span of their instants (at most 7 days
// each), instance reads once per instance, day re-pulls grouped by range.
// A job that fails, or a punch listRecord does not return yet, goes back
// to the queue until maxJobAttempts.
func (c *Connector) runJobs(ctx context.Context, jobs []job, ingest connectors.EmitFunc) {
	var punches, days []job
	instances := map[string]job{}
	for _, j := range jobs {
		switch j.kind {
		case jobPunch:
			punches = append(punches, j)
		case jobInstance:
			instances[j.instance] = j
		case jobDays:
			days = append(days, j)
		}
	}
	c.refreshPunches(ctx, punches, ingest)
	for _, id := range sortedKeys(instances) {
		j := instances[id]
		evs, err := c.instanceEvents(ctx, id, j.code, j.via)
		if err == nil && len(evs) > 0 {
			err = ingest(ctx, evs)
		}
		if err != nil {
			c.retry(ctx, err, j)
			continue
		}
		c.finishTask(ctx, j)
	}
	byRange := map[[2]time.Time][]job{}
	for _, j := range days {
		k := [2]time.Time{j.from, j.to}
		byRange[k] = append(byRange[k], j)
	}
	for k, js := range byRange {
		users := map[string]bool{}
		for _, j := range js {
			for _, u := range j.users {
				users[u] = true
			}
		}
		_, err := c.pullPunches(ctx, sortedKeys(users), connectors.Window{From: k[0], To: k[1]}, js[0].via, ingest)
		if err != nil {
			for _, j := range js {
				c.retry(ctx, err, j)
			}
		}
	}
}

// refreshPunches reads the full records of pushed punches and ingests
// them (and any other punch of those users in the span).
func (c *Connector) refreshPunches(ctx context.Context, jobs []job, ingest connectors.EmitFunc) {
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].from.Before(jobs[k].from) })
	for len(jobs) > 0 {
		n := 1
		for n < len(jobs) && jobs[n].from.Sub(jobs[0].from) < maxSpan {
			n++
		}
		group := jobs[:n]
		jobs = jobs[n:]
		users := map[string]bool{}
		for _, j := range group {
			users[j.users[0]] = true
		}
		var (
			mu    sync.Mutex // pullPunches stores several answers at once
			found = map[string]bool{}
		)
		w := connectors.Window{From: group[0].from, To: group[n-1].from.Add(time.Millisecond)}
		_, err := c.pullPunches(ctx, sortedKeys(users), w, group[0].via, func(ctx context.Context, evs []mapping.Event) error {
			if err := ingest(ctx, evs); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				found[ev.ID] = true
			}
			return nil
		})
		for _, j := range group {
			if !found[PunchID(c.cfg.CorpID, j.users[0], j.from.UnixMilli())] {
				if err == nil {
					err = errNotYetListed
				}
				c.retry(ctx, err, j)
			}
		}
	}
}

// errNotYetListed: listRecord does not return a pushed punch yet.
var errNotYetListed = errors.New("dingtalk: pushed punch not yet in listRecord")

// retry queues j again, later, unless it has used its attempts.
func (c *Connector) retry(ctx context.Context, err error, j job) {
	if ctx.Err() != nil {
		return
	}
	j.attempt++
	if j.attempt >= maxJobAttempts {
		c.hooks.add("follow_up_dropped")
		c.log.Warn("follow-up given up; the next scheduled pull covers it", "kind", int(j.kind), "attempts", j.attempt, "err", err)
		c.finishTask(ctx, j)
		return
	}
	j.due = c.now().Add(c.cfg.RefreshDelay << j.attempt)
	if !c.queue.push(j) {
		c.hooks.add("follow_up_dropped")
	}
}

// seenSet remembers recent event ids, to drop redeliveries: about the
// last n, spread over lockShards shards by a hash of the id, each
// forgetting its oldest first.
type seenSet struct {
	seed   maphash.Seed
	shards [lockShards]seenShard
}

// seenShard is one part of a seenSet: its ids, and a ring of them in the
// order they were added.
type seenShard struct {
	mu   sync.Mutex
	ids  map[string]bool
	ring []string
	next int
}

func newSeenSet(n int) *seenSet {
	s := &seenSet{seed: maphash.MakeSeed()}
	per := max(1, (n+lockShards-1)/lockShards)
	for i := range s.shards {
		s.shards[i].ids = make(map[string]bool, per)
		s.shards[i].ring = make([]string, per)
	}
	return s
}

func (s *seenSet) shard(id string) *seenShard {
	return &s.shards[maphash.String(s.seed, id)%lockShards]
}

func (s *seenSet) has(id string) bool {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.ids[id]
}

func (s *seenSet) add(id string) {
	sh := s.shard(id)
	// An id cut from a decrypted callback would keep all of it alive.
	id = strings.Clone(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.ids[id] {
		return
	}
	if old := sh.ring[sh.next]; old != "" {
		delete(sh.ids, old)
	}
	sh.ring[sh.next] = id
	sh.ids[id] = true
	sh.next = (sh.next + 1) % len(sh.ring)
}

// hookStats counts what the receiver and the Stream did with deliveries.
// Every webhook counts at least once, so a count is an atomic add, not a
// lock (see lockShards).
type hookStats struct {
	m sync.Map // string → *atomic.Int64
}

func newHookStats() *hookStats { return &hookStats{} }

func (h *hookStats) add(key string) {
	n, ok := h.m.Load(key)
	if !ok {
		n, _ = h.m.LoadOrStore(key, new(atomic.Int64))
	}
	n.(*atomic.Int64).Add(1)
}

// CallbackStats counts deliveries by outcome: "accepted", "check_url",
// "event:<type>" per handled event type, "unknown_event",
// "redelivered" (an event id seen before), "rejected:<reason>" (signature,
// owner_key, ciphertext, padding, length, stale, replay, bad_request,
// method, not_configured), "ingest_failed", "queue_full",
// "ignored_process", "other_corp", "bad_record", "follow_up_dropped",
// and for Stream "stream:connected", "stream:ping", "stream:disconnect",
// "stream:frame_error".
func (c *Connector) CallbackStats() map[string]int {
	out := map[string]int{}
	c.hooks.m.Range(func(k, v any) bool {
		out[k.(string)] = int(v.(*atomic.Int64).Load())
		return true
	})
	return out
}

// QueueLen is the number of follow-up jobs waiting.
func (c *Connector) QueueLen() int { return c.queue.Len() }
