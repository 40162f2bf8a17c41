package frappetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// Frappe's datetime layouts: microseconds are allowed and dropped.
var datetimeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04:05.999999"}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	status, answer := s.handle(r, body)
	s.mu.Lock()
	s.received = append(s.received, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: status})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

func (s *Server) handle(r *http.Request, body []byte) (int, any) {
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		status := s.failWith
		s.mu.Unlock()
		return status, map[string]any{"exc_type": "ServiceUnavailable", "exception": http.StatusText(status)}
	}
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "token "+s.token {
		return http.StatusUnauthorized, map[string]any{"exc_type": "AuthenticationError", "exception": "frappe.exceptions.AuthenticationError", "_server_messages": serverMessages("Invalid authentication token")}
	}
	switch {
	case r.URL.Path == CheckinPath && r.Method == http.MethodPost:
		return s.createCheckin(body)
	case r.URL.Path == EmployeePath && r.Method == http.MethodGet:
		return s.listEmployees(r)
	}
	return http.StatusNotFound, map[string]any{"exc_type": "DoesNotExistError", "exception": "frappe.exceptions.DoesNotExistError: " + r.Method + " " + r.URL.Path}
}

// validationError is Frappe's answer to frappe.throw: 417 with the
// exception and the message, JSON-encoded twice in _server_messages.
func validationError(excType, msg string) (int, any) {
	return http.StatusExpectationFailed, map[string]any{
		"exc_type":         excType,
		"exception":        "frappe.exceptions." + excType + ": " + msg,
		"_server_messages": serverMessages(msg),
	}
}

func serverMessages(msg string) string {
	inner, _ := json.Marshal(map[string]any{"message": msg, "title": "Message", "indicator": "red", "raise_exception": 1})
	outer, _ := json.Marshal([]string{string(inner)})
	return string(outer)
}

func (s *Server) createCheckin(body []byte) (int, any) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return validationError("ValidationError", "Request body is not a JSON object: "+err.Error())
	}
	str := func(k string) string {
		switch v := doc[k].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		}
		return ""
	}
	c := Checkin{Employee: str("employee"), LogType: str("log_type"), DeviceID: str("device_id")}
	if c.Employee == "" {
		return validationError("MandatoryError", "[Employee Checkin, new-employee-checkin-1]: employee")
	}
	raw := str("time")
	if raw == "" {
		return validationError("MandatoryError", "[Employee Checkin, new-employee-checkin-1]: time")
	}
	var t time.Time
	var err error
	for _, l := range datetimeLayouts {
		if t, err = time.Parse(l, raw); err == nil {
			break
		}
	}
	if err != nil {
		return validationError("ValidationError", fmt.Sprintf("%s is not a valid datetime; use YYYY-MM-DD HH:MM:SS", raw))
	}
	c.Time = t.Truncate(time.Second).Format(datetimeLayouts[0]) // before_validate drops microseconds
	switch c.LogType {
	case "", "IN", "OUT":
	default:
		return validationError("ValidationError", fmt.Sprintf("Log Type cannot be %q. It should be one of \"\", \"IN\", \"OUT\"", c.LogType))
	}
	switch v := str("skip_auto_attendance"); v {
	case "", "0":
	case "1":
		c.SkipAutoAttendance = 1
	default:
		return validationError("ValidationError", "Skip Auto Attendance must be 0 or 1, not "+v)
	}
	for key, dst := range map[string]**float64{"latitude": &c.Latitude, "longitude": &c.Longitude} {
		if n, ok := doc[key].(json.Number); ok {
			f, _ := n.Float64()
			*dst = &f
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	emp, ok := s.employees[c.Employee]
	if !ok {
		return validationError("LinkValidationError", "Could not find Employee: "+c.Employee)
	}
	c.EmployeeName = emp.EmployeeName
	for _, old := range s.checkins {
		if old.Employee == c.Employee && old.Time == c.Time && old.LogType == c.LogType {
			return validationError("ValidationError", "This employee already has a log with the same timestamp.<Br><a href=\"/app/employee-checkin/"+old.Name+"\">"+old.Name+"</a>")
		}
	}
	c.Name = checkinName(t.Format("01"), t.Format("2006"), len(s.checkins)+1)
	s.checkins = append(s.checkins, c)
	return http.StatusOK, map[string]any{"data": map[string]any{
		"doctype": "Employee Checkin", "name": c.Name, "employee": c.Employee, "employee_name": c.EmployeeName,
		"log_type": c.LogType, "time": c.Time, "device_id": c.DeviceID, "skip_auto_attendance": c.SkipAutoAttendance,
		"latitude": c.Latitude, "longitude": c.Longitude, "docstatus": 0,
	}}
}

// listEmployees answers GET /api/resource/Employee with filters as
// Frappe's list API takes them: a JSON list of [field, "=", value].
func (s *Server) listEmployees(r *http.Request) (int, any) {
	var filters [][]any
	if f := r.URL.Query().Get("filters"); f != "" {
		if err := json.Unmarshal([]byte(f), &filters); err != nil {
			return validationError("ValidationError", "filters must be a JSON list: "+err.Error())
		}
	}
	fields := []string{"name"}
	if f := r.URL.Query().Get("fields"); f != "" {
		if err := json.Unmarshal([]byte(f), &fields); err != nil {
			return validationError("ValidationError", "fields must be a JSON list: "+err.Error())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []map[string]any{}
	for _, name := range sortedNames(s.employees) {
		e := s.employees[name]
		if !matches(e, filters) {
			continue
		}
		row := map[string]any{}
		for _, f := range fields {
			row[f] = e.field(f)
		}
		data = append(data, row)
	}
	return http.StatusOK, map[string]any{"data": data}
}

func (e Employee) field(f string) string {
	switch f {
	case "name":
		return e.Name
	case "employee_name":
		return e.EmployeeName
	}
	return e.Fields[f]
}

func matches(e Employee, filters [][]any) bool {
	for _, f := range filters {
		if len(f) != 3 || fmt.Sprint(f[1]) != "=" {
			return false
		}
		if e.field(fmt.Sprint(f[0])) != fmt.Sprint(f[2]) {
			return false
		}
	}
	return true
}

func sortedNames(m map[string]Employee) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
