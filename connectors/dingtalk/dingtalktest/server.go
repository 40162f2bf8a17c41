package dingtalktest

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"time"
)

// API names, as Calls and FailNext take them: the request path without the
// leading slash.
const (
	APIGetToken    = "gettoken"
	APIListRecord  = "attendance/listRecord"
	APIListSubDept = "topapi/v2/department/listsubid"
	APIUserList    = "topapi/v2/user/list"
	// v1.0 APIs (api.dingtalk.com): the token travels in the
	// x-acs-dingtalk-access-token header and errors are an HTTP status
	// with a code string.
	APIInstanceIDs = "v1.0/workflow/processes/instanceIds/query"
	APIInstance    = "v1.0/workflow/processInstances"
	APIGateway     = "v1.0/gateway/connections/open"
)

// Default credentials the fake accepts unless WithCredentials says
// otherwise.
const (
	DefaultAppKey    = "dingfakeappkey"
	DefaultAppSecret = "fake-app-secret-0123456789abcdef"
)

// DefaultTokenTTL is the life of an access token, as on DingTalk.
const DefaultTokenTTL = 7200 * time.Second

// Platform error codes the fake answers with.
const (
	CodeBusy          = -1
	CodeBadSecret     = 40001
	CodeInvalidToken  = 40014
	CodeIllegalParam  = 40035
	CodeMissingToken  = 41001
	CodeExpiredToken  = 42001
	CodeDeptNotFound  = 60003
	CodeGlobalQPS     = 90002
	CodeAppQPS        = 90018
	CodeMonthlyQuota  = 90020
	CodeInvalidParams = 400002
)

// v1.0 error codes the fake answers with (platform API reference A1, A5).
const (
	V1InvalidAuth    = "InvalidAuthentication"
	V1QPSLimit       = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	V1GlobalQPSLimit = "Forbidden.AccessDenied.QpsLimitForApi"
	V1Quota          = "Forbidden.AccessDenied.ApiCountLimitForOrg"
	V1BadSecret      = "invalidClientIdOrSecret"
	V1BadParameter   = "InvalidParameter"
	V1NoInstance     = "InstanceNotExist"
)

// TokenHeader carries the access token of the v1.0 APIs.
const TokenHeader = "x-acs-dingtalk-access-token"

var v1msgs = map[string]string{
	V1InvalidAuth:    "不合法的access_token",
	V1QPSLimit:       "应用调用该接口的QPS超过限制",
	V1GlobalQPSLimit: "接口调用超过全局QPS限制",
	V1Quota:          "企业调用该接口的月调用量超过限制",
	V1BadSecret:      "无效的clientId或clientSecret",
}

// errmsgs are the platform's messages for its codes. The QPS and quota
// wordings are not in the reference copy of the docs; they paraphrase the
// throttling page.
var errmsgs = map[int]string{
	CodeBusy:          "系统繁忙",
	CodeBadSecret:     "获取access_token时Secret错误，或者access_token无效",
	CodeInvalidToken:  "不合法的access_token",
	CodeIllegalParam:  "参数非法",
	CodeMissingToken:  "缺少access_token参数",
	CodeExpiredToken:  "access_token超时",
	CodeDeptNotFound:  "未找到对应部门",
	CodeGlobalQPS:     "接口调用超过全局QPS限制",
	CodeAppQPS:        "应用调用该接口的QPS超过限制",
	CodeMonthlyQuota:  "企业调用该接口的月调用量超过限制",
	CodeInvalidParams: "无效的参数",
}

// Option configures a Server.
type Option func(*Server)

// WithCompany sets the company the server serves (default: an empty one
// with only the root department). The server keeps its own copy, so the
// caller may go on using c.
func WithCompany(c Company) Option {
	return func(s *Server) {
		recs := c.Records
		c.Records = nil
		s.company, s.recs = c.clone(), newRecords()
		for _, r := range recs {
			s.recs.add(r)
		}
	}
}

