package groupcommit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// queueLen is how many requests may wait for a writer before callers
// block handing theirs over.
const queueLen = 4096

// item is a caller's request as a batcher queues it.
type item interface {
	// size is how many items it counts for towards the batch size.
	size() int
	// arrived is when it was handed over.
	arrived() time.Time
	// context is the caller's context.
	context() context.Context
}

// batcher is the writer goroutine both Ledger and Claims use: it gathers
// queued requests into batches (up to size items, or until wait after the
// first of them arrived) and hands each batch to commit, which answers
// the callers.
type batcher[T item] struct {
	size    int
	wait    time.Duration
	commit  func(batch []T)
	observe func(Commit)

	reqs chan T
	stop chan struct{}
	done chan struct{}

	closeMu sync.RWMutex // held for reading while a request is handed over
	closed  bool

	requests, items, batches, maxBatch atomic.Int64
}

func newBatcher[T item](o Options, commit func([]T)) *batcher[T] {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	switch {
	case o.BatchWait == 0:
		o.BatchWait = DefaultBatchWait
	case o.BatchWait < 0:
		o.BatchWait = 0
	}
	b := &batcher[T]{
		size: o.BatchSize, wait: o.BatchWait, commit: commit, observe: o.Observe,
		reqs: make(chan T, queueLen), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.run()
	return b
}

// submit hands r to the writer. The caller then waits for its answer.
func (b *batcher[T]) submit(ctx context.Context, r T) error {
	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	select {
	case b.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close commits what is queued and stops the writer; it reports false if
// the batcher was closed already.
func (b *batcher[T]) close() bool {
	b.closeMu.Lock()
	already := b.closed
	b.closed = true
	b.closeMu.Unlock()
	if already {
		return false
	}
	close(b.stop)
	<-b.done
	return true
}

func (b *batcher[T]) stats() Stats {
	return Stats{Requests: b.requests.Load(), Items: b.items.Load(), Batches: b.batches.Load(), MaxBatch: b.maxBatch.Load()}
}

// run gathers batches and commits them until close.
func (b *batcher[T]) run() {
	defer close(b.done)
	// Since Go 1.23 a stopped or reset timer never delivers a stale tick,
	// so one timer serves every batch without draining.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var next T
	carried := false // next was taken from the queue for the next batch
	for {
		var first T
		if carried {
			first, carried = next, false
		} else {
			select {
			case first = <-b.reqs:
			case <-b.stop:
				b.drain()
				return
			}
		}
		batch := []T{first}
		n := first.size()
		// The batch waits for company until BatchWait after its first
		// request arrived: a request that queued while the last commit
		// ran has waited already, and its batch takes only what is queued.
		wait := b.wait - time.Since(first.arrived())
		waiting := wait > 0 && !noWait(first.context())
		if waiting {
			timer.Reset(wait)
		}
	gather:
		for n < b.size {
			var r T
			select {
			case r = <-b.reqs:
			default:
				if !waiting {
					break gather
				}
				select {
				case r = <-b.reqs:
				case <-timer.C:
					waiting = false
					break gather
				case <-b.stop:
					break gather
				}
			}
			if n+r.size() > b.size {
				next, carried = r, true
				break
			}
			batch = append(batch, r)
			n += r.size()
		}
		timer.Stop()
		b.commitCounted(batch, n)
	}
}

type noWaitKey struct{}

// NoWait marks the writes made with the returned context as coming from a
// caller that writes one batch after another and waits for each, as a pull
// storing its answers does: no other request is coming to join them, so
// their batch commits at once with whatever is queued beside them instead
// of waiting BatchWait for company. Requests of other callers that arrive
// first still wait as usual.
func NoWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, noWaitKey{}, true)
}

func noWait(ctx context.Context) bool {
	v, _ := ctx.Value(noWaitKey{}).(bool)
	return v
}

// drain commits every request still queued when close was called.
func (b *batcher[T]) drain() {
	for {
		var batch []T
		n := 0
	gather:
		for n < b.size {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
				n += r.size()
			default:
				break gather
			}
		}
		if len(batch) == 0 {
			return
		}
		b.commitCounted(batch, n)
	}
}

// commitCounted commits batch, which carries n items, and counts and
// observes it.
func (b *batcher[T]) commitCounted(batch []T, n int) {
	b.count(len(batch), n)
	// Read before the commit: its callers own their requests again once
	// answered.
	arrived := batch[0].arrived()
	start := time.Now()
	b.commit(batch)
	if b.observe != nil {
		b.observe(Commit{Requests: len(batch), Items: n, Waited: start.Sub(arrived), Took: time.Since(start)})
	}
}

func (b *batcher[T]) count(requests, n int) {
	b.batches.Add(1)
	b.requests.Add(int64(requests))
	b.items.Add(int64(n))
	for {
		m := b.maxBatch.Load()
		if int64(n) <= m || b.maxBatch.CompareAndSwap(m, int64(n)) {
			return
		}
	}
}

// sharedContext returns the context a batch's commit runs under: the first
// live caller's values without its cancellation, since the commit serves
// every caller in the batch. ok is false when every caller has gone.
func sharedContext[T item](batch []T) (ctx context.Context, ok bool) {
	for _, r := range batch {
		if r.context().Err() == nil {
			return context.WithoutCancel(r.context()), true
		}
	}
	return nil, false
}
