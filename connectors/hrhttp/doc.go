// Package hrhttp is the generic REST sink: it POSTs each day record as JSON
// to one HR or payroll endpoint and counts a 2xx answer as delivered.
//
// A mapping (mapping: preset:NAME, a file, or inline) builds the body from
// the record instead; a record it cannot encode fails alone and
// permanently, naming the field, the value and the reason. batch: sends
// up to batch.size records per request as an array under batch.path.
// records: events makes the sink carry raw punch events (DeliverEvents)
// for HR systems that compute attendance themselves. success: judges a
// 2xx answer by a value in its body (code == 0), and already_delivered:
// lists refusals that mean the record is there already. See
// docs/MAPPINGS.md.
//
// Every request carries
//
//	Content-Type: application/json
//	Idempotency-Key: <sink>:<employee>:<date>:<shift>:v<version>
//	Authorization: Bearer <token>        (when a token is configured)
//
// plus the configured headers. The key lets the HR system apply a record
// once however often it arrives: after a lost answer, a retry, or a second
// replica. A new version of a day has a new key, so a correction is applied
// as a new record.
//
// Retries: a connection error, a 429 or a 5xx (but 501) is retried up to
// max_retries times through one go-retryablehttp client per sink. The wait
// is the answer's Retry-After (seconds or an HTTP date, on 429 and 503),
// capped at retry_wait_max; otherwise it grows exponentially from
// retry_wait_min with jitter. Any other answer — a 3xx, since a POST must
// not be redirected silently, or a 4xx — is not retried, and Deliver's error
// wraps connectors.ErrPermanent. Each attempt has its own timeout.
//
// A sink in the config:
//
//	sinks:
//	  - name: payroll
//	    type: hrhttp
//	    url: https://hr.example.com/api/v1/attendance/days
//	    token: ${PAYROLL_TOKEN}
//	    headers: {X-Tenant: acme}
//	    timeout: 10s
//	    max_retries: 4
//	    retry_wait_min: 500ms
//	    retry_wait_max: 30s
//	    mapping: preset:generic-json
//	    batch: {size: 50, path: records}
//	    success: {path: code, equals: [0], message: msg}
//
// Package hrtest is a fake HR system with the same contract, for tests and
// the demo.
package hrhttp
