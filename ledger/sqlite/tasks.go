package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

var _ ledger.TaskQueue = (*Ledger)(nil)

// AddTask implements ledger.TaskQueue.
func (l *Ledger) AddTask(ctx context.Context, connector, kind, key string) error {
	err := l.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tasks (connector, kind, key, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			connector, kind, key, l.clock().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: add %s task %s of %s: %w", kind, key, connector, err)
	}
	return nil
}

// DueTasks implements ledger.TaskQueue.
func (l *Ledger) DueTasks(ctx context.Context, connector string, now time.Time, limit int) ([]ledger.Task, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT id, connector, kind, key, attempts, last_error, next_ms, created_ms FROM tasks
		WHERE connector = ? AND next_ms <= ? ORDER BY id LIMIT ?`, connector, ms(now), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: due tasks of %s: %w", connector, err)
	}
	defer rows.Close()
	var out []ledger.Task
	for rows.Next() {
		var t ledger.Task
		var next, created int64
		if err := rows.Scan(&t.ID, &t.Connector, &t.Kind, &t.Key, &t.Attempts, &t.LastError, &next, &created); err != nil {
			return nil, fmt.Errorf("sqlite ledger: due tasks of %s: %w", connector, err)
		}
		t.NextAt, t.CreatedAt = fromMS(next), fromMS(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

// FinishTask implements ledger.TaskQueue.
func (l *Ledger) FinishTask(ctx context.Context, id int64) error {
	err := l.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: finish task %d: %w", id, err)
	}
	return nil
}

// RetryTask implements ledger.TaskQueue.
func (l *Ledger) RetryTask(ctx context.Context, id int64, errMsg string, next time.Time) error {
	err := l.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET attempts = attempts + 1, last_error = ?, next_ms = ? WHERE id = ?`, errMsg, ms(next), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ledger.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: retry task %d: %w", id, err)
	}
	return nil
}