// WithGeneratedCompany is WithCompany(GenerateCompany(seed, employees, from,
// days, opts...)) without the copy: the server generates the company itself
// and keeps each record packed as it is made, so a large company sits in
// memory once, in about two fifths of the room. Read it
// back with Users, WorkDays, RecordCount or Company.
func WithGeneratedCompany(seed int64, employees int, from time.Time, days int, opts ...GenOption) Option {
	return func(s *Server) {
		recs := newRecords()
		s.company = generateCompany(seed, employees, from, days, opts, func(userDays int) {
			recs.recs = make([]packedRecord, 0, recordsCap(userDays))
		}, recs.add)
		s.recs = recs
	}
}

// WithCredentials sets the app key and secret gettoken accepts.
func WithCredentials(appKey, appSecret string) Option {
	return func(s *Server) { s.appKey, s.appSecret = appKey, appSecret }
}

// WithTokenTTL sets how long an issued token stays valid (default 7200 s).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithClock sets the clock that decides token expiry and the 180-day
// look-back limit (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithQPS limits each API to n calls per wall-clock second; calls over the
// limit get errcode 90018. 0 means no limit.
func WithQPS(n int) Option { return func(s *Server) { s.qps = n } }

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// Server is a running fake DingTalk. Its methods are safe for concurrent
// use.
type Server struct {
	ts        *httptest.Server
	done      chan struct{} // closed by Close: ends Stream connections
	appKey    string
	appSecret string
	ttl       time.Duration
	now       func() time.Time
	qps       int
	latency   time.Duration

	mu       sync.Mutex
	company  Company            // without its Records, which are in recs
	recs     *records           // the company's records, and those added since
	byUser   map[string][]int32 // per user, indexes into recs by CheckTime, then ID
	dupes    map[int64]bool
	tokens   map[string]time.Time // token → expiry
	current  string               // the app's newest token
	issued   int
	calls    map[string]int
	failures map[string][]failure
	blocks   int // calls left that get the IP block answer
	hits     map[string][]time.Time
	instByID map[string]int // index into company.Instances
	stream   *streamHub

	// answers holds the buffers listRecord writes its answers in, so that
	// an answer of hundreds of records does not grow a new one each time.
	answers sync.Pool
}

// failure is one injected answer.
type failure struct {
	errcode int    // an oapi errcode, or 500–599 for an HTTP status
	status  int    // v1.0: the HTTP status
	v1code  string // v1.0: the code string
}

// NewServer starts a fake DingTalk on loopback. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		appKey:    DefaultAppKey,
		appSecret: DefaultAppSecret,
		ttl:       DefaultTokenTTL,
		now:       time.Now,
		company:   Company{CorpID: DefaultCorpID, Depts: []Dept{{ID: RootDept, Name: "总公司"}}},
		recs:      newRecords(),
		dupes:     map[int64]bool{},
		tokens:    map[string]time.Time{},
		calls:     map[string]int{},
		failures:  map[string][]failure{},
		hits:      map[string][]time.Time{},
		done:      make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.indexInstances()
	s.indexRecords()
	mux := http.NewServeMux()
	mux.Handle("/"+APIGetToken, s.route(APIGetToken, http.MethodGet, s.getToken))
	mux.Handle("/"+APIListRecord, s.route(APIListRecord, http.MethodPost, s.listRecord))
	mux.Handle("/"+APIListSubDept, s.route(APIListSubDept, http.MethodPost, s.listSubDept))
	mux.Handle("/"+APIUserList, s.route(APIUserList, http.MethodPost, s.userList))
	mux.Handle("/"+APIInstanceIDs, s.routeV1(APIInstanceIDs, http.MethodPost, true, s.instanceIDs))
	mux.Handle("/"+APIInstance, s.routeV1(APIInstance, http.MethodGet, true, s.instance))
	mux.Handle("/"+APIGateway, s.routeV1(APIGateway, http.MethodPost, false, s.openConnection))
	mux.HandleFunc("/"+streamPath, s.streamSocket)
	s.stream = newStreamHub()
	s.ts = httptest.NewServer(mux)
	return s
}

// URL is the base URL to configure as the connector's base_url.
func (s *Server) URL() string { return s.ts.URL }

// Close shuts the server down, Stream connections included, and blocks
// until its requests are done.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.mu.Unlock()
	s.ts.Close()
}

// AppKey returns the app key the server accepts.
func (s *Server) AppKey() string { return s.appKey }

// AppSecret returns the app secret the server accepts.
func (s *Server) AppSecret() string { return s.appSecret }

