// Package hrtest is a fake HR system for tests and the demo, modelled on
// net/http/httptest. It accepts day records POSTed as JSON, applies each
// Idempotency-Key once (a repeat answers 200 with {"status":"duplicate"} and
// changes nothing), records every request it received, and can be told to
// fail: the first n attempts of each key, every request until healed, or
// every request without the right bearer token.
//
// Two modes model other HR APIs: WithJSONBodies takes any JSON body (a
// mapping's output, a batch) instead of a day record, and
// WithCodeEnvelope answers every request HTTP 200 with {"code", "msg"},
// the error inside, as many HR APIs do.
//
//	srv := hrtest.NewServer()
//	defer srv.Close()
//	srv.FailFirst(2, http.StatusServiceUnavailable)
//	// point an hrhttp sink at srv.URL() and deliver ...
//	srv.AppliedCount()
package hrtest
