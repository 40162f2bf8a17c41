package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

var (
	_ ledger.RunLog      = (*Ledger)(nil)
	_ ledger.DeadLetters = (*Ledger)(nil)
)

// StartRun implements ledger.RunLog.
func (l *Ledger) StartRun(ctx context.Context, r ledger.JobRun) (int64, error) {
	var id int64
	err := l.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO job_runs (job, tick_ms, trigger, owner, started_ms, outcome) VALUES (?, ?, ?, ?, ?, ?)`,
			r.Job, ms(r.Tick), r.Trigger, r.Owner, ms(r.Started), string(ledger.RunRunning))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite ledger: start run of %s: %w", r.Job, err)
	}
	return id, nil
}

// FinishRun implements ledger.RunLog.
func (l *Ledger) FinishRun(ctx context.Context, id int64, finished time.Time, outcome ledger.RunOutcome, errText string, counts json.RawMessage) error {
	if len(counts) == 0 {
		counts = json.RawMessage("{}")
	}
	err := l.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE job_runs SET finished_ms = ?, outcome = ?, error = ?, counts = ? WHERE id = ?`,
			ms(finished), string(outcome), errText, string(counts), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ledger.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: finish run %d: %w", id, err)
	}
	return nil
}

// Runs implements ledger.RunLog.
func (l *Ledger) Runs(ctx context.Context, job string, limit int) ([]ledger.JobRun, error) {
	q := `SELECT id, job, tick_ms, trigger, owner, started_ms, finished_ms, outcome, error, counts FROM job_runs`
	var args []any
	if job != "" {
		q, args = q+` WHERE job = ?`, append(args, job)
	}
	rows, err := l.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limitArg(limit))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: runs of %q: %w", job, err)
	}
	defer rows.Close()
	var out []ledger.JobRun
	for rows.Next() {
		var (
			r                       ledger.JobRun
			tick, started, finished int64
			outcome, counts         string
		)
		if err := rows.Scan(&r.ID, &r.Job, &tick, &r.Trigger, &r.Owner, &started, &finished, &outcome, &r.Error, &counts); err != nil {
			return nil, fmt.Errorf("sqlite ledger: runs of %q: %w", job, err)
		}
		r.Tick, r.Started, r.Outcome, r.Counts = fromMS(tick), fromMS(started), ledger.RunOutcome(outcome), json.RawMessage(counts)
		if finished != 0 {
			r.Finished = fromMS(finished)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Requeue implements ledger.DeadLetters.
func (l *Ledger) Requeue(ctx context.Context, id int64, now time.Time) (bool, error) {
	requeued := false
	err := l.write(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM outbox WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return ledger.ErrNotFound
		}
		if err != nil || state != string(ledger.DeliveryDead) {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = 0, next_ms = ?, updated_ms = ? WHERE id = ?`,
			string(ledger.DeliveryPending), ms(now), l.clock().UnixMilli(), id)
		requeued = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite ledger: requeue outbox entry %d: %w", id, err)
	}
	return requeued, nil
}