// CorpID returns the served company's corp id.
func (s *Server) CorpID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.company.CorpID
}

// Company returns a copy of the served company, records added after start
// included. It copies every record; for a large company, Users, WorkDays
// and RecordCount give the rest without that copy.
func (s *Server) Company() Company {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.company.clone()
	c.Records = s.recs.all()
	return c
}

// Users returns a copy of the served company's users, in directory order.
// Unlike Company it leaves the records alone, which matters for a large
// company.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.company.Users))
	for i, u := range s.company.Users {
		u.Depts = append([]int64(nil), u.Depts...)
		out[i] = u
	}
	return out
}

// WorkDays returns a copy of the served company's work days as
// YYYY-MM-DD.
func (s *Server) WorkDays() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.company.WorkDays...)
}

// RecordCount is the number of distinct records the server holds.
func (s *Server) RecordCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs.len()
}

// Calls returns how many requests reached api, failed ones included.
func (s *Server) Calls(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[api]
}

// TokensIssued returns how many distinct access tokens gettoken has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// FailNext makes the next n calls of api fail with errcode: an HTTP status
// for 500–599, otherwise a platform error inside HTTP 200 (-1 busy, 90018
// QPS, 40014 token, ...). A v1.0 API answers the v1.0 form of the code:
// 90018 and 90002 are HTTP 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi
// and ...QpsLimitForApi, 90020 is 403 ...ApiCountLimitForOrg, 40014 and
// 42001 are 400 InvalidAuthentication, -1 is 503 ServiceUnavailable.
func (s *Server) FailNext(api string, errcode, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failures[api] = append(s.failures[api], failure{errcode: errcode})
	}
}

// FailNextV1 makes the next n calls of a v1.0 api answer HTTP status with
// the error code.
func (s *Server) FailNextV1(api string, status int, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failures[api] = append(s.failures[api], failure{status: status, v1code: code})
	}
}

// BlockIP makes the next n calls, of any API, get the per-IP block answer:
// HTTP 403 with {"status":1111,"wait":5,...}, the shape the platform's
// throttling page shows (its HTTP status is not documented).
func (s *Server) BlockIP(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocks += n
}

// RevokeTokens forgets every issued token, so the next call with one gets
// 40014, as after the app's secret was reset.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
	s.current = ""
}

// AddRecords adds punches after start, as late uploads from an offline
// device arrive. A record with ID 0 gets the next free id.
func (s *Server) AddRecords(recs ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maxID := int64(0)
	for i := range s.recs.len() {
		id, _, _ := s.recs.key(i)
		maxID = max(maxID, id)
	}
	for _, r := range recs {
		if r.ID == 0 {
			maxID++
			r.ID = maxID
		}
		maxID = max(maxID, r.ID)
		s.recs.add(r)
	}
	s.indexRecords()
}

// Duplicate marks n records, spread evenly over the company's records, to
// be served twice: each is repeated at the end of every listRecord answer
// that contains it. It returns how many records are marked in total.
func (s *Server) Duplicate(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := s.recs.len()
	n = min(n, total)
	for i := 0; i < n; i++ {
		id, _, _ := s.recs.key(i * total / n)
		s.dupes[id] = true
	}
	return len(s.dupes)
}

// Duplicated returns how many records are served twice.
func (s *Server) Duplicated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dupes)
}

// indexInstances rebuilds instByID; the caller holds mu (or owns s).
func (s *Server) indexInstances() {
	s.instByID = make(map[string]int, len(s.company.Instances))
	for i, in := range s.company.Instances {
		s.instByID[in.ID] = i
	}
}

// indexRecords rebuilds byUser; the caller holds mu (or owns s). int32
// indexes halve the index of a []int and are ample: 2³¹ records would
// take hundreds of gigabytes.
func (s *Server) indexRecords() {
	recs := s.recs.recs
	s.byUser = map[string][]int32{}
	for i := range recs {
		_, user, _ := s.recs.key(i)
		s.byUser[user] = append(s.byUser[user], int32(i))
	}
	for _, idx := range s.byUser {
		sort.Slice(idx, func(i, j int) bool {
			a, b := &recs[idx[i]], &recs[idx[j]]
			if a.check != b.check {
				return a.check < b.check
			}
			return a.id < b.id
		})
	}
}
