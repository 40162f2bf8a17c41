package hrtest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
	"unique"

	"github.com/punchbridge/punchbridge/mapping"
)

// Path is where the fake HR system accepts day records; URL returns it
// joined to the server's address.
const Path = "/api/v1/attendance/days"

// Request is one request the server received, in arrival order.
type Request struct {
	Method         string
	Path           string
	Header         http.Header
	IdempotencyKey string
	// Record is the decoded body of a single record; zero for a batch,
	// when the body did not decode, and in WithJSONBodies mode.
	Record mapping.DayRecord
	// Records is the decoded body of a batch (a JSON array), in its
	// order; nil for a single record, when the body did not decode, and in
	// WithJSONBodies mode.
	Records []mapping.DayRecord
	// Body is the request body as received.
	Body []byte
	// Status is what the server answered.
	Status int
	// Outcome is "applied", "duplicate", "injected_failure",
	// "unauthorized" or "invalid".
	Outcome string
}

// Server is a running fake HR system. Its methods are safe for concurrent
// use, also while requests are being served.
type Server struct {
	srv *httptest.Server

	// Set by options before the server starts and only read after, so
	// without the lock.
	latency  time.Duration
	anyJSON  bool // WithJSONBodies
	envelope bool // WithCodeEnvelope
	lean     bool // WithDayKeysOnly

	mu         sync.Mutex
	requests   int
	received   []Request           // nil in lean mode
	keys       map[string]keyState // per Idempotency-Key
	order      []string            // applied keys in the order applied, one per request
	bodies     [][]byte            // body of each applied request, as order; nil in lean mode
	records    []mapping.DayRecord // applied records in order; nil in lean mode
	days       []dayKey            // applied records in order, in lean mode
	duplicates int
	failures   failures
	token      string
	retryAfter string
}

// keyState is what the server knows of one Idempotency-Key.
type keyState struct {
	attempts int // failed ones included
	applied  bool
}

// dayKey is what lean mode keeps of an applied record: 32 bytes, the
// strings interned, since a long run repeats each employee, date and
// shift many times.
type dayKey struct {
	employeeID, date, shift unique.Handle[string]
	version                 int
}

func dayKeyOf(d *mapping.DayRecord) dayKey {
	return dayKey{unique.Make(d.EmployeeID), unique.Make(d.Date), unique.Make(d.Shift), d.Version}
}

func (k dayKey) record() mapping.DayRecord {
	return mapping.DayRecord{EmployeeID: k.employeeID.Value(), Date: k.date.Value(), Shift: k.shift.Value(), Version: k.version}
}

// failures is the failure the server is told to inject.
type failures struct {
	first       int  // each key's first `first` attempts fail ...
	applyFirst  bool // ... after being applied (a lost answer) when set
	firstStatus int
	always      int // every request fails with this status when non-zero
}

// Option configures a Server at start.
type Option func(*Server)

// WithLatency makes every answer wait d (or until the client goes away),
// for demos of slow HR systems.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithToken makes the server answer 401 to any request without
// "Authorization: Bearer <token>"; see RequireToken.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithJSONBodies makes the server take any JSON object or array instead
// of a day record, as an HR system with its own field names does (a
// mapping's output, a batch); AppliedBodies returns what it took.
func WithJSONBodies() Option { return func(s *Server) { s.anyJSON = true } }

// WithCodeEnvelope makes the server answer like the many HR APIs that
// report errors inside HTTP 200: every answer is 200 with
// {"code": 0, "msg": "ok"} on success (also for a duplicate) and
// {"code": <the status it would have sent>, "msg": "..."} otherwise.
func WithCodeEnvelope() Option { return func(s *Server) { s.envelope = true } }

// WithDayKeysOnly makes the server lean, for runs of hundreds of thousands
// of records: of each applied record it keeps only EmployeeID, Date, Shift
// and Version (the only fields Applied sets), and it keeps no request log
// (Received returns nil, Requests still counts) and no bodies
// (AppliedBodies returns nil). Idempotency, failure injection and the
// other counters work as in the default mode.
func WithDayKeysOnly() Option { return func(s *Server) { s.lean = true } }

// NewServer starts a fake HR system on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		keys:       map[string]keyState{},
		retryAfter: "0",
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the endpoint to POST day records to.
func (s *Server) URL() string { return s.srv.URL + Path }

// Client returns an HTTP client set up for the server, for tests that
// talk to it directly.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down and waits for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// FailFirst makes each distinct Idempotency-Key's first n attempts fail with
// status before anything is applied; attempts already made count. A 429 or
// 503 answer carries the Retry-After set by SetRetryAfter ("0" unless set).
func (s *Server) FailFirst(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.first, s.failures.firstStatus, s.failures.applyFirst = n, status, false
}

// ApplyThenFailFirst is FailFirst where the failing attempts are applied
// first and only the answer is an error, as when the HR system committed the
// record but the response was lost. A retry then meets an applied key.
func (s *Server) ApplyThenFailFirst(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.first, s.failures.firstStatus, s.failures.applyFirst = n, status, true
}

// FailAlways makes every request fail with status until Heal.
func (s *Server) FailAlways(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.always = status
}

// Heal stops every injected failure (FailFirst, ApplyThenFailFirst and
// FailAlways).
func (s *Server) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = failures{}
}

// RequireToken makes the server answer 401 to any request without
// "Authorization: Bearer <token>"; an empty token accepts every request.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetRetryAfter sets the Retry-After value sent with injected 429 and 503
// answers: seconds or an HTTP date; "" sends none.
func (s *Server) SetRetryAfter(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = v
}

// Applied returns every applied day record, each once, in the order
// applied, the records of a batch in their order. In WithJSONBodies mode
// it holds one zero record per applied request; in WithDayKeysOnly mode
// only EmployeeID, Date, Shift and Version are set.
func (s *Server) Applied() []mapping.DayRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lean {
		return slices.Clone(s.records)
	}
	out := make([]mapping.DayRecord, len(s.days))
	for i, k := range s.days {
		out[i] = k.record()
	}
	return out
}

// AppliedBodies returns the body of every applied request, each once, in
// the order applied; nil in WithDayKeysOnly mode.
func (s *Server) AppliedBodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lean {
		return nil
	}
	out := make([][]byte, len(s.bodies))
	for i, b := range s.bodies {
		out[i] = slices.Clone(b)
	}
	return out
}

// AppliedKeys returns the applied Idempotency-Keys in the order applied,
// one per request: a batch has one key.
func (s *Server) AppliedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// AppliedCount is the number of records applied, each record of a batch
// counted (in WithJSONBodies mode, the number of applied requests).
func (s *Server) AppliedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lean {
		return len(s.days)
	}
	return len(s.records)
}

// Requests is the number of requests received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Duplicates is the number of requests whose key was already applied.
func (s *Server) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.duplicates
}

// Attempts is the number of requests that carried key.
func (s *Server) Attempts(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[key].attempts
}

// Received returns a copy of every request received, in arrival order;
// nil in WithDayKeysOnly mode, which keeps no log.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lean {
		return nil
	}
	out := make([]Request, len(s.received))
	for i, r := range s.received {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		r.Records = slices.Clone(r.Records)
		out[i] = r
	}
	return out
}
