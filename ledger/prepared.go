package ledger

import (
	"errors"
	"fmt"

	"github.com/punchbridge/punchbridge/mapping"
)

// PreparedEvent is an event with the CPU work of storing it done ahead:
// its fingerprint and its JSON. A ledger has one writer; preparing events
// in the goroutines that hand them over (webhook handlers, a pull) takes
// that work off it and computes each fingerprint once for the Redis claim,
// the ledger row and the raw payload alike.
type PreparedEvent struct {
	Event       mapping.Event
	Fingerprint string // mapping.Fingerprint(Event)
	JSON        []byte // json.Marshal(Event), as Event.AppendJSON writes it
}

// PrepareEvents prepares events. fps, when not nil, holds fingerprints
// computed already, one per event.
func PrepareEvents(events []mapping.Event, fps []string) ([]PreparedEvent, error) {
	if fps != nil && len(fps) != len(events) {
		return nil, fmt.Errorf("ledger: prepare %d events with %d fingerprints", len(events), len(fps))
	}
	out := make([]PreparedEvent, len(events))
	// The bodies share one buffer, cut up once it has stopped growing.
	// A punch encodes to 400 to 600 bytes; room for that spares the buffer
	// most of its growing.
	var (
		bodies  = make([]byte, 0, 640*len(events))
		ends    = make([]int, len(events))
		scratch = make([]byte, 0, 640)
	)
	for i := range events {
		e := &events[i]
		var err error
		if bodies, err = e.AppendJSON(bodies); err != nil {
			return nil, fmt.Errorf("ledger: prepare event %s: %w", e.ID, err)
		}
		ends[i] = len(bodies)
		fp := ""
		if fps != nil {
			fp = fps[i]
		} else {
			fp, scratch = mapping.AppendFingerprint(scratch, e)
		}
		out[i] = PreparedEvent{Event: *e, Fingerprint: fp}
	}
	start := 0
	for i, end := range ends {
		out[i].JSON = bodies[start:end:end]
		start = end
	}
	return out, nil
}

// IngestBatch is one caller's whole ingest write: its prepared events, the
// platform payloads they were made from, and the employee-days the stored
// changes make dirty. A ledger that takes it (both ledgers, and groupcommit
// in front of either) writes all three in one transaction, so that an event is
// never stored without its dirty days, and the caller hands the writer one
// request instead of three.
type IngestBatch struct {
	Events []PreparedEvent
	Raw    []RawPayload
	// Dirty returns the employee-days that the changed events (the
	// AppendResult's Changed) make dirty; nil marks none. It runs inside
	// the transaction, so it must be quick and must not touch the ledger.
	Dirty func(changed []mapping.Event) []mapping.EmployeeDay
}

// PreparedDay is a day record with its encoding made by the caller: the
// ContentJSON and the content hash. Reconciliation prepares each employee's
// days on the core that computed them, so that the ledger's one writer only
// stores them (PutDays).
type PreparedDay struct {
	Record  mapping.DayRecord
	Hash    string // Record.ContentHash()
	Content []byte // Record.ContentJSON()
}

// PrepareDays prepares recs.
func PrepareDays(recs []mapping.DayRecord) []PreparedDay {
	out := make([]PreparedDay, len(recs))
	for i, r := range recs {
		c := r.ContentJSON()
		out[i] = PreparedDay{Record: r, Hash: mapping.HashContent(c), Content: c}
	}
	return out
}

// Body returns the record's JSON with version v, as json.Marshal gives it.
func (p PreparedDay) Body(v int) []byte {
	return p.Record.VersionedJSON(p.Content, v)
}

// CheckPutDays reports what is wrong with the arguments of a PutDays: a
// day not prepared (PrepareDays) or without a key, or an empty sink name.
func CheckPutDays(days []PreparedDay, sinks []string) error {
	for _, d := range days {
		if d.Hash == "" || len(d.Content) == 0 {
			return fmt.Errorf("day %s/%s/%s is not prepared; use ledger.PrepareDays", d.Record.EmployeeID, d.Record.Date, d.Record.Shift)
		}
		if err := CheckDayKey(d.Record.Key()); err != nil {
			return err
		}
	}
	for _, sink := range sinks {
		if sink == "" {
			return errors.New("a sink is empty; give the sinks' names")
		}
	}
	return nil
}

// IngestRest returns what an ingest of ibs writes after its events, once
// results holds each batch's outcome: every batch's raw payloads, and the
// dirty days each batch's changes make.
func IngestRest(ibs []IngestBatch, results []AppendResult) ([]RawPayload, []mapping.EmployeeDay) {
	var (
		raw   []RawPayload
		dirty []mapping.EmployeeDay
	)
	for i, b := range ibs {
		raw = append(raw, b.Raw...)
		if b.Dirty != nil {
			dirty = append(dirty, b.Dirty(results[i].Changed)...)
		}
	}
	return raw, dirty
}

// CheckIngestBatches checks that every event of ibs has an id and was
// prepared, and returns each batch's events and how many there are in all.
func CheckIngestBatches(ibs []IngestBatch) (batches [][]PreparedEvent, total int, err error) {
	batches = make([][]PreparedEvent, len(ibs))
	for i, b := range ibs {
		for j, p := range b.Events {
			if p.Event.ID == "" {
				return nil, 0, fmt.Errorf("append: event %d: id is empty; validate events before appending them", j)
			}
			if p.Fingerprint == "" || len(p.JSON) == 0 {
				return nil, 0, fmt.Errorf("append: event %s is not prepared; use ledger.PrepareEvents", p.Event.ID)
			}
		}
		batches[i] = b.Events
		total += len(b.Events)
	}
	return batches, total, nil
}
