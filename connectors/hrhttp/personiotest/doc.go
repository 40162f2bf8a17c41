// Package personiotest is a fake of a Personio-style attendance API for
// tests and the demo, modelled on net/http/httptest:
//
//	POST /v2/attendance-periods
//	Authorization: Bearer <token>
//	{"person": {"id": "12345"}, "type": "WORK",
//	 "start": {"date_time": "2026-11-20T09:02:11"},
//	 "end": {"date_time": "2026-11-20T18:05:40"}, "comment": "..."}
//
// answered 201 {"id": "..."}. The body shape follows the third-party
// clients of Personio's v2 API (the official reference does not show it);
// what is modelled on documented behaviour is the rest: a person must
// exist, type is WORK or BREAK, date_time is a local time without offset,
// end is not before start (it may be absent: an open period), and a
// period overlapping one already stored is refused with 409 "Existing
// overlapping attendances periods" — the API has no idempotency key, and
// that check is what stops a duplicate.
//
//	api := personiotest.NewServer("token")
//	defer api.Close()
//	api.AddPerson("12345")
//	// point an hrhttp sink at api.URL() ...
//	api.Periods()
package personiotest
