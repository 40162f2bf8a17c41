// Package dingtalktest is a fake DingTalk open platform for tests and for
// `punchbridge demo`, modelled on net/http/httptest: NewServer starts it on
// loopback, URL gives the base URL to put in a connector's base_url and
// api_base_url, and Close stops it.
//
// It serves the APIs the dingtalk connector uses, with the real paths,
// JSON shapes, limits and error codes (see the project's platform API
// reference, part A):
//
//   - GET  /gettoken?appkey=&appsecret=           → access_token, expires_in
//   - POST /attendance/listRecord?access_token=    → recordresult[]
//   - POST /topapi/v2/department/listsubid         → result.dept_id_list
//   - POST /topapi/v2/user/list                    → result.list, has_more, next_cursor
//   - POST /v1.0/workflow/processes/instanceIds/query → result.list, result.nextToken
//   - GET  /v1.0/workflow/processInstances?processInstanceId= → result (form, status, actions)
//   - POST /v1.0/gateway/connections/open          → endpoint, ticket
//   - GET  /gateway/stream?ticket=                 → the Stream WebSocket
//
// oapi business errors come inside HTTP 200 as errcode/errmsg, as on the
// real platform: 41001 (no token), 40014 (unknown token), 42001 (expired
// token), 40001 (gettoken with a wrong secret), 400002 (a listRecord
// request over 50 users or a 7-day span), 40035 (user/list size outside
// 1..100), 60003 (unknown department), and, when configured or injected,
// -1 (busy), 90018 (QPS), 90020 (monthly quota) and HTTP 5xx. The v1.0
// APIs answer an HTTP status with {code, message}: 400
// InvalidAuthentication (token missing, unknown or expired), 400
// InvalidParameter (over 20 a page, a range over 120 days, a start over
// 365 days ago), 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi over
// the QPS limit, 401 invalidClientIdOrSecret at the gateway. BlockIP makes
// calls get the per-IP block answer ({"status":1111,"wait":5}). Calling
// gettoken while a token is valid returns the same token and extends its
// life, as DingTalk documents.
//
// Numeric record fields are documented as strings but arrive as numbers in
// the platform's own samples; the fake serves records with an odd id with
// their numbers as JSON strings and the others as JSON numbers, so that
// every client is exercised on both.
//
// The company it serves comes from GenerateCompany: a nested department
// tree, users with job numbers, and for every Monday to Friday an OnDuty and
// an OffDuty punch per user around 09:00 and 18:00 Asia/Shanghai, with
// on-time, late, early-leaving, missing, out-of-range and invalid punches
// mixed in deterministically from a seed; and approval instances with
// their forms: leave (the standard DDHolidayField), overtime, and make-ups
// (补卡) for half of the missing punches, most approved, some refused,
// running, withdrawn, or approved and later revoked. WithCompany serves a
// copy of a company the caller holds; WithGeneratedCompany generates one
// inside the server, so that a large company is held once. AddInstances,
// Decide, Terminate and RevokeApproved change them as approvers would. Two
// knobs exist for end-to-end demonstrations:
//
//   - WithUnmappedUsers(n) gives the last n users an empty job number, so
//     that identity mapping cannot place them;
//   - (*Server).Duplicate(n) marks n records to be served twice: each one is
//     repeated at the end of every listRecord answer that contains it, as a
//     platform retry or an overlapping page would deliver it.
//
// Callbacks: Push sends an event to a URL encrypted as DingTalk's HTTP push
// does and checks the encrypted "success" reply (PushTo is the same with
// the server's clock); CheckRecordEvent and InstanceChangeEvent build the
// events. The Stream gateway hands out one-time tickets; StreamEvent,
// StreamPing and StreamDisconnect send frames, WaitStreamAck waits for the
// client's ack, and an event not acknowledged SUCCESS is sent again on the
// next connection.
//
// The server's clock (WithClock) decides token expiry and the look-back
// limits; the QPS limit (WithQPS) is measured on the wall clock, because a
// rate needs time that moves.
package dingtalktest
