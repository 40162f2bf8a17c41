package ledger

import (
	"context"
	"encoding/json"
	"time"
)

// RawPayload is a platform's own record behind an event.
type RawPayload struct {
	EventID     string
	Fingerprint string
	Connector   string
	ReceivedAt  time.Time
	Body        json.RawMessage
}

// RawStore keeps raw platform payloads for a limited time: long enough to
// debug a mapping, short enough for data minimisation (PIPL). The
// normalized events are not affected by a purge.
type RawStore interface {
	// StoreRaw keeps payloads; storing one (event id, fingerprint) twice
	// keeps the first. A payload belongs to the stored revision with its
	// event id and fingerprint: a ledger may refuse one whose revision it
	// does not hold, with an error wrapping ErrRawNotKept (SQLite does).
	StoreRaw(ctx context.Context, ps []RawPayload) error
	// RawFor returns the payloads of an event id, oldest first.
	RawFor(ctx context.Context, eventID string) ([]RawPayload, error)
	// PurgeRaw deletes the payloads received before cutoff and reports how
	// many went.
	PurgeRaw(ctx context.Context, cutoff time.Time) (int, error)
}
