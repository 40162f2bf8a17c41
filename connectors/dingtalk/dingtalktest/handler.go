package dingtalktest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// route wraps an oapi handler with what every DingTalk API does first:
// count, delay, injected failures, the IP block, the QPS limit and the
// token check.
func (s *Server) route(api, method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.begin(w, r, api, method) {
			return
		}
		if f, ok := s.nextFailure(api); ok {
			if f.errcode >= 500 && f.errcode <= 599 {
				http.Error(w, http.StatusText(f.errcode), f.errcode)
				return
			}
			writeError(w, f.errcode, "")
			return
		}
		if s.overQPS(api) {
			writeError(w, CodeAppQPS, "")
			return
		}
		if api != APIGetToken {
			if code := s.checkToken(r.URL.Query().Get("access_token")); code != 0 {
				writeError(w, code, "")
				return
			}
		}
		h(w, r)
	})
}

// routeV1 wraps a v1.0 handler: the same steps, with v1.0 errors (an HTTP
// status and a code string) and the token in the x-acs-dingtalk-access-token
// header when token is set.
func (s *Server) routeV1(api, method string, token bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.begin(w, r, api, method) {
			return
		}
		if f, ok := s.nextFailure(api); ok {
			status, code := f.status, f.v1code
			if code == "" {
				status, code = v1Failure(f.errcode)
			}
			writeV1Error(w, status, code, "")
			return
		}
		if s.overQPS(api) {
			writeV1Error(w, http.StatusForbidden, V1QPSLimit, "")
			return
		}
		if token {
			if code := s.checkToken(r.Header.Get(TokenHeader)); code != 0 {
				writeV1Error(w, http.StatusBadRequest, V1InvalidAuth, errmsgs[code])
				return
			}
		}
		h(w, r)
	})
}

// begin counts a call, delays it, checks its method and serves the IP
// block; it reports whether the handler should go on.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, api, method string) bool {
	s.mu.Lock()
	s.calls[api]++
	blocked := s.blocks > 0
	if blocked {
		s.blocks--
	}
	s.mu.Unlock()
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
	if r.Method != method {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	if blocked {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"status":1111,"wait":5,"source":"x5","punish":"deny","uuid":"fake-block"}`))
		return false
	}
	return true
}

// v1Failure is the v1.0 form of an oapi errcode FailNext was given.
func v1Failure(errcode int) (int, string) {
	switch {
	case errcode >= 500 && errcode <= 599:
		return errcode, "ServiceUnavailable"
	case errcode == CodeBusy:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	case errcode == CodeAppQPS:
		return http.StatusForbidden, V1QPSLimit
	case errcode == CodeGlobalQPS:
		return http.StatusForbidden, V1GlobalQPSLimit
	case errcode == CodeMonthlyQuota:
		return http.StatusForbidden, V1Quota
	case errcode == CodeInvalidToken, errcode == CodeExpiredToken, errcode == CodeMissingToken:
		return http.StatusBadRequest, V1InvalidAuth
	}
	return http.StatusBadRequest, "InvalidParameter"
}

func (s *Server) nextFailure(api string) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.failures[api]
	if len(q) == 0 {
		return failure{}, false
	}
	s.failures[api] = q[1:]
	return q[0], true
}

// overQPS applies the per-API limit over a sliding wall-clock second;
// refused calls do not use up the window.
func (s *Server) overQPS(api string) bool {
	if s.qps <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	h := s.hits[api]
	for len(h) > 0 && now.Sub(h[0]) >= time.Second {
		h = h[1:]
	}
	if len(h) >= s.qps {
		s.hits[api] = h
		return true
	}
	s.hits[api] = append(h, now)
	return false
}

func (s *Server) checkToken(tok string) int {
	if tok == "" {
		return CodeMissingToken
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	switch {
	case !ok:
		return CodeInvalidToken
	case !s.now().Before(exp):
		return CodeExpiredToken
	}
	return 0
}

// getToken serves GET /gettoken. Within a token's life the same token comes
// back with its life extended; after expiry a new one is issued.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("appkey") != s.appKey || q.Get("appsecret") != s.appSecret {
		writeError(w, CodeBadSecret, "")
		return
	}
	s.mu.Lock()
	now := s.now()
	if exp, ok := s.tokens[s.current]; !ok || !now.Before(exp) {
		s.issued++
		sum := sha256.Sum256([]byte(s.appKey + "/" + strconv.Itoa(s.issued)))
		s.current = hex.EncodeToString(sum[:16])
	}
	s.tokens[s.current] = now.Add(s.ttl)
	tok := s.current
	s.mu.Unlock()
	writeJSON(w, map[string]any{
		"errcode":      0,
		"errmsg":       "ok",
		"access_token": tok,
		"expires_in":   int(s.ttl / time.Second),
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away; nothing useful is left to do.
		return
	}
}

// writeError answers with a platform error inside HTTP 200, as DingTalk
// does. detail, when set, is appended to the standard message.
func writeError(w http.ResponseWriter, code int, detail string) {
	msg := errmsgs[code]
	if msg == "" {
		msg = fmt.Sprintf("错误%d", code)
	}
	if detail != "" {
		msg += ": " + detail
	}
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg, "request_id": "fake" + strconv.Itoa(code)})
}

// writeV1Error answers as the v1.0 APIs do: an HTTP status and a JSON body
// with code and message. The field names are the ones believed right (the
// reference marks them unverified); the connector reads either case.
func writeV1Error(w http.ResponseWriter, status int, code, msg string) {
	if msg == "" {
		msg = v1msgs[code]
	}
	if msg == "" {
		msg = code
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "requestid": "fake-" + code})
}

// decodeBody reads a JSON request body. Unknown fields are ignored, as the
// platform ignores them.
func decodeBody(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}
