package connectors

import (
	"context"

	"github.com/punchbridge/punchbridge/mapping"
)

// EventDelivery is one revision of an event to deliver to a sink that
// carries raw punches (for HR systems that compute attendance themselves).
type EventDelivery struct {
	Event mapping.Event
	// IdempotencyKey is EventIdempotencyKey's; the HR system drops a
	// redelivery by it.
	IdempotencyKey string
}

// EventIdempotencyKey builds the key of one revision of an event: a new
// revision (an approval that changed) is a new delivery.
func EventIdempotencyKey(sink string, e mapping.Event) string {
	return sink + ":" + e.ID + ":" + mapping.Fingerprint(e)
}

// EventSink is a sink that may carry events instead of day records.
//
// DeliverEvents makes one attempt per delivery and returns one error per
// delivery (nil for success); an error wrapping ErrPermanent will not be
// retried. It is safe for concurrent use.
type EventSink interface {
	Sink
	// CarriesEvents reports whether the sink takes events (true) or day
	// records (false), as configured.
	CarriesEvents() bool
	DeliverEvents(ctx context.Context, ds []EventDelivery) []error
}
