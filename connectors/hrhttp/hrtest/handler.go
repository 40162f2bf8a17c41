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

// maxBody bounds a request body; a day record is a few hundred bytes, so
// even a batch of the largest size a sink sends (1000) fits.
const maxBody = 1 << 20

// answer is what the server replies to one request.
type answer struct {
	status     int
	outcome    string
	body       any
	retryAfter string
}

// The answer bodies are structs rather than maps: cheaper to encode, and
// their fields are in the order a map's sorted keys would give.
type (
	statusBody struct {
		IdempotencyKey string `json:"idempotency_key"`
		Status         string `json:"status"`
	}
	errBody struct {
		Error string `json:"error"`
	}
	envelopeBody struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	req := Request{
		Method:         r.Method,
		Path:           r.URL.Path,
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Body:           body,
	}
	if !s.lean {
		req.Header = r.Header.Clone()
	}
	var a answer
	switch {
	case err != nil:
		a = invalid(http.StatusBadRequest, "read body: "+err.Error())
	case len(body) > maxBody:
		a = invalid(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBody))
	default:
		a = s.check(r, body, &req)
	}
	a = s.settle(r, &req, a)

	// latency is set by an option before the server starts, so it is read
	// without the lock.
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
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

// readBody reads at most maxBody+1 bytes of the body: in one allocation
// when the client announced the length, as the sink does.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= maxBody {
		b := make([]byte, n)
		_, err := io.ReadFull(r.Body, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(r.Body, maxBody+1))
}

// settle applies a well-formed request (a is zero) and counts and records
// every request, all under the lock so that two concurrent attempts with
// one key cannot both apply.
func (s *Server) settle(r *http.Request, req *Request, a answer) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if a.status == 0 {
		a = s.applyLocked(r, req)
	}
	if !s.lean {
		req.Status, req.Outcome = a.status, a.outcome
		s.received = append(s.received, *req)
	}
	return a
}

// applyLocked injects the configured failures and otherwise applies the
// well-formed request once per Idempotency-Key, a batch all at once.
// s.mu is held.
func (s *Server) applyLocked(r *http.Request, req *Request) answer {
	if f := s.failures.always; f != 0 {
		return s.injected(f)
	}
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		return answer{status: http.StatusUnauthorized, outcome: "unauthorized",
			body: errBody{"missing or wrong bearer token"}}
	}

	key := req.IdempotencyKey
	st := s.keys[key]
	st.attempts++
	failing := st.attempts <= s.failures.first
	if failing && !s.failures.applyFirst {
		s.keys[key] = st
		return s.injected(s.failures.firstStatus)
	}
	var a answer
	if st.applied {
		s.duplicates++
		a = answer{status: http.StatusOK, outcome: "duplicate", body: statusBody{key, "duplicate"}}
	} else {
		st.applied = true
		s.commitLocked(req)
		a = answer{status: http.StatusCreated, outcome: "applied", body: statusBody{key, "applied"}}
	}
	s.keys[key] = st
	if failing {
		// The records are committed; only the answer is lost.
		return s.injected(s.failures.firstStatus)
	}
	return a
}

// commitLocked keeps what Applied, AppliedKeys and AppliedBodies return
// of an applied request: in lean mode only the key and each record's
// dayKey. s.mu is held.
func (s *Server) commitLocked(req *Request) {
	s.order = append(s.order, req.IdempotencyKey)
	if s.lean {
		if req.Records == nil {
			s.days = append(s.days, dayKeyOf(&req.Record))
		}
		for i := range req.Records {
			s.days = append(s.days, dayKeyOf(&req.Records[i]))
		}
		return
	}
	s.bodies = append(s.bodies, req.Body)
	if req.Records == nil {
		s.records = append(s.records, req.Record)
	}
	s.records = append(s.records, req.Records...)
}

// check validates the request shape and decodes the record, or the batch,
// into req. It returns a zero answer when the request is well formed.
func (s *Server) check(r *http.Request, body []byte, req *Request) answer {
	if r.URL.Path != Path {
		return invalid(http.StatusNotFound, "no such endpoint "+r.URL.Path+"; day records go to "+Path)
	}
	if r.Method != http.MethodPost {
		return invalid(http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use POST")
	}
	// The sink sends exactly application/json; parse only what differs.
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return invalid(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		}
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
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return checkBatch(body, req)
	}
	if err := decodeStrict(body, &req.Record); err != nil {
		req.Record = mapping.DayRecord{}
		return invalid(http.StatusBadRequest, "body is not a day record: "+err.Error())
	}
	if msg := validRecord(&req.Record); msg != "" {
		return invalid(http.StatusUnprocessableEntity, msg)
	}
	return answer{}
}

// checkBatch decodes a JSON array of day records into req.Records; one
// bad record refuses the whole batch, named by its index.
func checkBatch(body []byte, req *Request) answer {
	// A batch as the sink writes it is read directly, which only takes
	// what a strict decoding would; anything else is decoded strictly.
	if recs, ok := mapping.CanonicalDays(body); ok {
		req.Records = recs
	} else if err := decodeStrict(body, &req.Records); err != nil {
		req.Records = nil
		return invalid(http.StatusBadRequest, "body is not an array of day records: "+err.Error())
	}
	if len(req.Records) == 0 {
		req.Records = nil
		return invalid(http.StatusBadRequest, "empty batch: send at least one day record in the array")
	}
	for i := range req.Records {
		if msg := validRecord(&req.Records[i]); msg != "" {
			return invalid(http.StatusUnprocessableEntity, "record "+strconv.Itoa(i)+": "+msg)
		}
	}
	return answer{}
}

// decodeStrict decodes body into v, refusing fields the contract does not
// have, as a strict HR API does.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// validRecord checks what an HR system needs to file a day; it returns
// what is wrong, or "".
func validRecord(d *mapping.DayRecord) string {
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
		body: errBody{http.StatusText(status) + " (injected)"}}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		a.retryAfter = s.retryAfter
	}
	return a
}

func invalid(status int, msg string) answer {
	return answer{status: status, outcome: "invalid", body: errBody{msg}}
}

// enveloped turns an answer into the HTTP 200 {"code", "msg"} form.
func enveloped(a answer) answer {
	msg := "ok"
	code := 0
	if a.outcome != "applied" && a.outcome != "duplicate" {
		code = a.status
		msg = http.StatusText(a.status)
		if e, ok := a.body.(errBody); ok && e.Error != "" {
			msg = e.Error
		}
	}
	return answer{status: http.StatusOK, outcome: a.outcome, body: envelopeBody{code, msg}}
}
