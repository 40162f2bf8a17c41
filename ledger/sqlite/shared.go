package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// callerError marks an error that belongs to one shared write alone (an
// unknown outbox id): the write returned it before writing anything, so
// the transaction it shared goes on for the others.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

// sharedOp is one caller's part of a shared write transaction.
type sharedOp struct {
	fn   func(tx *sql.Tx) error
	done chan error
}

// shared coalesces small write transactions of concurrent callers (the
// outbox updates of the push workers) into one: the first caller to find
// no transaction running becomes the leader and commits every op queued
// meanwhile together, again until none is left. One commit for many small
// writes is what makes them cheap: a commit costs far more than an update
// of one row.
type shared struct {
	mu      sync.Mutex
	pending []*sharedOp
	leading bool
}

// Statements of the shared writes, prepared once (prepareHot): preparing
// costs more than running them.
const (
	qEntryState = `SELECT state FROM outbox WHERE id = ?`
	qSetFailed  = `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_ms = ?, state = ?, updated_ms = ?
		WHERE id = ?`
)

// prepareHot prepares the shared writes' statements on the write
// connection; Open calls it before any transaction can hold that
// connection.
func (l *Ledger) prepareHot(ctx context.Context) error {
	l.hot = map[string]*sql.Stmt{}
	for _, q := range []string{qEntryState, qSetFailed} {
		st, err := l.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		l.hot[q] = st
	}
	return nil
}

// stmt binds the prepared statement q to tx.
func (l *Ledger) stmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	return tx.StmtContext(ctx, l.hot[q])
}

// writeShared runs fn in a write transaction it may share with other
// callers. fn must write nothing before it returns a callerError (which
// only its caller gets); any other error fails the whole transaction and
// every caller in it.
func (l *Ledger) writeShared(ctx context.Context, fn func(tx *sql.Tx) error) error {
	op := &sharedOp{fn: fn, done: make(chan error, 1)}
	s := &l.shared
	s.mu.Lock()
	s.pending = append(s.pending, op)
	lead := !s.leading
	s.leading = true
	s.mu.Unlock()
	if lead {
		// The caller commits the batch that holds its own write, and hands
		// what queued meanwhile to a goroutine rather than lead for as long
		// as others keep writing.
		if l.commitShared(context.WithoutCancel(ctx)) {
			go l.leadShared(context.WithoutCancel(ctx))
		}
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leadShared commits the queued ops, batch after batch, until none is
// left.
func (l *Ledger) leadShared(ctx context.Context) {
	for l.commitShared(ctx) {
	}
}

// commitShared commits the ops queued now in one transaction and reports
// whether more have queued since; when none have, it ends the leadership.
func (l *Ledger) commitShared(ctx context.Context) (more bool) {
	s := &l.shared
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	errs := make([]error, len(batch))
	err := l.write(ctx, func(tx *sql.Tx) error {
		clear(errs)
		for i, op := range batch {
			err := op.fn(tx)
			var ce callerError
			if errors.As(err, &ce) {
				errs[i] = ce.err
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	for i, op := range batch {
		if err != nil {
			op.done <- fmt.Errorf("shared transaction of %d writes: %w", len(batch), err)
			continue
		}
		op.done <- errs[i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		s.leading = false
		return false
	}
	return true
}
