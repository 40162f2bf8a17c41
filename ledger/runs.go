package ledger

import (
	"context"
	"encoding/json"
	"time"
)

// RunOutcome is how a job run ended.
type RunOutcome string

// Run outcomes; a run still going has RunRunning.
const (
	RunRunning   RunOutcome = "running"
	RunSucceeded RunOutcome = "succeeded"
	RunFailed    RunOutcome = "failed"
)

// JobRun is one recorded run of a scheduled job.
type JobRun struct {
	ID       int64
	Job      string
	Tick     time.Time // the scheduled time the run is for (its start for a manual run)
	Trigger  string    // "schedule", "catch_up" or "manual"
	Owner    string    // the replica that ran it
	Started  time.Time
	Finished time.Time // zero while running
	Outcome  RunOutcome
	Error    string
	Counts   json.RawMessage // the job's report, as JSON
}

// RunLog records job runs. The SQLite and PostgreSQL ledgers implement it;
// it is separate from Ledger so that consumers ask only for what they use.
type RunLog interface {
	// StartRun records that a run of job for tick began and returns its id.
	StartRun(ctx context.Context, r JobRun) (int64, error)
	// FinishRun records a run's end: outcome, error text and counts.
	FinishRun(ctx context.Context, id int64, finished time.Time, outcome RunOutcome, errText string, counts json.RawMessage) error
	// Runs lists the latest runs of job ("" means every job), newest first.
	Runs(ctx context.Context, job string, limit int) ([]JobRun, error)
}

// DeadLetters is the dead-letter queue of the outbox.
type DeadLetters interface {
	// Outbox lists entries, as Ledger.Outbox does (state dead lists the queue).
	Outbox(ctx context.Context, sink string, state DeliveryState, limit int) ([]OutboxEntry, error)
	// Requeue puts a dead entry back into the outbox as pending and due at
	// once, with its attempts reset; it returns ErrNotFound for an unknown id
	// and leaves an entry that is not dead unchanged (reporting false).
	Requeue(ctx context.Context, id int64, now time.Time) (bool, error)
}
