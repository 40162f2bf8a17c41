package ledger

import (
	"context"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// EventEntry is one event revision waiting for (or done with) delivery to
// a sink that carries raw punches.
type EventEntry struct {
	ID        int64
	Sink      string
	Event     mapping.Event
	State     DeliveryState
	Attempts  int
	LastError string
	NextAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EventOutbox queues event revisions for the sinks that carry events
// instead of day records, with the same states as the day-record outbox:
// pending, delivered, dead.
type EventOutbox interface {
	// EnqueueEvents queues each event revision for the sink; queueing one
	// (sink, id, fingerprint) twice is a no-op.
	EnqueueEvents(ctx context.Context, sink string, events []mapping.Event) error
	// DueEvents lists up to limit pending entries of the sink whose NextAt
	// is at or before now, oldest first.
	DueEvents(ctx context.Context, sink string, now time.Time, limit int) ([]EventEntry, error)
	// MarkEventDelivered records that the sink acknowledged the entry.
	MarkEventDelivered(ctx context.Context, id int64, at time.Time) error
	// MarkEventFailed records a failed attempt; dead moves the entry to
	// the dead-letter queue.
	MarkEventFailed(ctx context.Context, id int64, errMsg string, next time.Time, dead bool) error
	// EventEntries lists entries of a sink ("" means every sink) in a
	// state ("" means every state), oldest first.
	EventEntries(ctx context.Context, sink string, state DeliveryState, limit int) ([]EventEntry, error)
}
