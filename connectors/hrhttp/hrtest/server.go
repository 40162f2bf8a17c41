package hrtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

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
	// Record is the decoded body; zero when the body did not decode, and
	// in WithJSONBodies mode.
	Record mapping.DayRecord
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

	mu         sync.Mutex
	received   []Request
	applied    map[string]mapping.DayRecord
	order      []string       // applied keys in the order they were applied
	attempts   map[string]int // attempts per Idempotency-Key, failed ones included
	duplicates int
	failures   failures
	token      string
	latency    time.Duration
	retryAfter string
	anyJSON    bool // WithJSONBodies
	envelope   bool // WithCodeEnvelope
	bodies     map[string][]byte
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

// NewServer starts a fake HR system on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		applied:    map[string]mapping.DayRecord{},
		bodies:     map[string][]byte{},
		attempts:   map[string]int{},
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

// Applied returns every applied day record, each once, in the order applied.
func (s *Server) Applied() []mapping.DayRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]mapping.DayRecord, len(s.order))
	for i, k := range s.order {
		out[i] = s.applied[k]
	}
	return out
}

// AppliedBodies returns the body of every applied request, each once, in
// the order applied.
func (s *Server) AppliedBodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.order))
	for i, k := range s.order {
		out[i] = append([]byte(nil), s.bodies[k]...)
	}
	return out
}

// AppliedKeys returns the applied Idempotency-Keys in the order applied.
func (s *Server) AppliedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// AppliedCount is the number of records applied.
func (s *Server) AppliedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// Requests is the number of requests received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
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
	return s.attempts[key]
}

// Received returns a copy of every request received, in arrival order.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.received))
	for i, r := range s.received {
		r.Header = r.Header.Clone()
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}
