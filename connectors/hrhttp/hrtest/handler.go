package hrtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// maxBody bounds a request body; a day record is a few hundred bytes.
const maxBody = 1 << 20

// answer is what the server replies to one request.
type answer struct {
	status     int
	outcome    string
	body       any
	retryAfter string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	req := Request{
		Method:         r.Method,
		Path:           r.URL.Path,
		Header:         r.Header.Clone(),
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Body:           body,
	}
	var a answer
	switch {
	case err != nil:
		a = invalid(http.StatusBadRequest, "read body: "+err.Error())
	case len(body) > maxBody:
		a = invalid(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBody))
	default:
		a = s.handle(r, body, &req)
	}

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	if s.envelope {
		a = enveloped(a)
	}
	w.Header().Set("Content-Type", "application/json")
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// handle validates and applies one request and records it, all under the
// lock so that two concurrent attempts with one key cannot both apply.
func (s *Server) handle(r *http.Request, body []byte, req *Request) answer {
	a := s.check(r, body, req)

	s.mu.Lock()
	defer s.mu.Unlock()
	if a.status == 0 {
		a = s.applyLocked(r, req)
	}
	req.Status, req.Outcome = a.status, a.outcome
	s.received = append(s.received, *req)
	return a
}

// applyLocked injects the configured failures and otherwise applies the
// well-formed request once per Idempotency-Key. s.mu is held.
func (s *Server) applyLocked(r *http.Request, req *Request) answer {
	if f := s.failures.always; f != 0 {
		return s.injected(f)
	}
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		return answer{status: http.StatusUnauthorized, outcome: "unauthorized",
			body: errorBody("missing or wrong bearer token")}
	}

	key := req.IdempotencyKey
	s.attempts[key]++
	failing := s.attempts[key] <= s.failures.first
	if failing && !s.failures.applyFirst {
		return s.injected(s.failures.firstStatus)
	}
	var a answer
	if _, seen := s.applied[key]; seen {
		s.duplicates++
		a = answer{status: http.StatusOK, outcome: "duplicate",
			body: map[string]string{"status": "duplicate", "idempotency_key": key}}
	} else {
		s.applied[key] = req.Record
		s.bodies[key] = req.Body
		s.order = append(s.order, key)
		a = answer{status: http.StatusCreated, outcome: "applied",
			body: map[string]string{"status": "applied", "idempotency_key": key}}
	}
	if failing {
		// The record is committed; only the answer is lost.
		return s.injected(s.failures.firstStatus)
	}
	return a
}

// check validates the request shape and decodes the record into req. It
// returns a zero answer when the request is well formed.
func (s *Server) check(r *http.Request, body []byte, req *Request) answer {
	if r.URL.Path != Path {
		return invalid(http.StatusNotFound, "no such endpoint "+r.URL.Path+"; day records go to "+Path)
	}
	if r.Method != http.MethodPost {
		return invalid(http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use POST")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return invalid(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	if req.IdempotencyKey == "" {
		return invalid(http.StatusBadRequest, "Idempotency-Key header is required")
	}
	if s.anyJSON {
		if t := bytes.TrimSpace(body); !json.Valid(t) || len(t) == 0 || (t[0] != '{' && t[0] != '[') {
			return invalid(http.StatusBadRequest, "body is not a JSON object or array")
		}
		return answer{}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req.Record); err != nil {
		req.Record = mapping.DayRecord{}
		return invalid(http.StatusBadRequest, "body is not a day record: "+err.Error())
	}
	if msg := validRecord(req.Record); msg != "" {
		return invalid(http.StatusUnprocessableEntity, msg)
	}
	return answer{}
}

// validRecord checks what an HR system needs to file a day; it returns
// what is wrong, or "".
func validRecord(d mapping.DayRecord) string {
	switch {
	case d.Schema != mapping.DaySchema:
		return fmt.Sprintf("schema %q: want %q", d.Schema, mapping.DaySchema)
	case d.EmployeeID == "":
		return "employee_id is required"
	case d.Version < 1:
		return "version " + strconv.Itoa(d.Version) + ": must be 1 or more"
	}
	if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
		return fmt.Sprintf("date %q: want YYYY-MM-DD", d.Date)
	}
	return ""
}

// injected is the answer of an injected failure; 429 and 503 carry
// Retry-After as real servers send it.
func (s *Server) injected(status int) answer {
	a := answer{status: status, outcome: "injected_failure",
		body: errorBody(http.StatusText(status) + " (injected)")}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		a.retryAfter = s.retryAfter
	}
	return a
}

func invalid(status int, msg string) answer {
	return answer{status: status, outcome: "invalid", body: errorBody(msg)}
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

// enveloped turns an answer into the HTTP 200 {"code", "msg"} form.
func enveloped(a answer) answer {
	msg := "ok"
	code := 0
	if a.outcome != "applied" && a.outcome != "duplicate" {
		code = a.status
		msg = http.StatusText(a.status)
		if m, ok := a.body.(map[string]string); ok && m["error"] != "" {
			msg = m["error"]
		}
	}
	return answer{status: http.StatusOK, outcome: a.outcome, body: map[string]any{"code": code, "msg": msg}}
}
