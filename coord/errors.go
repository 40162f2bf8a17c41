package coord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/redis/go-redis/v9"
)

var (
	// ErrUnavailable wraps every error that means Redis could not be
	// reached or could not serve the command right now. The work is safe to
	// retry later: webhook handlers answer 503, pulls fail the run.
	ErrUnavailable = errors.New("redis unavailable")

	// ErrNotOwner means the caller no longer holds the lock or lease it
	// tried to refresh, release or complete: it expired and possibly
	// another replica took it.
	ErrNotOwner = errors.New("not the owner")

	// ErrRefreshTimeout means a token refresh waited longer than its limit
	// for the replica holding the refresh lock to store a new token.
	ErrRefreshTimeout = errors.New("timed out waiting for another replica's token refresh")
)

// wrapErr gives a Redis error its operation and, when Redis is
// unreachable, ErrUnavailable. The result reads
// "coord: <op>: redis unavailable: <cause>".
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("coord: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("coord: %s: %w", op, err)
}

// unavailable is the one place that decides whether a Redis error is
// "cannot be reached right now" rather than a bug or bad input.
func unavailable(err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; that says nothing about Redis.
		return false
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted):
		return true
	case redis.IsLoadingError(err),
		redis.IsClusterDownError(err),
		redis.IsTryAgainError(err),
		redis.IsMasterDownError(err),
		redis.IsReadOnlyError(err),
		redis.IsMaxClientsError(err):
		// The server answered but cannot serve now: starting up, failing
		// over, or full.
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// Ping checks that Redis answers, for readiness probes. Its error wraps
// ErrUnavailable when Redis cannot be reached.
func Ping(ctx context.Context, rdb redis.UniversalClient) error {
	return wrapErr("ping", rdb.Ping(ctx).Err())
}
