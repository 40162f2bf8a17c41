package wecomtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// API names, as Calls, FailNext and the options take them: the path below
// /cgi-bin/.
const (
	APIGetToken       = "gettoken"
	APICheckinData    = "checkin/getcheckindata"
	APIHardwareData   = "hardware/get_hardware_checkin_data"
	APIUserListID     = "user/list_id"
	APIUserGet        = "user/get"
	APIStaffInfo      = "hr/get_staff_info"
	APIApprovalInfo   = "oa/getapprovalinfo"
	APIApprovalDetail = "oa/getapprovaldetail"
)

// Default credentials of the fake corp's apps.
const (
	DefaultCheckinSecret  = "fake-checkin-secret-0123456789abcdef"
	DefaultApprovalSecret = "fake-approval-secret-0123456789abcdef"
	DefaultContactsSecret = "fake-contacts-secret-0123456789abcdef"
)

// DefaultTokenTTL is the life of an access token, as on WeCom.
const DefaultTokenTTL = 7200 * time.Second

// Perm is what an app may call.
type Perm string

// Permissions, as the admin console grants them (B1).
const (
	PermCheckin  Perm = "checkin"  // 打卡 - 可调用接口的应用: getcheckindata
	PermHardware Perm = "hardware" // the same list, for device punches
	PermApproval Perm = "approval" // 审批 - 可调用接口的应用
	PermContacts Perm = "contacts" // the 通讯录同步 secret: user/list_id
	PermHR       Perm = "hr"       // 人事助手 - 可调用接口的应用
)

// App is one app secret and its permissions.
type App struct {
	Secret string
	Perms  []Perm
}

// DefaultApps are the apps of the fake corp unless WithApps says
// otherwise: a check-in app that may also read device punches and the
// roster, an approval app and the contacts secret.
func DefaultApps() []App {
	return []App{
		{Secret: DefaultCheckinSecret, Perms: []Perm{PermCheckin, PermHardware, PermHR}},
		{Secret: DefaultApprovalSecret, Perms: []Perm{PermApproval}},
		{Secret: DefaultContactsSecret, Perms: []Perm{PermContacts}},
	}
}

// Option configures a Server.
type Option func(*Server)

// WithCompany sets the company the server serves (default: an empty one).
func WithCompany(c Company) Option { return func(s *Server) { s.company = c.clone() } }

// WithApps replaces the corp's apps.
func WithApps(apps ...App) Option { return func(s *Server) { s.apps = apps } }

// WithTokenTTL sets how long an issued token stays valid (default 7200 s).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithClock sets the clock that decides token expiry, rate windows and
// what the company has done by now (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRateLimit limits api to n calls per minute of the server's clock.
// A call over the limit gets 45009 and blocks the API for a minute, as
// WeCom blocks a minute-level limit for 60 s (B5).
func WithRateLimit(api string, n int) Option { return func(s *Server) { s.perMinute[api] = n } }

// WithMaxConcurrent answers 45033 to a call of api while n others are in
// flight.
func WithMaxConcurrent(api string, n int) Option { return func(s *Server) { s.maxInFlight[api] = n } }

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithAPILatency delays the answers of api by d (on top of WithLatency).
func WithAPILatency(api string, d time.Duration) Option {
	return func(s *Server) { s.apiDelay[api] = d }
}

// WithApprovalRangeCap answers 301112 (narrow the time range) to a
// getapprovalinfo range that holds more than n approvals; 0 means no cap.
func WithApprovalRangeCap(n int) Option { return func(s *Server) { s.rangeCap = n } }

// Server is a running fake WeCom. Its methods are safe for concurrent use.
type Server struct {
	ts          *httptest.Server
	mux         *http.ServeMux
	apps        []App
	ttl         time.Duration
	now         func() time.Time
	latency     time.Duration
	perMinute   map[string]int
	maxInFlight map[string]int
	rangeCap    int

	mu        sync.Mutex
	company   Company
	idx       index
	tokens    map[string]issued // token → what it is
	current   map[string]string // secret → its newest token
	issued    int
	calls     map[string]int
	answers   map[string]map[int]int
	failures  map[string][]int
	apiDelay  map[string]time.Duration
	hits      map[string][]time.Time
	blocked   map[string]time.Time
	inFlight  map[string]int
	peak      map[string]int
	cursors   map[string]cursor
	nextToken int
}

// issued is one access token.
type issued struct {
	secret  string
	perms   []Perm
	expires time.Time
}

