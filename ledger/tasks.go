package ledger

import (
	"context"
	"time"
)

// Task is follow-up work a connector accepted and must not lose: a webhook
// that announced an approval is acknowledged once its task is stored, and
// the details are fetched later, by this replica or another.
type Task struct {
	ID        int64
	Connector string
	Kind      string // what to do, e.g. "approval"
	Key       string // what to do it for, e.g. the approval number
	Attempts  int
	LastError string
	NextAt    time.Time
	CreatedAt time.Time
}

// TaskQueue stores connectors' follow-up work durably.
type TaskQueue interface {
	// AddTask stores a task, due at once; a pending task with the same
	// (connector, kind, key) is kept instead of a second one.
	AddTask(ctx context.Context, connector, kind, key string) error
	// DueTasks lists up to limit tasks of the connector due at or before
	// now, oldest first.
	DueTasks(ctx context.Context, connector string, now time.Time, limit int) ([]Task, error)
	// FinishTask removes a task that is done (or given up).
	FinishTask(ctx context.Context, id int64) error
	// RetryTask records a failed attempt and when to try again.
	RetryTask(ctx context.Context, id int64, errMsg string, next time.Time) error
}
