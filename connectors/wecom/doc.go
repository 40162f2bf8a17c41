// Package wecom connects Punchbridge to one WeCom (企业微信) corp through its
// self-built apps: it pulls punches, attendance-machine punches, approvals
// and make-up requests, lists the directory with employee numbers, and
// receives approval callbacks. Its fake, for tests and the demo, is
// wecomtest. Facts about the platform come from the project's platform API
// reference, part B; section names (B2.1, ...) below point there.
//
// # Configuration
//
//	connectors:
//	  - name: wecom-hq
//	    type: wecom
//	    corp_id: ww5823bf96d3bd56c7
//	    checkin_secret: ${WECOM_CHECKIN_SECRET}    # app in 打卡 - 可调用接口的应用
//	    approval_secret: ${WECOM_APPROVAL_SECRET}  # app in 审批 - 可调用接口的应用
//	    contacts_secret: ${WECOM_CONTACTS_SECRET}  # 通讯录同步 secret
//	    # hr_secret: ...              # app in 人事助手, for employee_field hr:<id>; default checkin_secret
//	    # employee_field: extattr:工号 # or hr:12024 (a 人事助手 roster field id)
//	    # users: [zhangsan]           # default: the whole directory
//	    # device_punches: true        # raw machine punches by upload time
//	    # callback_token: ${WECOM_CALLBACK_TOKEN}
//	    # callback_aes_key: ${WECOM_CALLBACK_AES_KEY}
//	    # callback_window: 10m        # callback timestamps this far from now are refused
//	    # callback_queue: 1000        # approval details waiting to be fetched
//	    # rate_limits: {getcheckindata: 600, getapprovalinfo: 600, getapprovaldetail: 600, getcheckin_daydata: 100}
//	    # concurrency: 4              # calls in flight per API
//	    # approval_templates: [3TkaH5KFbrG9heEQWLJjhgpFwmqAFB4dLEnapaB7aaa]
//	    # approval_lookback: 168h     # approvals submitted this long before a pull's window are read again
//	    # leave_types: {病假: SICK, 年假: ANNUAL}
//	    # timeout: 10s                # per HTTP request
//	    # retry_wait: 1s              # first wait before retrying a busy answer
//
// The tenant is the corp id. Each app secret gets its own access token
// (B1: tokens are per app; the check-in, approval and contacts APIs each
// demand their own app), cached in the TokenCache of connectors.Deps under
// wecom/<corp_id>/<app> until 10 minutes before it expires, with one
// refresh shared by concurrent callers. Roles configured with the same
// secret share one token.
//
// # Calls
//
// Every request goes through one go-retryablehttp client. WeCom reports
// errors inside HTTP 200 as errcode, so the retry policy reads it: -1
// (系统繁忙), 301070 (打卡系统错误) and 301026 are retried with backoff, at
// most 3 times, like transport failures and HTTP 429/5xx. Above it, an
// answer saying the token is bad (40014, 42001, 41001) drops the cached
// token, refreshes it once and repeats the call once; 45009 (over a limit)
// blocks the API for 60 s, says so once in the log, and repeats the call
// after the block; 45033 (too many concurrent calls) halves the API's
// concurrency, which grows back by one after 50 successes in a row.
// Permission errors (48002, 301055) name the console setting to fix.
//
// Each API has a client-side limit in calls per minute (DefaultRateLimits;
// B5: getcheckindata and the approval APIs 600, daily reports 100),
// enforced by a token bucket (golang.org/x/time/rate) that never lets any
// one-minute window hold the limit, so that pacing alone never provokes a
// 45009. The limits are per connector and process; replicas pulling the
// same corp share the platform's budget and should split it. Every
// attempt is counted by API and errcode (Connector.Stats); a pull reports
// its own calls in PullStats.APICalls. Neither tokens nor secrets appear
// in a log line or an error: access_token= and corpsecret= values are
// redacted from every URL an error carries.
//
// # Punches
//
// WeCom pushes no punch events to self-built apps (B6), so punches are
// polled. Connector.Pull reads checkin/getcheckindata with
// opencheckindatatype 3 (all punches) for at most 100 users and 30 days a
// call, so a window costs exactly ceil(users/100) × ceil(days/30) calls.
// checkin_type gives the direction (上班打卡 in, 下班打卡 out); 外出打卡 is a
// field punch (method field, field true, direction unknown). exception_type
// is split on ";": the first exception is the platform_result (时间异常
// time_exception, 地点异常 location_exception, wifi异常 wifi_exception,
// 非常用设备 device_exception; none is normal) and the rest are anomalies.
// lat and lng are divided by 1,000,000 and marked datum gcj02; wifimac,
// wifiname and deviceid are kept, sch_checkin_time becomes scheduled_at.
// Rows whose exception includes 未打卡 mark a missing punch at its
// scheduled time: they are never emitted as punches. WeCom has no record
// id, so the punch id is built from (userid, checkin_time, checkin_type)
// (PunchID).
//
// Device punches come from hardware/get_hardware_checkin_data with
// filter_type 2, by upload time, so a machine that was offline for days is
// caught by the next pull whatever its punch times. How they relate to
// check-in rows, and how they are de-duplicated, is described on
// pullDevices: a machine punch the check-in app recorded is represented by
// its check-in row (whose day is read again when it lies before the
// window), one it did not record is emitted alone with type device. The
// device pass is on by default and stops, with a warning, when the app
// lacks the permission.
//
// # Approvals and make-ups
//
// oa/getapprovalinfo lists the approvals submitted in the window widened
// by approval_lookback (31-day ranges, new_cursor pages of 100, record_type
// 1 leave, 2 make-up, 3 trip, 4 out and 5 overtime, optionally only some
// templates; a range the platform finds too wide, 301112, is halved), and
// oa/getapprovaldetail reads each. A Vacation control becomes an approval
// of type leave (leave_type from leave_types, else the WeCom name), an
// Attendance control one of type trip, out or overtime (attendance.type 3,
// 4, 5), with start and end from date_range and duration from
// new_duration; a PunchCorrection control becomes a makeup event at the
// corrected time, its direction from the state (上班-… in, 下班-… out).
// sp_status 1 is pending, 2 (and 10, paid) approved, 3 rejected, 4, 6 and
// 7 revoked. The event id is the sp_no, so each status change is a new
// revision. For half-day and day ranges the page does not say whether
// new_end is the last instant or the start of the last unit; an end on a
// unit boundary is read as the latter (an inference).
//
// # Callbacks
//
// Connector.Handler serves /hooks/wecom/<name> (the tenant is chosen by
// the path): GET answers the URL verification with the bare echostr
// plaintext; POST verifies msg_signature over the sorted token, timestamp,
// nonce and Encrypt, decrypts with the shared msgcrypt implementation,
// checks the receive id against corp_id, refuses stale timestamps and
// replayed nonces, and acknowledges within the 5 s WeCom allows.
// sys_approval_change (SpNoStr) queues the approval for Connector.Work,
// which fetches the details and ingests them; other events are
// acknowledged and counted. See Handler for what is durable when.
package wecom
