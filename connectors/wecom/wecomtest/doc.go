// Package wecomtest is a fake WeCom (企业微信) server API for tests and for
// `punchbridge demo`, modelled on net/http/httptest: NewServer starts it on
// loopback, URL gives the base URL to put in a connector's base_url, and
// Close stops it. New builds one without a listener, served in process by
// Transport — the form tests use inside a testing/synctest bubble, whose
// fake clock then drives tokens, rate limits and latency alike.
//
// It serves, under /cgi-bin/, the APIs the wecom connector uses, with the
// real paths, JSON shapes, limits and error codes (see the project's
// platform API reference, part B):
//
//   - GET  gettoken?corpid=&corpsecret=                → access_token, expires_in
//   - POST checkin/getcheckindata                       → checkindata[]
//   - POST hardware/get_hardware_checkin_data           → checkindata[] (raw device punches)
//   - POST user/list_id                                 → dept_user[], next_cursor
//   - GET  user/get?userid=                             → the member, extattr 工号
//   - POST hr/get_staff_info                            → field_info[] (roster field 12024 工号)
//   - POST oa/getapprovalinfo                           → sp_no_list[], new_next_cursor
//   - POST oa/getapprovaldetail                         → info with Vacation / Attendance / PunchCorrection controls
//
// Tokens are per app secret and an app may call only the APIs it is
// allowed (App, WithApps): the default check-in app may read punches,
// device punches and the roster, the approval app approvals, the contacts
// secret user/list_id. Business errors come inside HTTP 200 as
// errcode/errmsg, as on the real platform: 41001 (no token), 40014
// (unknown token), 42001 (expired token), 40001 / 40013 (gettoken with a
// wrong secret or corp id), 48002 (an app calling an API it may not; for
// the approval APIs 301055), 301075 (a check-in request over 100 users or
// 30 days), 301025 (an approval request over 31 days or 100 a page, an
// unknown sp_no), 301112 (an approval range holding more than
// WithApprovalRangeCap results), 40058 (a bad user/list_id limit or
// cursor), 60111 (an unknown userid), and when configured or injected:
// 45009 (over a per-minute limit, WithRateLimit; the API then stays
// blocked for a minute), 45033 (over a concurrency limit,
// WithMaxConcurrent), -1, 301070 and HTTP 5xx (FailNext), and slowness
// (WithLatency, SetLatency).
//
// The page of getcheckindata states its limits (100 users, 30 days) but
// not the code of a request over them; the fake answers 301075, the code
// the reference lists for bad check-in parameters. A second gettoken while
// the token is valid returns the same token with its remaining life.
//
// The company it serves comes from GenerateCompany: users with the 工号
// custom attribute (and the same number in the roster), and for every
// Monday to Friday 上班打卡 and 下班打卡 rows with every exception_type
// (时间异常, 地点异常, wifi异常, 非常用设备 and combinations), 未打卡 rows
// marking missing punches, 外出打卡 field punches, attendance-machine
// punches (some uploaded days late, some that broke a rule and exist only
// on the device), and approvals of every control type and status. Rows
// appear when the platform would show them: a punch when it is made (a
// machine punch when it is uploaded), a 未打卡 marker four hours after its
// scheduled time, until a late upload replaces it.
//
// Sender plays WeCom's side of callbacks: it encrypts and signs like the
// platform, sends the GET URL verification and POST events, checks the
// replies, and can tamper with a delivery for negative tests.
package wecomtest
