// Package ledger is Punchbridge's durable state: every event revision,
// rejected and quarantined events with their reasons, day records with their
// version history, dirty employee-days awaiting reconciliation, checkpoints
// per connector, and the outbox and delivery log per sink.
//
// The ledger is the source of truth. Redis may speed up de-duplication, but
// the ledger's own unique key (event id + fingerprint) is what guarantees
// that a second copy of an event is never stored twice.
package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("ledger: not found")

// ErrRawNotKept is wrapped by an ingest write whose events and dirty days
// were stored but whose raw payloads were not (they are kept for
// debugging a mapping): the caller may treat the write as done. StoreRaw
// wraps it too, for payloads of revisions the ledger does not hold.
var ErrRawNotKept = errors.New("ledger: raw payloads not kept")

// DirtyDay is a dirty employee-day as the ledger listed it, with the
// generation that ClearDirty compares.
type DirtyDay struct {
	mapping.EmployeeDay
	// Generation starts at 1 and grows each time the day is marked again.
	Generation int64
}

// DirtyEmployee is an employee with dirty days.
type DirtyEmployee struct {
	EmployeeID string
	Earliest   string // the earliest dirty date, YYYY-MM-DD
}

// AppendResult reports what happened to a batch of events.
type AppendResult struct {
	Stored      int // new ids
	Revisions   int // known ids with new content
	Duplicates  int // exact copies of a stored revision
	Quarantined int // of Stored+Revisions, events without an employee id
	// Changed lists the events that were stored (new or revised) and have an
	// employee id: the ones whose days need recomputation.
	Changed []mapping.Event
}

// Rejection is an event that failed validation, kept with its reason.
type Rejection struct {
	ID         string    // event id if it could be read, else ""
	Connector  string    // the connector that produced it
	Reason     string    // the validation error, naming field and value
	Raw        []byte    // the event (or payload) as received
	ReceivedAt time.Time // when it arrived
}

// DeliveryState is the state of an outbox entry.
type DeliveryState string

// Outbox states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryDead      DeliveryState = "dead"
)

