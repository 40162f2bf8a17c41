package connectors

import (
	"context"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

// TaskStore keeps a connector's follow-up work durably (the ledger
// implements it): a callback that announces something whose details must be
// fetched is acknowledged once its task is stored, and the task is done
// later by whichever replica's Work gets to it.
type TaskStore interface {
	AddTask(ctx context.Context, connector, kind, key string) error
	DueTasks(ctx context.Context, connector string, now time.Time, limit int) ([]ledger.Task, error)
	FinishTask(ctx context.Context, id int64) error
	RetryTask(ctx context.Context, id int64, errMsg string, next time.Time) error
}
