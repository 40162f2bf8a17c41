// Package dingtalk connects Punchbridge to one DingTalk (钉钉) organization
// through an internal app: it pulls raw punches and lists the directory.
// Its fake, for tests and the demo, is dingtalktest.
//
// # Configuration
//
//	connectors:
//	  - name: dingtalk-hq
//	    type: dingtalk
//	    app_key: dingxxxxxxxx
//	    app_secret: ${DINGTALK_APP_SECRET}
//	    corp_id: ding5f3a
//	    # users: [manager4220]   # default: the whole directory
//	    # root_department: 1     # where the directory walk starts
//	    # timeout: 10s           # per HTTP request
//	    # retry_wait: 1s         # first wait before retrying busy/QPS answers
//
// The tenant is the corp id: punch event ids are
// dingtalk/<corp_id>/punch/<user id>-<check time in ms> (see PunchID for why
// the record's own id is not used).
//
// # Calls
//
// Every request goes through one go-retryablehttp client. DingTalk reports
// errors inside HTTP 200 as errcode, so the retry policy reads it: -1
// (系统繁忙) and the QPS codes 90018/90002 are retried with backoff, at most
// 3 times, like transport failures and HTTP 429/5xx. An answer saying the
// access token is bad (40014, 42001, 40001, or 88 with an auth sub-code)
// drops the cached token, refreshes it once and repeats the call once.
// Every attempt is counted by API and errcode (Connector.Stats; a pull
// reports its own calls in PullStats.APICalls).
//
// The access token comes from gettoken and is cached in the TokenCache of
// connectors.Deps (key dingtalk/<corp_id>/<app_key>) until 10 minutes
// before it expires; concurrent callers share one refresh. Neither the token
// nor the app secret appears in a log line or an error: access_token= and
// appsecret= values are redacted from every URL an error carries.
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
// # Directory
//
// Connector.Users walks the departments recursively from root_department
// (topapi/v2/department/listsubid) and pages through each department's
// members (topapi/v2/user/list, cursor paging, 100 a page), reporting each
// user once with job_number as JobNumber.
package dingtalk
