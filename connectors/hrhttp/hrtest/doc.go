// Package hrtest is a fake HR system for tests and the demo, modelled on
// net/http/httptest. It accepts day records POSTed as JSON, applies each
// Idempotency-Key once (a repeat answers 200 with {"status":"duplicate"} and
// changes nothing), records every request it received, and can be told to
// fail: the first n attempts of each key, every request until healed, or
// every request without the right bearer token.
//
// A body may be one day record or, as an hrhttp sink with batch.size and
// no batch.path sends, a JSON array of them under one Idempotency-Key. A
// batch is applied all or nothing: one invalid record refuses it with 422
// naming the record's index, counting from 0 ("record 3: employee_id is
// required"), and an empty array is 400. Idempotency and injected failures
// work per key, so per batch. Applied and AppliedCount count records,
// AppliedKeys and AppliedBodies requests.
//
// Two modes model other HR APIs: WithJSONBodies takes any JSON body (a
// mapping's output, a batch) instead of day records, and
// WithCodeEnvelope answers every request HTTP 200 with {"code", "msg"},
// the error inside, as many HR APIs do. WithDayKeysOnly is for long runs:
// it keeps a few dozen bytes per applied record and no request log.
//
//	srv := hrtest.NewServer()
//	defer srv.Close()
//	srv.FailFirst(2, http.StatusServiceUnavailable)
//	// point an hrhttp sink at srv.URL() and deliver ...
//	srv.AppliedCount()
package hrtest