// OutboxEntry is one day-record version waiting for (or done with) delivery
// to one sink.
type OutboxEntry struct {
	ID        int64
	Sink      string
	Record    mapping.DayRecord
	State     DeliveryState
	Attempts  int
	LastError string
	NextAt    time.Time // earliest time of the next attempt
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Ledger is the durable store. Implementations are safe for concurrent use.
type Ledger interface {
	// Append stores validated events. Each event is keyed by (id,
	// fingerprint): an exact copy is a duplicate, a known id with a new
	// fingerprint a revision. Events with an empty EmployeeID are kept in
	// quarantine (stored, counted, never reconciled) until Remap assigns one.
	Append(ctx context.Context, events []mapping.Event) (AppendResult, error)
	// Reject stores events that failed validation, with their reasons.
	Reject(ctx context.Context, rs []Rejection) error
	// Rejections lists rejected events received at or after since.
	Rejections(ctx context.Context, since time.Time, limit int) ([]Rejection, error)
	// Quarantined lists the latest revision of events that have no
	// employee id yet.
	Quarantined(ctx context.Context, limit int) ([]mapping.Event, error)
	// Remap assigns employeeID to the quarantined events of (platform,
	// tenant, userID) and returns them.
	Remap(ctx context.Context, platform, tenant, userID, employeeID string) ([]mapping.Event, error)

	// Events returns the latest revision of every event of the employee
	// whose time lies in [from, to), ordered by time then id. Approvals are
	// also returned when their [start, end] overlaps the range.
	Events(ctx context.Context, employeeID string, from, to time.Time) ([]mapping.Event, error)
	// Employees lists, sorted, every employee id that has at least one
	// event. A backend may also list one whose every event was revised to
	// name another employee (reconciling such an employee takes those
	// events out of their days).
	Employees(ctx context.Context) ([]string, error)

	// MarkDirty records employee-days that need recomputation. Marking a
	// day that is already dirty raises its generation.
	MarkDirty(ctx context.Context, days []mapping.EmployeeDay) error
	// DirtyDays lists every employee-day waiting for recomputation,
	// ordered by employee then date. It is for operators and tests:
	// reconciliation reads the dirty days an employee at a time.
	DirtyDays(ctx context.Context) ([]mapping.EmployeeDay, error)
	// DirtyEmployees lists, sorted, the employees with dirty days, each
	// with its earliest dirty date: one entry an employee, however many
	// days are dirty.
	DirtyEmployees(ctx context.Context) ([]DirtyEmployee, error)
	// DirtyDaysBetween lists the dirty days of the employees whose ids sort
	// (bytewise) from firstEmployee to lastEmployee, dated from to to
	// (YYYY-MM-DD), both ranges inclusive, in no particular order, each
	// with its generation. Reconciliation reads a few hundred employees'
	// days at a time this way.
	DirtyDaysBetween(ctx context.Context, firstEmployee, lastEmployee, from, to string) ([]DirtyDay, error)
	// ClearDirty removes the dirty days whose generation is still the one
	// given: a day marked again since it was listed stays dirty, because
	// the recomputation the caller just finished may have read the events
	// before the new one arrived. A zero generation removes the day
	// whatever its generation. Days that are not dirty are ignored.
	ClearDirty(ctx context.Context, days []DirtyDay) error

	// PutDay stores a computed day record. If its content equals the latest
	// version's, nothing changes and that version is returned with
	// changed=false; otherwise it is stored as version latest+1 (1 for a new
	// day) and returned with changed=true. Earlier versions are kept.
	PutDay(ctx context.Context, rec mapping.DayRecord) (stored mapping.DayRecord, changed bool, err error)
	// Day returns the latest version of a day record, or ErrNotFound.
	Day(ctx context.Context, key mapping.DayKey) (mapping.DayRecord, error)
	// DayHistory returns every version of a day record, oldest first.
	DayHistory(ctx context.Context, key mapping.DayKey) ([]mapping.DayRecord, error)
	// Days lists the latest version of the employee's day records with date
	// in [from, to] (YYYY-MM-DD, inclusive); an empty employeeID means all.
	Days(ctx context.Context, employeeID, from, to string) ([]mapping.DayRecord, error)

	// Checkpoint returns how far the connector has pulled successfully.
	Checkpoint(ctx context.Context, connector string) (t time.Time, ok bool, err error)
	// SetCheckpoint records a successful pull up to t.
	SetCheckpoint(ctx context.Context, connector string, t time.Time) error

	// Enqueue adds a day-record version to the sink's outbox. Enqueueing the
	// same (sink, key, version) twice is a no-op.
	Enqueue(ctx context.Context, sink string, rec mapping.DayRecord) error
	// Due lists up to limit pending outbox entries of the sink whose NextAt
	// is at or before now, oldest first.
	Due(ctx context.Context, sink string, now time.Time, limit int) ([]OutboxEntry, error)
	// MarkDelivered records that the sink acknowledged the entry; it is
	// written to the delivery log with the time.
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// MarkDeliveredAll is MarkDelivered for several entries in one write,
	// for sinks that acknowledge a batch at once. It is all or nothing: if
	// an id is not in the outbox, nothing is marked and the error wraps
	// ErrNotFound.
	MarkDeliveredAll(ctx context.Context, ids []int64, at time.Time) error
	// MarkFailed records a failed attempt; next is the time of the next
	// attempt, and dead moves the entry to the dead-letter queue.
	MarkFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error
	// Delivered reports whether (sink, key, version) is in the delivery log.
	Delivered(ctx context.Context, sink string, key mapping.DayKey, version int) (bool, error)
	// DeliveredAll is Delivered for several records of one sink in one
	// read: done[i] reports whether recs[i]'s version is in the log.
	DeliveredAll(ctx context.Context, sink string, recs []mapping.DayRecord) (done []bool, err error)
	// Outbox lists entries of a sink in a state ("" sink means every sink).
	Outbox(ctx context.Context, sink string, state DeliveryState, limit int) ([]OutboxEntry, error)

	// Ping reports whether the ledger can be reached (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the ledger's resources.
	Close() error
}