// New builds a fake WeCom without a listener: serve it with ServeHTTP or
// Transport, or call Start.
func New(opts ...Option) *Server {
	s := &Server{
		apps:        DefaultApps(),
		ttl:         DefaultTokenTTL,
		now:         time.Now,
		perMinute:   map[string]int{},
		maxInFlight: map[string]int{},
		company:     Company{CorpID: DefaultCorpID},
		tokens:      map[string]issued{},
		current:     map[string]string{},
		calls:       map[string]int{},
		answers:     map[string]map[int]int{},
		failures:    map[string][]int{},
		apiDelay:    map[string]time.Duration{},
		hits:        map[string][]time.Time{},
		blocked:     map[string]time.Time{},
		inFlight:    map[string]int{},
		peak:        map[string]int{},
		cursors:     map[string]cursor{},
	}
	for _, o := range opts {
		o(s)
	}
	s.reindex()
	mux := http.NewServeMux()
	mux.Handle("/cgi-bin/"+APIGetToken, s.route(APIGetToken, http.MethodGet, s.getToken))
	mux.Handle("/cgi-bin/"+APICheckinData, s.route(APICheckinData, http.MethodPost, s.checkinData))
	mux.Handle("/cgi-bin/"+APIHardwareData, s.route(APIHardwareData, http.MethodPost, s.hardwareData))
	mux.Handle("/cgi-bin/"+APIUserListID, s.route(APIUserListID, http.MethodPost, s.userListID))
	mux.Handle("/cgi-bin/"+APIUserGet, s.route(APIUserGet, http.MethodGet, s.userGet))
	mux.Handle("/cgi-bin/"+APIStaffInfo, s.route(APIStaffInfo, http.MethodPost, s.staffInfo))
	mux.Handle("/cgi-bin/"+APIApprovalInfo, s.route(APIApprovalInfo, http.MethodPost, s.approvalInfo))
	mux.Handle("/cgi-bin/"+APIApprovalDetail, s.route(APIApprovalDetail, http.MethodPost, s.approvalDetail))
	s.mux = mux
	return s
}

// NewServer starts a fake WeCom on loopback. Close it when done.
func NewServer(opts ...Option) *Server {
	s := New(opts...)
	s.Start()
	return s
}

// Start serves s on loopback.
func (s *Server) Start() { s.ts = httptest.NewServer(s.mux) }

// ServeHTTP serves one request in process.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// URL is the base URL to configure as the connector's base_url: the
// loopback address once started, else a placeholder that Transport
// serves.
func (s *Server) URL() string {
	if s.ts == nil {
		return "http://qyapi.wecomtest.invalid"
	}
	return s.ts.URL
}

// Transport returns a RoundTripper that serves every request in process,
// whatever its host: put it in connectors.Deps.Transport.
func (s *Server) Transport() http.RoundTripper { return inProcess{s.mux} }

// Close shuts a started server down and blocks until its requests are
// done.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// CorpID returns the served company's corp id.
func (s *Server) CorpID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.company.CorpID
}

// Company returns a copy of the served company, changes after start
// included.
func (s *Server) Company() Company {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.company.clone()
}

// Calls returns how many requests reached api, failed ones included.
func (s *Server) Calls(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[api]
}

// Answers returns how many answers to api carried errcode code.
func (s *Server) Answers(api string, code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answers[api][code]
}

// PeakInFlight returns the most calls of api that were in flight at once.
func (s *Server) PeakInFlight(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak[api]
}

// TokensIssued returns how many distinct access tokens gettoken issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// FailNext makes the next n calls of api fail with errcode: an HTTP status
// for 500–599, otherwise a platform error inside HTTP 200 (-1 busy,
// 301070 check-in system error, 45009, 40014, ...).
func (s *Server) FailNext(api string, errcode, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failures[api] = append(s.failures[api], errcode)
	}
}

// SetLatency delays the answers of api by d (0 removes the delay).
func (s *Server) SetLatency(api string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiDelay[api] = d
}

// RevokeTokens forgets every issued token, so the next call with one gets
// 40014, as when WeCom invalidates tokens early (B1).
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]issued{}
	s.current = map[string]string{}
}

// AddDevicePunches adds machine punches after start, as a device that was
// offline uploads them. One with Recorded also becomes a check-in row of
// its type, visible from its upload, and a 未打卡 marker at the same user
// and scheduled time disappears then.
func (s *Server) AddDevicePunches(ps ...DevicePunch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		s.company.addDevicePunch(p)
	}
	s.reindex()
}

// SetApprovalStatus changes an approval's status at time at, as an
// approver's decision does, and reports whether the approval exists.
func (s *Server) SetApprovalStatus(spNo string, status int, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.company.Approvals {
		if a := &s.company.Approvals[i]; a.SpNo == spNo {
			a.Status, a.DecidedAt = status, at
			s.reindex()
			return true
		}
	}
	return false
}

// Approval returns the approval spNo.
func (s *Server) Approval(spNo string) (Approval, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.idx.approvals[spNo]
	if !ok {
		return Approval{}, false
	}
	return s.company.Approvals[a], true
}
