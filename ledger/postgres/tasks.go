package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
)

var _ ledger.TaskQueue = (*Ledger)(nil)

// AddTask implements ledger.TaskQueue.
func (l *Ledger) AddTask(ctx context.Context, connector, kind, key string) error {
	if _, err := l.exec(ctx, `INSERT INTO tasks (connector, kind, key, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		connector, kind, key, l.now()); err != nil {
		return fmt.Errorf("postgres ledger: add %s task %s of %s: %w", kind, key, connector, err)
	}
	return nil
}

type taskRow struct {
	ID                   int64
	Connector, Kind, Key string
	Attempts             int
	LastError            string
	NextAt               *time.Time
	CreatedAt            time.Time
}

// DueTasks implements ledger.TaskQueue.
func (l *Ledger) DueTasks(ctx context.Context, connector string, now time.Time, limit int) ([]ledger.Task, error) {
	rows, err := query(ctx, l, pgx.RowToStructByPos[taskRow], `SELECT id, connector, kind, key, attempts, last_error, next_at, created_at FROM tasks
		WHERE connector = $1 AND (next_at IS NULL OR next_at <= $2) ORDER BY id LIMIT $3`, connector, ms(now), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: due tasks of %s: %w", connector, err)
	}
	out := make([]ledger.Task, len(rows))
	for i, r := range rows {
		out[i] = ledger.Task{ID: r.ID, Connector: r.Connector, Kind: r.Kind, Key: r.Key, Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()}
		if r.NextAt != nil {
			out[i].NextAt = r.NextAt.UTC()
		}
	}
	return out, nil
}

// FinishTask implements ledger.TaskQueue.
func (l *Ledger) FinishTask(ctx context.Context, id int64) error {
	if _, err := l.exec(ctx, `DELETE FROM tasks WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres ledger: finish task %d: %w", id, err)
	}
	return nil
}

// RetryTask implements ledger.TaskQueue.
func (l *Ledger) RetryTask(ctx context.Context, id int64, errMsg string, next time.Time) error {
	tag, err := l.exec(ctx, `UPDATE tasks SET attempts = attempts + 1, last_error = $2, next_at = $3 WHERE id = $1`, id, errMsg, msPtr(next))
	if err == nil && tag.RowsAffected() == 0 {
		err = ledger.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres ledger: retry task %d: %w", id, err)
	}
	return nil
}
