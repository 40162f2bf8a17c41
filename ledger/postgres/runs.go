package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
)

var (
	_ ledger.RunLog      = (*Ledger)(nil)
	_ ledger.DeadLetters = (*Ledger)(nil)
)

// StartRun implements ledger.RunLog.
func (l *Ledger) StartRun(ctx context.Context, r ledger.JobRun) (int64, error) {
	ids, err := query(ctx, l, pgx.RowTo[int64], `INSERT INTO job_runs (job, tick, trigger, owner, started_at, outcome)
		VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id`, r.Job, ms(r.Tick), r.Trigger, r.Owner, ms(r.Started))
	if err != nil {
		return 0, fmt.Errorf("postgres ledger: start run of %s: %w", r.Job, err)
	}
	return ids[0], nil
}

// FinishRun implements ledger.RunLog.
func (l *Ledger) FinishRun(ctx context.Context, id int64, finished time.Time, outcome ledger.RunOutcome, errText string, counts json.RawMessage) error {
	if len(counts) == 0 {
		counts = json.RawMessage("{}")
	}
	tag, err := l.exec(ctx, `UPDATE job_runs SET finished_at = $2, outcome = $3, error = $4, counts = $5 WHERE id = $1`,
		id, ms(finished), string(outcome), errText, string(counts))
	if err == nil && tag.RowsAffected() == 0 {
		err = ledger.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres ledger: finish run %d: %w", id, err)
	}
	return nil
}

type runRow struct {
	ID       int64
	Job      string
	Tick     time.Time
	Trigger  string
	Owner    string
	Started  time.Time
	Finished *time.Time
	Outcome  string
	Error    string
	Counts   []byte
}

// Runs implements ledger.RunLog.
func (l *Ledger) Runs(ctx context.Context, job string, limit int) ([]ledger.JobRun, error) {
	rows, err := query(ctx, l, pgx.RowToStructByPos[runRow], `SELECT id, job, tick, trigger, owner, started_at, finished_at, outcome, error, counts::text::bytea
		FROM job_runs WHERE $1 = '' OR job = $1 ORDER BY id DESC LIMIT $2`, job, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: runs of %q: %w", job, err)
	}
	out := make([]ledger.JobRun, len(rows))
	for i, r := range rows {
		out[i] = ledger.JobRun{ID: r.ID, Job: r.Job, Tick: r.Tick.UTC(), Trigger: r.Trigger, Owner: r.Owner, Started: r.Started.UTC(),
			Outcome: ledger.RunOutcome(r.Outcome), Error: r.Error, Counts: json.RawMessage(r.Counts)}
		if r.Finished != nil {
			out[i].Finished = r.Finished.UTC()
		}
	}
	return out, nil
}

// Requeue implements ledger.DeadLetters.
func (l *Ledger) Requeue(ctx context.Context, id int64, now time.Time) (bool, error) {
	tag, err := l.exec(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_at = $2, updated_at = $3
		WHERE id = $1 AND state = 'dead'`, id, msPtr(now), l.now())
	if err == nil && tag.RowsAffected() == 0 {
		var exists []bool
		exists, err = query(ctx, l, pgx.RowTo[bool], `SELECT true FROM outbox WHERE id = $1`, id)
		if err == nil && len(exists) == 0 {
			err = ledger.ErrNotFound
		}
		if err == nil {
			return false, nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("postgres ledger: requeue outbox entry %d: %w", id, err)
	}
	return true, nil
}
