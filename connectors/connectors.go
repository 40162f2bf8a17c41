// Package connectors defines what Punchbridge asks of a chat platform or an
// HR system: a Source that pulls events for a time window, a Receiver that
// turns webhooks into events, a Directory that lists platform users, and a
// Sink that delivers day records. Each platform or sink lives in its own
// subpackage; the Registry builds them by type name from the config.
package connectors

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// Window is the half-open time range [From, To) a pull covers.
type Window struct {
	From time.Time
	To   time.Time
}

// EmitFunc receives a batch of normalized events. A source calls it once per
// batch and stops pulling when it returns an error; a receiver calls it before
// it acknowledges the webhook, so that a nil return means the events are
// durably written. It must be safe for concurrent use: receivers call it from
// concurrent requests, and a source may store several batches at once when
// no batch depends on another's being stored first.
type EmitFunc func(ctx context.Context, events []mapping.Event) error

// Connector is what a platform factory builds. It also implements one or
// more of Source, Receiver and Directory.
type Connector interface {
	// Name is the instance name from the config, unique across connectors.
	Name() string
	// Platform is the platform type ("dingtalk", "wecom", ...).
	Platform() string
	// Tenant is the platform's id of the organisation (DingTalk corp id,
	// WeCom corpid); with Platform and a user id it keys identity mapping.
	Tenant() string
}

// Source pulls events from a platform.
//
// Pull may be called concurrently for different windows; it must honour ctx
// and emit events in batches rather than holding a whole window in memory.
type Source interface {
	Connector
	Pull(ctx context.Context, w Window, emit EmitFunc) (PullStats, error)
}

// PullStats counts what one pull did, for the job's summary and metrics.
type PullStats struct {
	Events   int            // events emitted
	APICalls map[string]int // calls made, by API name
	// Quota is how much of each rate-limited API's quota the pull used,
	// by API name; sources that know their platform's limits fill it.
	Quota map[string]QuotaUse
}

// QuotaUse is how much of one API's rate limit a pull used.
type QuotaUse struct {
	// Calls counts the requests sent, retries included.
	Calls int `json:"calls"`
	// Limit is how many calls the platform allows per Window (20 a second
	// for a DingTalk API, 600 a minute for WeCom's getcheckindata).
	Limit  float64       `json:"limit"`
	Window time.Duration `json:"window_ns"`
	// Elapsed is the time from the first call to the last one, plus one
	// call's share of the window (Window/Limit): the slots the calls took.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Utilisation is Calls / (Limit × Elapsed / Window): 1 means every
	// slot of the quota was used while the calls ran.
	Utilisation float64 `json:"utilisation"`
}

// Add merges o into s.
func (s *PullStats) Add(o PullStats) {
	s.Events += o.Events
	for k, v := range o.APICalls {
		if s.APICalls == nil {
			s.APICalls = map[string]int{}
		}
		s.APICalls[k] += v
	}
	for k, q := range o.Quota {
		if s.Quota == nil {
			s.Quota = map[string]QuotaUse{}
		}
		cur, ok := s.Quota[k]
		if !ok {
			s.Quota[k] = q
			continue
		}
		cur.Calls += q.Calls
		cur.Elapsed += q.Elapsed
		cur.Utilisation = Utilisation(cur.Calls, cur.Limit, cur.Window, cur.Elapsed)
		s.Quota[k] = cur
	}
}

// Utilisation is calls / (limit × elapsed / window), or 0 when there is no
// limit or no time.
func Utilisation(calls int, limit float64, window, elapsed time.Duration) float64 {
	if limit <= 0 || window <= 0 || elapsed <= 0 {
		return 0
	}
	return float64(calls) / (limit * elapsed.Seconds() / window.Seconds())
}

// Receiver turns a platform's webhook requests into events.
type Receiver interface {
	Connector
	// Handler returns the webhook handler. It must call ingest before it
	// acknowledges a request and answer with an error status (so that the
	// platform retries) when ingest fails.
	Handler(ingest EmitFunc) http.Handler
}

// Worker is a connector with work of its own that outlives a request: a
// long-lived Stream connection, or the detail fetches a webhook schedules
// after it has acknowledged the platform. `serve` calls Work once per
// connector, with the same ingest the webhook routes get, and cancels ctx
// on shutdown; Work returns when ctx ends (nil) or on a fatal error.
type Worker interface {
	Connector
	Work(ctx context.Context, ingest EmitFunc) error
}

// User is one platform user as the directory reports it.
type User struct {
	UserID      string            `json:"user_id"`
	Name        string            `json:"name,omitempty"`
	JobNumber   string            `json:"job_number,omitempty"`
	Mobile      string            `json:"mobile,omitempty"`
	Email       string            `json:"email,omitempty"`
	Departments []string          `json:"departments,omitempty"`
	Attrs       map[string]string `json:"attrs,omitempty"`
}

// Directory lists the users of a platform tenant.
type Directory interface {
	Connector
	Users(ctx context.Context) ([]User, error)
}

// Delivery is one day record to deliver to a sink.
type Delivery struct {
	Record mapping.DayRecord
	// IdempotencyKey is derived from (sink, employee, date, shift, version);
	// a sink passes it on so that the HR system can drop a redelivery.
	IdempotencyKey string
}

// Sink delivers day records to an HR or payroll system.
//
// Deliver makes one logical delivery (it may retry transient transport
// failures internally) and is safe for concurrent use. It returns an error
// wrapping ErrPermanent when retrying cannot help.
type Sink interface {
	Name() string
	Deliver(ctx context.Context, d Delivery) error
}

// ErrPermanent marks a failure that a retry cannot fix (a 4xx answer, a
// record the mapping cannot encode).
var ErrPermanent = errors.New("permanent failure")

// IdempotencyKey builds the key a sink sends with a delivery.
func IdempotencyKey(sink string, rec mapping.DayRecord) string {
	return sink + ":" + rec.EmployeeID + ":" + rec.Date + ":" + rec.Shift + ":v" + strconv.Itoa(rec.Version)
}
