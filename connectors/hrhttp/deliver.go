package hrhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/punchbridge/punchbridge/connectors"
)

// Deliver POSTs one day record with its idempotency key, retrying
// transient failures. Its error wraps connectors.ErrPermanent when the HR
// system refused the record or the mapping cannot encode it, and ctx's
// error when ctx ended first. A record the mapping's when: leaves out is
// delivered by sending nothing.
func (s *Sink) Deliver(ctx context.Context, d connectors.Delivery) error {
	return s.DeliverBatch(ctx, []connectors.Delivery{d})[0]
}

// DeliverBatch delivers day records, batch.size of them per request when
// a batch is configured, one per request otherwise. It returns one error
// per delivery, nil for those delivered: a record the mapping cannot
// encode fails alone, the others are still sent.
func (s *Sink) DeliverBatch(ctx context.Context, ds []connectors.Delivery) []error {
	errs := make([]error, len(ds))
	if s.records != RecordsDays {
		for i, d := range ds {
			errs[i] = s.count(fmt.Errorf("hrhttp %s: deliver %s: this sink carries events (records: events), not day records: %w",
				s.name, d.IdempotencyKey, connectors.ErrPermanent))
		}
		return errs
	}
	keys := make([]string, len(ds))
	records := make([]any, len(ds))
	for i, d := range ds {
		keys[i], records[i] = d.IdempotencyKey, d.Record
	}
	s.deliverAll(ctx, keys, records, errs)
	return errs
}

// DeliverEvent POSTs one event, for a sink with records: events. Errors
// are as Deliver's.
func (s *Sink) DeliverEvent(ctx context.Context, d EventDelivery) error {
	return s.DeliverEvents(ctx, []EventDelivery{d})[0]
}

// DeliverEvents is DeliverBatch for events.
func (s *Sink) DeliverEvents(ctx context.Context, ds []EventDelivery) []error {
	errs := make([]error, len(ds))
	if s.records != RecordsEvents {
		for i, d := range ds {
			errs[i] = s.count(fmt.Errorf("hrhttp %s: deliver %s: this sink carries day records (records: days), not events: %w",
				s.name, d.IdempotencyKey, connectors.ErrPermanent))
		}
		return errs
	}
	keys := make([]string, len(ds))
	records := make([]any, len(ds))
	for i, d := range ds {
		keys[i], records[i] = d.IdempotencyKey, d.Event
	}
	s.deliverAll(ctx, keys, records, errs)
	return errs
}

// deliverAll encodes each record, sends the encoded ones in requests of
// batch.size, and writes each record's outcome into errs.
func (s *Sink) deliverAll(ctx context.Context, keys []string, records []any, errs []error) {
	var items []item
	var owners []int // index into errs of each item
	for i, rec := range records {
		if keys[i] == "" {
			errs[i] = fmt.Errorf("empty idempotency key: %w", connectors.ErrPermanent)
			continue
		}
		body, skip, err := s.encode(rec)
		switch {
		case err != nil:
			errs[i] = err
		case skip:
			// Nothing of this record goes to the HR system.
		default:
			items = append(items, item{key: keys[i], body: body})
			owners = append(owners, i)
		}
	}
	for _, c := range chunks(len(items), s.batch.Size) {
		err := s.post(ctx, items[c[0]:c[1]])
		for _, i := range owners[c[0]:c[1]] {
			errs[i] = err
		}
	}
	for i, err := range errs {
		if err != nil {
			errs[i] = s.count(fmt.Errorf("hrhttp %s: deliver %s: %w", s.name, keys[i], err))
		} else {
			s.count(nil)
		}
	}
}

// count adds one delivery's outcome to the stats and returns err.
func (s *Sink) count(err error) error {
	if err != nil {
		s.failures.Add(1)
	} else {
		s.successes.Add(1)
	}
	return err
}

// post sends one request carrying items and judges the answer.
func (s *Sink) post(ctx context.Context, items []item) error {
	body, key, err := s.requestBody(items)
	if err != nil {
		return err
	}
	tries := new(int)
	ctx = context.WithValue(ctx, attemptsKey{}, tries)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, s.url, body)
	if err != nil {
		return fmt.Errorf("build request: %w (%w)", err, connectors.ErrPermanent)
	}
	for k, v := range s.header {
		req.Header[k] = slices.Clone(v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", key)
	if s.token != "" {
		req.Header.Set("Authorization", s.scheme+" "+s.token)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("POST %s: stopped after %d attempt(s): %w", s.safeURL, *tries, ctxErr)
		}
		// The url.Error names the full URL, query included; we name the
		// safe one instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: gave up after %d attempt(s): %w", s.safeURL, *tries, err)
	}
	kept, _ := io.ReadAll(io.LimitReader(resp.Body, s.keep))
	drain(resp.Body)
	if err := s.judge(resp.StatusCode, kept, *tries); err != nil {
		return fmt.Errorf("POST %s: %w", s.safeURL, err)
	}
	return nil
}
