package ledger

import (
	"context"
	"errors"
	"time"
)

// Audit results.
const (
	AuditOK        = "ok"        // the call did what it was asked
	AuditFailed    = "failed"    // the call was allowed but did not succeed
	AuditForbidden = "forbidden" // the caller's role does not allow the call
)

// AuditEntry is one mutating call made through the admin API or the status
// page: who made it, when, what it asked for and how it ended.
type AuditEntry struct {
	ID     int64     // assigned by the ledger
	At     time.Time // when the call finished
	Who    string    // the name of the admin token used
	Role   string    // the token's role: viewer, operator or admin
	Action string    // what was asked: "dlq.replay", "job.run", ...
	Target string    // what it acted on: a job, a connector, outbox ids
	Result string    // AuditOK, AuditFailed or AuditForbidden
	Detail string    // the request's parameters and the outcome, as text
}

// Validate reports an entry that cannot be recorded: one without a time,
// an action or a result. Backends call it before writing.
func (e AuditEntry) Validate() error {
	switch {
	case e.At.IsZero():
		return errors.New("ledger: audit entry has no time; set At")
	case e.Action == "":
		return errors.New("ledger: audit entry has no action; set Action")
	case e.Result == "":
		return errors.New("ledger: audit entry has no result; set Result")
	}
	return nil
}

// AuditLog is the audit trail of mutating admin calls. The SQLite and
// PostgreSQL ledgers implement it; like RunLog it is separate from Ledger
// so that consumers ask only for what they use. Implementations are safe
// for concurrent use, and entries are never changed once written.
type AuditLog interface {
	// Audit records an entry; its ID is ignored and assigned by the ledger.
	Audit(ctx context.Context, e AuditEntry) error
	// AuditEntries lists entries with At at or after since, newest first
	// (ties broken by the later ID first), at most limit of them (0 or less
	// means no limit).
	AuditEntries(ctx context.Context, since time.Time, limit int) ([]AuditEntry, error)
}
