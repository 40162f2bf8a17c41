package hrhttp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/sjson"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

// EventDelivery is one event to deliver to a sink that carries events
// (records: events).
type EventDelivery = connectors.EventDelivery

// EventIdempotencyKey builds the key of one revision of an event: a new
// revision (an approval that changed) is a new delivery.
func EventIdempotencyKey(sink string, e mapping.Event) string {
	return connectors.EventIdempotencyKey(sink, e)
}

// item is one record on its way into a request: its key and its body.
type item struct {
	key  string
	body []byte
}

// encode builds the body of one record: the mapping's output, or the
// record itself. skip reports a record the mapping leaves out.
func (s *Sink) encode(record any) (body []byte, skip bool, err error) {
	raw, err := marshalRecord(record)
	if err != nil {
		return nil, false, fmt.Errorf("encode record: %w (%w)", err, connectors.ErrPermanent)
	}
	if s.mapping == nil {
		return raw, false, nil
	}
	out, err := s.mapping.Apply(raw)
	switch {
	case errors.Is(err, mapping.ErrSkip):
		return nil, true, nil
	case err != nil:
		// The record cannot be encoded; retrying will not change that.
		return nil, false, fmt.Errorf("%w (%w)", err, connectors.ErrPermanent)
	}
	return out, false, nil
}

// marshalRecord writes what json.Marshal writes for record. A day record
// and an event write themselves; through json.Marshal their bytes would be
// checked and copied again, a second pass over every record pushed.
func marshalRecord(record any) ([]byte, error) {
	switch r := record.(type) {
	case mapping.DayRecord:
		return r.MarshalJSON()
	case mapping.Event:
		return r.AppendJSON(nil)
	}
	return json.Marshal(record)
}

// requestBody joins items into one body: a single record as is, a batch
// as an array, placed at the batch path when one is set.
func (s *Sink) requestBody(items []item) ([]byte, string, error) {
	if s.batch.Size == 0 {
		return items[0].body, items[0].key, nil
	}
	var arr []byte
	arr = append(arr, '[')
	keys := make([]string, len(items))
	for i, it := range items {
		if i > 0 {
			arr = append(arr, ',')
		}
		arr = append(arr, it.body...)
		keys[i] = it.key
	}
	arr = append(arr, ']')
	key := items[0].key
	if len(items) > 1 {
		// One key for the whole batch, the same for the same records.
		sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
		key = s.name + ":batch:" + hex.EncodeToString(sum[:16])
	}
	if s.batch.Path == "" {
		return arr, key, nil
	}
	body, err := sjson.SetRawBytes([]byte("{}"), s.batch.Path, arr)
	if err != nil {
		return nil, "", fmt.Errorf("place the batch at %q: %w (%w)", s.batch.Path, err, connectors.ErrPermanent)
	}
	return body, key, nil
}

// chunks splits n items into runs of at most size (1 when size is 0).
func chunks(n, size int) [][2]int {
	if size <= 0 {
		size = 1
	}
	var out [][2]int
	for i := 0; i < n; i += size {
		out = append(out, [2]int{i, min(i+size, n)})
	}
	return out
}

// zoneOption turns the timezone setting into a mapping option.
func zoneOption(name string) []mapping.Option {
	if name == "" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil // Validate reported it
	}
	return []mapping.Option{mapping.WithTimezone(loc)}
}

// checkInput refuses a mapping that reads other records than the sink
// carries: a day mapping on an events sink would fail every record.
func checkInput(m *mapping.Mapping, records string) error {
	if m == nil {
		return nil
	}
	want := mapping.DaySchema
	if records == RecordsEvents {
		want = mapping.EventSchema
	}
	if m.Input() != want {
		return fmt.Errorf("mapping %s reads %s, but the sink carries %s (records: %s); use a mapping with input: %s", m.Name(), m.Input(), want, records, want)
	}
	return nil
}
