// Package frappetest is a fake Frappe HR (ERPNext) site for tests and the
// demo, modelled on net/http/httptest. It serves the two calls Punchbridge
// makes, with Frappe's real field names, status codes and messages:
//
//	POST /api/resource/Employee Checkin     create a checkin
//	GET  /api/resource/Employee?filters=... find employees (identity lookup)
//
// Authentication is Frappe's "Authorization: token <api_key>:<api_secret>".
// A checkin needs employee (an existing Employee) and time
// ('YYYY-MM-DD HH:MM:SS', microseconds dropped as Frappe does); log_type
// is IN, OUT or empty; skip_auto_attendance 0 or 1. As in HRMS's
// validate_duplicate_log, a second checkin with the same employee, time
// and log type is refused with HTTP 417 and "This employee already has a
// log with the same timestamp". Frappe reports every validation error as
// 417 with exc_type, exception and _server_messages.
//
//	site := frappetest.NewServer("key", "secret")
//	defer site.Close()
//	site.AddEmployee("HR-EMP-00001", "张伟", map[string]string{"attendance_device_id": "E1001"})
//	// point an hrhttp sink at site.CheckinURL() ...
//	site.Checkins()
package frappetest
