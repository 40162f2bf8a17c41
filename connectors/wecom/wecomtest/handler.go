package wecomtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"time"
)

// Platform error codes the fake answers with (B1, B3, B5, global codes).
const (
	CodeBusy              = -1
	CodeBadSecret         = 40001
	CodeBadCorpID         = 40013
	CodeInvalidToken      = 40014
	CodeBadParam          = 40058
	CodeMissingToken      = 41001
	CodeExpiredToken      = 42001
	CodeRateLimit         = 45009
	CodeConcurrency       = 45033
	CodeNoPermission      = 48002
	CodeUserNotFound      = 60111
	CodeApprovalBadParams = 301025
	CodeApprovalNoAccess  = 301055
	CodeCheckinSystem     = 301070
	CodeCheckinBadParams  = 301075
	CodeNarrowRange       = 301112
)

// errmsgs are the platform's messages; WeCom answers in English and
// appends a hint and a link to its error-code tool.
var errmsgs = map[int]string{
	CodeBusy:              "system busy",
	CodeBadSecret:         "invalid credential",
	CodeBadCorpID:         "invalid corpid",
	CodeInvalidToken:      "invalid access_token",
	CodeBadParam:          "invalid parameter",
	CodeMissingToken:      "access_token missing",
	CodeExpiredToken:      "access_token expired",
	CodeRateLimit:         "api freq out of limit",
	CodeConcurrency:       "api concurrent out of limit",
	CodeNoPermission:      "api forbidden",
	CodeUserNotFound:      "invalid userid",
	CodeApprovalBadParams: "invalid approval params",
	CodeApprovalNoAccess:  "no approval permission",
	CodeCheckinSystem:     "checkin system error",
	CodeCheckinBadParams:  "invalid checkin params",
	CodeNarrowRange:       "time range too wide, narrow it",
}

// perms says which permission each API needs and the code of a token
// without it; user/get is open to every app of the corp.
var perms = map[string]struct {
	perm Perm
	code int
}{
	APICheckinData:    {PermCheckin, CodeNoPermission},
	APIHardwareData:   {PermHardware, CodeNoPermission},
	APIUserListID:     {PermContacts, CodeNoPermission},
	APIStaffInfo:      {PermHR, CodeNoPermission},
	APIApprovalInfo:   {PermApproval, CodeApprovalNoAccess},
	APIApprovalDetail: {PermApproval, CodeApprovalNoAccess},
}

// route wraps an API handler with what every WeCom API does first: count,
// delay, injected failures, the concurrency and rate limits, and the
// token and permission check.
func (s *Server) route(api, method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[api]++
		delay := s.latency + s.apiDelay[api]
		s.inFlight[api]++
		s.peak[api] = max(s.peak[api], s.inFlight[api])
		crowded := s.maxInFlight[api] > 0 && s.inFlight[api] > s.maxInFlight[api]
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight[api]--
			s.mu.Unlock()
		}()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if r.Method != method {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if code, ok := s.nextFailure(api); ok {
			if code >= 500 && code <= 599 {
				http.Error(w, http.StatusText(code), code)
				return
			}
			s.fail(w, api, code, "")
			return
		}
		if crowded {
			s.fail(w, api, CodeConcurrency, "")
			return
		}
		if s.overLimit(api) {
			s.fail(w, api, CodeRateLimit, "")
			return
		}
		if api != APIGetToken {
			if code := s.checkToken(api, r.URL.Query().Get("access_token")); code != 0 {
				s.fail(w, api, code, "")
				return
			}
		}
		h(w, r)
	})
}

func (s *Server) nextFailure(api string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.failures[api]
	if len(q) == 0 {
		return 0, false
	}
	s.failures[api] = q[1:]
	return q[0], true
}

// overLimit applies api's per-minute limit on the server's clock over a
// sliding minute. The call that goes over blocks the API for a minute;
// refused calls do not count.
func (s *Server) overLimit(api string) bool {
	n := s.perMinute[api]
	if n <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Before(s.blocked[api]) {
		return true
	}
	h := s.hits[api]
	for len(h) > 0 && now.Sub(h[0]) >= time.Minute {
		h = h[1:]
	}
	if len(h) >= n {
		s.hits[api] = h
		s.blocked[api] = now.Add(time.Minute)
		return true
	}
	s.hits[api] = append(h, now)
	return false
}

// checkToken returns the errcode for a call of api with tok, 0 if it may
// proceed.
func (s *Server) checkToken(api, tok string) int {
	if tok == "" {
		return CodeMissingToken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	switch {
	case !ok:
		return CodeInvalidToken
	case !s.now().Before(t.expires):
		return CodeExpiredToken
	}
	if need, ok := perms[api]; ok && !slices.Contains(t.perms, need.perm) {
		return need.code
	}
	return 0
}

// getToken serves GET gettoken: one token per app secret; within its life
// the same token comes back with its remaining life.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	corp := s.company.CorpID
	s.mu.Unlock()
	if q.Get("corpid") != corp {
		s.fail(w, APIGetToken, CodeBadCorpID, "")
		return
	}
	secret := q.Get("corpsecret")
	i := slices.IndexFunc(s.apps, func(a App) bool { return a.Secret == secret })
	if secret == "" || i < 0 {
		s.fail(w, APIGetToken, CodeBadSecret, "")
		return
	}
	s.mu.Lock()
	now := s.now()
	tok := s.current[secret]
	if t, ok := s.tokens[tok]; !ok || !now.Before(t.expires) {
		s.issued++
		s.nextToken++
		sum := sha256.Sum256([]byte(secret + "/" + strconv.Itoa(s.nextToken)))
		tok = hex.EncodeToString(sum[:24])
		s.current[secret] = tok
		s.tokens[tok] = issued{secret: secret, perms: s.apps[i].Perms, expires: now.Add(s.ttl)}
	}
	life := s.tokens[tok].expires.Sub(now)
	s.mu.Unlock()
	s.ok(w, APIGetToken, map[string]any{"access_token": tok, "expires_in": int(life / time.Second)})
}

// ok answers errcode 0 with the payload's fields.
func (s *Server) ok(w http.ResponseWriter, api string, payload map[string]any) {
	s.record(api, 0)
	out := map[string]any{"errcode": 0, "errmsg": "ok"}
	for k, v := range payload {
		out[k] = v
	}
	writeJSON(w, out)
}

// fail answers a platform error inside HTTP 200, as WeCom does; detail,
// when set, is added to the standard message.
func (s *Server) fail(w http.ResponseWriter, api string, code int, detail string) {
	s.record(api, code)
	msg := errmsgs[code]
	if msg == "" {
		msg = "error " + strconv.Itoa(code)
	}
	if detail != "" {
		msg += ": " + detail
	}
	msg += fmt.Sprintf(", hint: [fake-%d], more info at https://open.work.weixin.qq.com/devtool/query?e=%d", code, code)
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (s *Server) record(api string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answers[api] == nil {
		s.answers[api] = map[int]int{}
	}
	s.answers[api][code]++
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away; nothing useful is left to do.
		return
	}
}

// decodeBody reads a JSON request body. Unknown fields are ignored, as the
// platform ignores them.
func decodeBody(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}

// inProcess serves requests with a handler, without a network.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
