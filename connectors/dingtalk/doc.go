// Package dingtalk connects Punchbridge to one DingTalk (钉钉) organization
// through an internal app: it pulls raw punches, approvals and make-ups,
// lists the directory, receives HTTP push callbacks and, in Stream mode,
// the event stream. Its fake, for tests and the demo, is dingtalktest.
//
// # Configuration
//
//	connectors:
//	  - name: dingtalk-hq
//	    type: dingtalk
//	    app_key: ding1a2b3c4d
//	    app_secret: ${DINGTALK_APP_SECRET}
//	    corp_id: ding5f3a
//	    # users: [manager4220]      # default: the whole directory
//	    # root_department: 1        # where the directory walk starts
//	    # timeout: 10s              # per HTTP request
//	    # retry_wait: 1s            # busy backoff start; the wait after a QPS answer
//	    # qps: 20                   # client-side limit per API
//	    # concurrency: 4            # listRecord calls in flight during a pull
//	    # HTTP push (needs a public URL: /hooks/dingtalk/dingtalk-hq)
//	    token: ${DINGTALK_CALLBACK_TOKEN}
//	    aes_key: ${DINGTALK_CALLBACK_AES_KEY}
//	    # owner_key: ding5f3a       # default app_key; the corp id for register_call_back
//	    # callback_window: 10m      # timestamps further from now are refused
//	    # Stream mode (no public URL needed)
//	    # stream: true
//	    # Approvals: the process codes of the templates, by meaning
//	    approvals:
//	      leave: [PROC-EF6YJQ2L-1A2B]
//	      overtime: [PROC-7B1C]
//	      makeup: [PROC-SUPPLY-9D]  # 补卡, attendance.supply
//	    # inbound: leave.yaml   # which form components hold the facts (docs/MAPPINGS.md)
//	    # leave_types: {病假: SICK, 年假: ANNUAL}
//	    # approval_lookback: 720h   # approvals created this long before a pull's window are read too
//
// The tenant is the corp id. Event ids are
// dingtalk/<corp_id>/punch/<user id>-<check time in ms> (see PunchID for
// why the record's own id is not used) and
// dingtalk/<corp_id>/{approval,makeup}/<process instance id>, so that each
// status change of an approval is a new revision of one event.
//
// # Calls and quotas
//
// Every request goes through one go-retryablehttp client, which retries
// transport failures and HTTP 429/5xx at most 3 times. Before each call
// the connector waits for the API's client-side limiter (qps calls per
// second, paced 10% below the figure because the platform counts arrivals,
// which jitter). The platform's answers are read by invoke (quota.go):
// -1 (busy) is retried at most 3 times with doubling waits; the QPS codes
// (90018, 90002, v1.0 Forbidden.AccessDenied.Qps*) wait retry_wait, the
// platform's 1-second window, and retry; the IP block answer (status 1111)
// waits the announced 5 minutes; the monthly quota (90020,
// Forbidden.AccessDenied.ApiCountLimitForOrg) fails at once with a message
// naming it. An answer saying the access token is bad (40014, 42001,
// 40001, 88 with an auth sub-code, v1.0 InvalidAuthentication) drops the
// cached token, refreshes it once and repeats the call once. Every attempt
// is counted by API and code (Connector.Stats); a pull reports its own
// calls in PullStats.APICalls.
//
// The access token comes from gettoken and is cached in the TokenCache of
// connectors.Deps (key dingtalk/<corp_id>/<app_key>) until 10 minutes
// before it expires; concurrent callers share one refresh. The same token
// serves the v1.0 APIs, in the x-acs-dingtalk-access-token header. Neither
// the token, the app secret nor a Stream ticket appears in a log line or
// an error.
//
// # Pull
//
// Connector.Pull reads attendance/listRecord (获取打卡详情), which returns
// every punch, including those the platform flags invalid, with no
// pagination, for at most 50 users and 7 days per call. A window costs
// exactly ceil(users/50) × ceil(days/7) calls and emits one batch per
// answer. Invalid records are kept with an anomaly (invalid_record:<type>),
// never dropped. Numbers may arrive as JSON numbers or strings.
//
// When process codes are configured, Pull then lists the instances of each
// process created from approval_lookback before the window to its end
// (workflow/processes/instanceIds/query, 20 a page, spans of at most 120
// days), reads each (workflow/processInstances) with the revoke and modify
// requests attached to it, and emits approval and makeup events:
// RUNNING → pending, COMPLETED+agree → approved, COMPLETED+refuse →
// rejected, TERMINATED or an approved REVOKE request → revoked. The leave
// type, time range and duration come from the form (approvals.go);
// instances already emitted in a final state are not read again by later
// pulls of the same process.
//
// # Directory
//
// Connector.Users walks the departments recursively from root_department
// (topapi/v2/department/listsubid) and pages through each department's
// members (topapi/v2/user/list, cursor paging, 100 a page), reporting each
// user once with job_number as JobNumber.
//
// # Callbacks: HTTP push and Stream
//
// Connector.Handler is the HTTP push receiver (webhook.go): signature,
// decryption with the owner key, a timestamp window and a replay guard,
// then the event. Stream mode (stream.go) opens a WebSocket through
// gateway/connections/open, subscribes to EVENT * and SYSTEM ping and
// disconnect, acknowledges every frame by message id, and reconnects with
// backoff. Both hand events to the same code (events.go), which drops a
// redelivered eventId, stores an event's own facts before the
// acknowledgement, and queues what the event calls for: the full record
// of a pushed punch, an approval instance whose state changed
// (bpms_instance_change, bpms_task_change, attendance_approve_status_change),
// or a re-pull of user-days (attend_user_daily_summary_refresh,
// attend_bossCheck_change, attendance_schedule_change). Connector.Work runs
// that queue and the Stream connection; unknown events are acknowledged
// and counted (CallbackStats).
//
// A pushed punch (attendance_check_record) carries no check type and no
// verdict, so the same punch cannot be byte-identical by push and by pull.
// It is stored at once with the facts the push has (direction unknown),
// under the id the pull gives it; after the acknowledgement, Work reads
// its listRecord record and stores that as the punch's second and last
// revision, identical to what a pull stores. So a punch arriving by push,
// by Stream and by pull is one event id with at most two revisions; every
// other copy is a duplicate. The follow-up queue is in memory: work lost
// to a restart is done by the next scheduled pull, which covers every
// punch and, through approval_lookback, every approval.
package dingtalk
