package groupcommit

import (
	"context"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/coord"
)

// Claimer is the de-duplication store the ingest path claims events in
// before writing them (coord.Dedupe); ingest.Claimer has the same methods.
type Claimer interface {
	Claim(ctx context.Context, keys []coord.ClaimKey) ([]coord.ClaimState, error)
	Commit(ctx context.Context, keys []coord.ClaimKey) error
	Release(ctx context.Context, keys []coord.ClaimKey) error
}

// Claims coalesces the claims, commits and releases of concurrent callers
// into shared calls of a Claimer: with coord.Dedupe, one pipelined Redis
// round trip per batch instead of one per webhook request. A batch makes
// at most one Claim, one Commit and one Release call, in that order. Each
// caller of Claim gets the states of its own keys; the Claimer's rule that
// a key repeated within one call is Claimed by its first occurrence and
// InFlight after holds across the callers of a batch in queue order, which
// is what claiming one after another would give. It is safe for concurrent
// use.
type Claims struct {
	inner Claimer
	b     *batcher[*claimRequest]
}

var _ Claimer = (*Claims)(nil)

// claimOp is the call a claim request asks for.
type claimOp int

const (
	opClaim claimOp = iota
	opCommit
	opRelease
)

type claimRequest struct {
	ctx  context.Context
	op   claimOp
	keys []coord.ClaimKey
	at   time.Time
	done chan claimReply
	// failed, when set, is told a failure of a request nobody waits for
	// (CommitLater).
	failed func(error)
}

type claimReply struct {
	states []coord.ClaimState
	err    error
}

func (r *claimRequest) size() int                { return len(r.keys) }
func (r *claimRequest) arrived() time.Time       { return r.at }
func (r *claimRequest) context() context.Context { return r.ctx }

// NewClaims wraps c and starts its writer; Close stops it.
func NewClaims(c Claimer, o Options) *Claims {
	cl := &Claims{inner: c}
	cl.b = newBatcher(o, cl.commit)
	return cl
}

// Claim claims keys in the next batch and returns their states.
func (c *Claims) Claim(ctx context.Context, keys []coord.ClaimKey) ([]coord.ClaimState, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rep, err := c.submit(ctx, &claimRequest{op: opClaim, keys: keys})
	return rep.states, err
}

// Commit marks keys done in the next batch.
func (c *Claims) Commit(ctx context.Context, keys []coord.ClaimKey) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := c.submit(ctx, &claimRequest{op: opCommit, keys: keys})
	return err
}

// CommitLater hands keys to the next batch's commit and returns without
// waiting for it. failed, when not nil, is called with the commit's error
// on the writer's goroutine, so it must be quick. A caller whose events
// are durable already need not wait: a commit that does not happen leaves
// the claims pending until their lease ends, and copies that arrive
// meanwhile go through to the ledger, whose unique key is the final guard.
// It fails only when the writer is closed or ctx ends before the keys are
// handed over.
func (c *Claims) CommitLater(ctx context.Context, keys []coord.ClaimKey, failed func(error)) error {
	if len(keys) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &claimRequest{ctx: ctx, op: opCommit, keys: keys, at: time.Now(), done: make(chan claimReply, 1), failed: failed}
	return c.b.submit(ctx, r)
}

// Release deletes claims in the next batch.
func (c *Claims) Release(ctx context.Context, keys []coord.ClaimKey) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := c.submit(ctx, &claimRequest{op: opRelease, keys: keys})
	return err
}

// Stats returns the writer's counters.
func (c *Claims) Stats() Stats { return c.b.stats() }

// Close makes the calls still queued and stops the writer; the wrapped
// Claimer is left open. Calls after Close fail with ErrClosed.
func (c *Claims) Close() error {
	if !c.b.close() {
		return ErrClosed
	}
	return nil
}

func (c *Claims) submit(ctx context.Context, r *claimRequest) (claimReply, error) {
	if err := ctx.Err(); err != nil {
		return claimReply{}, err
	}
	r.ctx, r.at, r.done = ctx, time.Now(), make(chan claimReply, 1)
	if err := c.b.submit(ctx, r); err != nil {
		return claimReply{}, err
	}
	select {
	case rep := <-r.done:
		return rep, rep.err
	case <-ctx.Done():
		return claimReply{}, ctx.Err()
	}
}

// commit makes the batch's calls: its claims in one Claim, split back per
// caller, then its commits and its releases in one call each.
func (c *Claims) commit(batch []*claimRequest) {
	ctx, ok := sharedContext(batch)
	byOp := map[claimOp][]*claimRequest{}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil || !ok {
			r.answer(claimReply{err: r.ctx.Err()})
			continue
		}
		byOp[r.op] = append(byOp[r.op], r)
	}
	if rs := byOp[opClaim]; len(rs) > 0 {
		keys := joinKeys(rs)
		states, err := c.inner.Claim(ctx, keys)
		if err == nil && len(states) != len(keys) {
			err = fmt.Errorf("groupcommit: claim of %d keys returned %d states", len(keys), len(states))
		}
		off := 0
		for _, r := range rs {
			if err != nil {
				r.done <- claimReply{err: err}
				continue
			}
			r.done <- claimReply{states: states[off : off+len(r.keys) : off+len(r.keys)]}
			off += len(r.keys)
		}
	}
	if rs := byOp[opCommit]; len(rs) > 0 {
		err := c.inner.Commit(ctx, joinKeys(rs))
		for _, r := range rs {
			r.answer(claimReply{err: err})
		}
	}
	if rs := byOp[opRelease]; len(rs) > 0 {
		err := c.inner.Release(ctx, joinKeys(rs))
		for _, r := range rs {
			r.done <- claimReply{err: err}
		}
	}
}

// answer gives r its reply, and tells a failure to r.failed.
func (r *claimRequest) answer(rep claimReply) {
	r.done <- rep
	if rep.err != nil && r.failed != nil {
		r.failed(rep.err)
	}
}

func joinKeys(rs []*claimRequest) []coord.ClaimKey {
	n := 0
	for _, r := range rs {
		n += len(r.keys)
	}
	keys := make([]coord.ClaimKey, 0, n)
	for _, r := range rs {
		keys = append(keys, r.keys...)
	}
	return keys
}
