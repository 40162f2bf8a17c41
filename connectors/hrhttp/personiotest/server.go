package personiotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Path is where attendance periods are created.
const Path = "/v2/attendance-periods"

// dateTime is the API's local time layout.
const dateTime = "2006-01-02T15:04:05"

// Period is one stored attendance period.
type Period struct {
	ID      string
	Person  string
	Type    string
	Start   time.Time // local wall time, read as UTC
	End     time.Time // zero for an open period
	Comment string
}

type wirePeriod struct {
	Person *struct {
		ID json.RawMessage `json:"id"`
	} `json:"person"`
	Type  string `json:"type"`
	Start *struct {
		DateTime string `json:"date_time"`
	} `json:"start"`
	End *struct {
		DateTime string `json:"date_time"`
	} `json:"end"`
	Comment string `json:"comment"`
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	persons  map[string]bool
	periods  []Period
	requests int
}

// NewServer starts the fake; requests must carry "Bearer <token>".
func NewServer(token string) *Server {
	s := &Server{token: token, persons: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the endpoint to POST periods to.
func (s *Server) URL() string { return s.srv.URL + Path }

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// AddPerson adds a person id that periods may name.
func (s *Server) AddPerson(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.persons[id] = true
}

// Periods returns the stored periods in the order created.
func (s *Server) Periods() []Period {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Period(nil), s.periods...)
}

// Requests is the number of requests received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

type apiError struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	status, answer := s.handle(r, body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

func fail(status int, title, detail string) (int, any) {
	return status, map[string]any{"errors": []apiError{{Title: title, Detail: detail}}}
}

func (s *Server) handle(r *http.Request, body []byte) (int, any) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	switch {
	case r.Header.Get("Authorization") != "Bearer "+s.token:
		return fail(http.StatusUnauthorized, "Unauthorized", "missing or invalid access token")
	case r.URL.Path != Path:
		return fail(http.StatusNotFound, "Not Found", "no such endpoint "+r.URL.Path)
	case r.Method != http.MethodPost:
		return fail(http.StatusMethodNotAllowed, "Method Not Allowed", "use POST")
	}
	var in wirePeriod
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fail(http.StatusBadRequest, "Bad Request", "body is not an attendance period: "+err.Error())
	}
	p, msg := parse(in)
	if msg != "" {
		return fail(http.StatusUnprocessableEntity, "Unprocessable Entity", msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.persons[p.Person] {
		return fail(http.StatusUnprocessableEntity, "Unprocessable Entity", "person "+p.Person+" does not exist")
	}
	for _, old := range s.periods {
		if old.Person == p.Person && overlaps(old, p) {
			return fail(http.StatusConflict, "Conflict", "Existing overlapping attendances periods")
		}
	}
	p.ID = fmt.Sprintf("ap-%06d", len(s.periods)+1)
	s.periods = append(s.periods, p)
	return http.StatusCreated, map[string]any{"id": p.ID}
}

// parse checks a period; it returns what is wrong, or "".
func parse(in wirePeriod) (Period, string) {
	var p Period
	if in.Person == nil || len(in.Person.ID) == 0 {
		return p, "person.id is required"
	}
	if err := json.Unmarshal(in.Person.ID, &p.Person); err != nil || p.Person == "" {
		return p, "person.id must be a non-empty string"
	}
	switch in.Type {
	case "WORK", "BREAK":
		p.Type = in.Type
	default:
		return p, fmt.Sprintf("type %q: must be WORK or BREAK", in.Type)
	}
	if in.Start == nil {
		return p, "start.date_time is required"
	}
	var err error
	if p.Start, err = time.Parse(dateTime, in.Start.DateTime); err != nil {
		return p, fmt.Sprintf("start.date_time %q: want YYYY-MM-DDTHH:MM:SS without offset", in.Start.DateTime)
	}
	if in.End != nil {
		if p.End, err = time.Parse(dateTime, in.End.DateTime); err != nil {
			return p, fmt.Sprintf("end.date_time %q: want YYYY-MM-DDTHH:MM:SS without offset", in.End.DateTime)
		}
		if p.End.Before(p.Start) {
			return p, "end.date_time is before start.date_time"
		}
	}
	p.Comment = in.Comment
	return p, ""
}

// overlaps reports whether two periods share time; an open period runs
// on for ever.
func overlaps(a, b Period) bool {
	endA, endB := a.End, b.End
	if endA.IsZero() {
		endA = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if endB.IsZero() {
		endB = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return a.Start.Before(endB) && b.Start.Before(endA)
}
