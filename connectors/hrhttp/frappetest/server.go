package frappetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Doctype paths of the Frappe REST API.
const (
	CheckinPath  = "/api/resource/Employee Checkin"
	EmployeePath = "/api/resource/Employee"
)

// Checkin is one stored Employee Checkin, with the fields Frappe keeps.
type Checkin struct {
	Name               string   `json:"name"`
	Employee           string   `json:"employee"`
	EmployeeName       string   `json:"employee_name"`
	LogType            string   `json:"log_type"`
	Time               string   `json:"time"`
	DeviceID           string   `json:"device_id"`
	SkipAutoAttendance int      `json:"skip_auto_attendance"`
	Latitude           *float64 `json:"latitude"`
	Longitude          *float64 `json:"longitude"`
}

// Employee is one Employee document of the fake site.
type Employee struct {
	Name         string
	EmployeeName string
	// Fields are other Employee fields, such as attendance_device_id,
	// that filters can match.
	Fields map[string]string
}

// Request is one request the site received, in arrival order.
type Request struct {
	Method string
	Path   string
	Query  string
	Body   []byte
	// Status is the HTTP status answered.
	Status int
}

// Server is a running fake Frappe site. Its methods are safe for
// concurrent use, also while requests are being served.
type Server struct {
	srv   *httptest.Server
	token string // "key:secret"

	mu        sync.Mutex
	employees map[string]Employee
	checkins  []Checkin
	received  []Request
	failNext  int
	failWith  int
}

// NewServer starts a fake Frappe site that accepts the API key and secret
// given. Close it when done.
func NewServer(apiKey, apiSecret string) *Server {
	s := &Server{token: apiKey + ":" + apiSecret, employees: map[string]Employee{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the site's base URL.
func (s *Server) URL() string { return s.srv.URL }

// CheckinURL is where Employee Checkins are created, as a sink's url:
// takes it (the space escaped).
func (s *Server) CheckinURL() string { return s.srv.URL + "/api/resource/Employee%20Checkin" }

// Close shuts the site down.
func (s *Server) Close() { s.srv.Close() }

// AddEmployee adds an Employee document.
func (s *Server) AddEmployee(name, employeeName string, fields map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.employees[name] = Employee{Name: name, EmployeeName: employeeName, Fields: fields}
}

// FailNext makes the next n requests fail with status (a 5xx or 429
// models an overloaded site) before anything is stored.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failWith = n, status
}

// Checkins returns every stored checkin, in the order created.
func (s *Server) Checkins() []Checkin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Checkin(nil), s.checkins...)
}

// Received returns every request received, in arrival order.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.received))
	for i, r := range s.received {
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// checkinName is Frappe's autoname EMP-CKIN-.MM.-.YYYY.-.###### for the
// n-th checkin of a month.
func checkinName(month, year string, n int) string {
	return fmt.Sprintf("EMP-CKIN-%s-%s-%06d", month, year, n)
}
