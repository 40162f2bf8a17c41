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

// route wraps an API handler with what every DingTalk API does first:
// count, delay, injected failures, the QPS limit and the token check.
func (s *Server) route(api, method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[api]++
		s.mu.Unlock()
		if s.latency > 0 {
			t := time.NewTimer(s.latency)
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
			writeError(w, code, "")
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

// decodeBody reads a JSON request body. Unknown fields are ignored, as the
// platform ignores them.
func decodeBody(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}
