package wecomtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/internal/clocktest"
)

var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, Shanghai)

// fixture is a started fake with a settable clock and a small client.
type fixture struct {
	t     *testing.T
	srv   *Server
	clock *clocktest.Clock
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: clocktest.New(monday.AddDate(0, 0, 40))}
	company := GenerateCompany(7, 30, monday, 14)
	f.srv = NewServer(append([]Option{WithCompany(company), WithClock(f.clock.Now)}, opts...)...)
	t.Cleanup(f.srv.Close)
	return f
}

// token gets a token of secret.
func (f *fixture) token(secret string) string {
	f.t.Helper()
	var out struct {
		ErrCode     int    `json:"errcode"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	f.do(http.MethodGet, APIGetToken, url.Values{"corpid": {f.srv.CorpID()}, "corpsecret": {secret}}, nil, &out)
	if out.ErrCode != 0 || out.AccessToken == "" {
		f.t.Fatalf("gettoken: errcode %d", out.ErrCode)
	}
	return out.AccessToken
}

// post calls api with tok and body and decodes the answer into out (which
// may be nil); it returns the errcode.
func (f *fixture) post(api, tok string, body, out any) int {
	f.t.Helper()
	var env map[string]any
	f.do(http.MethodPost, api, url.Values{"access_token": {tok}}, body, &env)
	if out != nil {
		b, _ := json.Marshal(env)
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatal(err)
		}
	}
	return int(env["errcode"].(float64))
}

func (f *fixture) do(method, api string, q url.Values, body, out any) {
	f.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, f.srv.URL()+"/cgi-bin/"+api+"?"+q.Encode(), rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		f.t.Fatalf("%s: %v", api, err)
	}
}

func users(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%05d", i+1)
	}
	return out
}

func TestCheckinLimits(t *testing.T) {
	f := newFixture(t)
	tok := f.token(DefaultCheckinSecret)
	from := monday.Unix()
	for _, tc := range []struct {
		name string
		api  string
		body map[string]any
		want int
	}{
		{"100 users, 30 days", APICheckinData, map[string]any{"opencheckindatatype": 3, "starttime": from, "endtime": from + 30*86400, "useridlist": users(100)}, 0},
		{"101 users", APICheckinData, map[string]any{"opencheckindatatype": 3, "starttime": from, "endtime": from + 86400, "useridlist": users(101)}, CodeCheckinBadParams},
		{"30 days and a second", APICheckinData, map[string]any{"opencheckindatatype": 3, "starttime": from, "endtime": from + 30*86400 + 1, "useridlist": users(1)}, CodeCheckinBadParams},
		{"bad type", APICheckinData, map[string]any{"opencheckindatatype": 4, "starttime": from, "endtime": from + 1, "useridlist": users(1)}, CodeCheckinBadParams},
		{"quoted times", APICheckinData, map[string]any{"opencheckindatatype": 3, "starttime": fmt.Sprint(from), "endtime": fmt.Sprint(from + 1), "useridlist": users(1)}, 0},
		{"device 31 days", APIHardwareData, map[string]any{"filter_type": 2, "starttime": from, "endtime": from + 31*86400, "useridlist": users(100)}, 0},
		{"device 32 days", APIHardwareData, map[string]any{"filter_type": 2, "starttime": from, "endtime": from + 32*86400, "useridlist": users(1)}, CodeCheckinBadParams},
		{"device 101 users", APIHardwareData, map[string]any{"filter_type": 2, "starttime": from, "endtime": from + 1, "useridlist": users(101)}, CodeCheckinBadParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.post(tc.api, tok, tc.body, nil); got != tc.want {
				t.Fatalf("errcode %d, want %d", got, tc.want)
			}
		})
	}
}

func TestTokensAndPermissions(t *testing.T) {
	f := newFixture(t, WithTokenTTL(time.Hour))
	checkin, approval, contacts := f.token(DefaultCheckinSecret), f.token(DefaultApprovalSecret), f.token(DefaultContactsSecret)
	if checkin == approval || approval == contacts || f.token(DefaultCheckinSecret) != checkin {
		t.Fatal("want one token per secret, the same while valid")
	}
	body := map[string]any{"opencheckindatatype": 3, "starttime": monday.Unix(), "endtime": monday.Unix() + 86400, "useridlist": users(2)}
	info := map[string]any{"starttime": monday.Unix(), "endtime": monday.Unix() + 86400, "new_cursor": "", "size": 100}
	for _, tc := range []struct {
		name     string
		api, tok string
		body     any
		want     int
	}{
		{"check-in app reads punches", APICheckinData, checkin, body, 0},
		{"contacts token reads punches", APICheckinData, contacts, body, CodeNoPermission},
		{"approval token lists users", APIUserListID, approval, map[string]any{}, CodeNoPermission},
		{"check-in token lists approvals", APIApprovalInfo, checkin, info, CodeApprovalNoAccess},
		{"unknown token", APICheckinData, "not-a-token", body, CodeInvalidToken},
		{"no token", APICheckinData, "", body, CodeMissingToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.post(tc.api, tc.tok, tc.body, nil); got != tc.want {
				t.Fatalf("errcode %d, want %d", got, tc.want)
			}
		})
	}
	f.clock.Advance(time.Hour)
	if got := f.post(APICheckinData, checkin, body, nil); got != CodeExpiredToken {
		t.Fatalf("after its hour: errcode %d, want 42001", got)
	}
	var bad struct{ ErrCode int }
	f.do(http.MethodGet, APIGetToken, url.Values{"corpid": {f.srv.CorpID()}, "corpsecret": {"nope"}}, nil, &bad)
	if bad.ErrCode != CodeBadSecret {
		t.Errorf("wrong secret: %d", bad.ErrCode)
	}
	f.do(http.MethodGet, APIGetToken, url.Values{"corpid": {"wwother"}, "corpsecret": {DefaultCheckinSecret}}, nil, &bad)
	if bad.ErrCode != CodeBadCorpID {
		t.Errorf("wrong corp: %d", bad.ErrCode)
	}
}

func TestRateLimitBlocksAMinute(t *testing.T) {
	f := newFixture(t, WithRateLimit(APIUserListID, 3))
	tok := f.token(DefaultContactsSecret)
	var codes []int
	for i := 0; i < 5; i++ {
		codes = append(codes, f.post(APIUserListID, tok, map[string]any{}, nil))
		f.clock.Advance(time.Second)
	}
	if !reflect.DeepEqual(codes, []int{0, 0, 0, CodeRateLimit, CodeRateLimit}) {
		t.Fatalf("codes = %v", codes)
	}
	f.clock.Advance(57 * time.Second) // 62 s after the first call, 59 s into the block
	if got := f.post(APIUserListID, tok, map[string]any{}, nil); got != CodeRateLimit {
		t.Fatalf("inside the block: %d", got)
	}
	f.clock.Advance(5 * time.Second)
	if got := f.post(APIUserListID, tok, map[string]any{}, nil); got != 0 {
		t.Fatalf("after the block: %d", got)
	}
	if f.srv.Answers(APIUserListID, CodeRateLimit) != 3 || f.srv.Calls(APIUserListID) != 7 {
		t.Errorf("counts: %d refused of %d", f.srv.Answers(APIUserListID, CodeRateLimit), f.srv.Calls(APIUserListID))
	}
}

func TestInjectedFailuresAndLatency(t *testing.T) {
	f := newFixture(t)
	tok := f.token(DefaultContactsSecret)
	f.srv.FailNext(APIUserListID, CodeBusy, 1)
	if got := f.post(APIUserListID, tok, map[string]any{}, nil); got != CodeBusy {
		t.Fatalf("injected -1: %d", got)
	}
	f.srv.SetLatency(APIUserListID, 30*time.Millisecond)
	start := time.Now()
	if got := f.post(APIUserListID, tok, map[string]any{}, nil); got != 0 {
		t.Fatal(got)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answer came after %s, want at least the 30 ms latency", d)
	}
}

func TestGeneratedCompany(t *testing.T) {
	a, b := GenerateCompany(9, 200, monday, 28), GenerateCompany(9, 200, monday, 28)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two companies")
	}
	seen := map[string]int{}
	for _, r := range a.Checkins {
		for _, e := range strings.Split(r.Exception, ";") {
			seen["exception:"+e]++
		}
		seen["type:"+r.Type]++
		if !r.VisibleFrom.IsZero() && r.VisibleFrom.Sub(r.Time) > 24*time.Hour && !r.Marker() {
			seen["late upload"]++
		}
	}
	for _, d := range a.Devices {
		if !d.Recorded {
			seen["device only"]++
		}
	}
	for _, ap := range a.Approvals {
		seen[fmt.Sprintf("control:%s", ap.Control)]++
		seen[fmt.Sprintf("status:%d", ap.Status)]++
		seen[fmt.Sprintf("record_type:%d", ap.RecordType)]++
	}
	for _, k := range []string{"exception:", "exception:时间异常", "exception:地点异常", "exception:未打卡", "exception:wifi异常", "exception:非常用设备",
		"type:上班打卡", "type:下班打卡", "type:外出打卡", "late upload", "device only",
		"control:Vacation", "control:Attendance", "control:PunchCorrection", "control:Text",
		"status:1", "status:2", "status:3", "status:4", "status:6", "status:7",
		"record_type:1", "record_type:2", "record_type:3", "record_type:4", "record_type:5", "record_type:9"} {
		if seen[k] == 0 {
			t.Errorf("the company has no %s", k)
		}
	}
}

func TestRowsAppearWhenThePlatformWouldShowThem(t *testing.T) {
	c := Company{CorpID: DefaultCorpID, Users: []User{{UserID: "u1", JobNumber: "E1"}}}
	sched := monday.Add(18 * time.Hour)
	c.Checkins = []Checkin{{UserID: "u1", Type: TypeOff, Exception: NotSigned, Time: sched, Scheduled: sched, VisibleFrom: sched.Add(markerLag)}}
	clock := clocktest.New(sched.Add(time.Hour))
	f := &fixture{t: t, clock: clock, srv: NewServer(WithCompany(c), WithClock(clock.Now))}
	t.Cleanup(f.srv.Close)
	rows := func() []map[string]any {
		var out struct{ Checkindata []map[string]any }
		f.post(APICheckinData, f.token(DefaultCheckinSecret), map[string]any{"opencheckindatatype": 3, "starttime": monday.Unix(), "endtime": monday.Unix() + 2*86400, "useridlist": []string{"u1"}}, &out)
		return out.Checkindata
	}
	if len(rows()) != 0 {
		t.Fatal("the marker shows before it is made")
	}
	clock.Advance(4 * time.Hour)
	if r := rows(); len(r) != 1 || r[0]["exception_type"] != NotSigned {
		t.Fatalf("rows = %v, want the marker", r)
	}
	f.srv.AddDevicePunches(DevicePunch{UserID: "u1", Time: sched.Add(5 * time.Minute), Uploaded: clock.Now().Add(time.Hour),
		DeviceSN: "KQJ1", Recorded: true, Type: TypeOff, Scheduled: sched})
	if r := rows(); len(r) != 1 || r[0]["exception_type"] != NotSigned {
		t.Fatalf("before the upload: %v", r)
	}
	clock.Advance(time.Hour)
	if r := rows(); len(r) != 1 || r[0]["exception_type"] != "" || r[0]["checkin_time"] != float64(sched.Add(5*time.Minute).Unix()) {
		t.Fatalf("after the upload: %v, want the punch instead of the marker", r)
	}
}

func TestApprovalPagesAndFilters(t *testing.T) {
	f := newFixture(t)
	tok := f.token(DefaultApprovalSecret)
	company := f.srv.Company()
	want := map[string]bool{}
	for _, a := range company.Approvals {
		if a.RecordType != 9 && !a.ApplyTime.Before(monday.AddDate(0, 0, -1)) && !a.ApplyTime.After(monday.AddDate(0, 0, 14)) {
			want[a.SpNo] = true
		}
	}
	filters := []map[string]string{}
	for _, rt := range []string{"1", "2", "3", "4", "5"} {
		filters = append(filters, map[string]string{"key": "record_type", "value": rt})
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		var out struct {
			ErrCode       int      `json:"errcode"`
			SpNoList      []string `json:"sp_no_list"`
			NewNextCursor string   `json:"new_next_cursor"`
		}
		f.post(APIApprovalInfo, tok, map[string]any{"starttime": fmt.Sprint(monday.AddDate(0, 0, -1).Unix()), "endtime": fmt.Sprint(monday.AddDate(0, 0, 14).Unix()),
			"new_cursor": cursor, "size": 7, "filters": filters}, &out)
		if out.ErrCode != 0 {
			t.Fatalf("errcode %d", out.ErrCode)
		}
		pages++
		for _, n := range out.SpNoList {
			got[n] = true
		}
		if out.NewNextCursor == "" {
			break
		}
		cursor = out.NewNextCursor
	}
	if !reflect.DeepEqual(got, want) || pages < 2 {
		t.Fatalf("%d approvals in %d pages, want %d", len(got), pages, len(want))
	}
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"32 days", map[string]any{"starttime": monday.Unix(), "endtime": monday.Unix() + 32*86400, "size": 100}},
		{"size 101", map[string]any{"starttime": monday.Unix(), "endtime": monday.Unix() + 86400, "size": 101}},
		{"end before start", map[string]any{"starttime": monday.Unix(), "endtime": monday.Unix() - 1}},
	} {
		if code := f.post(APIApprovalInfo, tok, tc.body, nil); code != CodeApprovalBadParams {
			t.Errorf("%s: errcode %d, want 301025", tc.name, code)
		}
	}
	if code := f.post(APIApprovalDetail, tok, map[string]any{"sp_no": "199901010001"}, nil); code != CodeApprovalBadParams {
		t.Errorf("unknown sp_no: %d", code)
	}
}

func TestSenderTampering(t *testing.T) {
	const token, key, corp = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww5823bf96d3bd0001"
	now := monday
	s, err := NewSender("http://receiver.invalid/hook", token, key, corp, WithSenderClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := msgcrypt.New(token, key, corp)
	event := ApprovalChange(corp, Approval{SpNo: "202603020001", Name: "请假", Status: 2, DecidedAt: monday.Add(-time.Hour), Applyer: "u1", ApplyTime: monday.Add(-2 * time.Hour)}, now)
	for _, tc := range []struct {
		tamper Tamper
		want   error
	}{
		{Genuine, nil}, {BadSignature, msgcrypt.ErrSignature}, {WrongReceiver, msgcrypt.ErrReceiver},
		{Truncated, msgcrypt.ErrCiphertext}, {BadPadding, msgcrypt.ErrPadding}, {Stale, msgcrypt.ErrStale},
	} {
		for _, build := range []func() (Delivery, error){
			func() (Delivery, error) { return s.Verification(tc.tamper) },
			func() (Delivery, error) { return s.Event(event, tc.tamper) },
		} {
			d, err := build()
			if err != nil {
				t.Fatal(err)
			}
			enc := d.Query.Get("echostr")
			if d.Method == http.MethodPost {
				enc = between(string(d.Body), "<Encrypt><![CDATA[", "]]></Encrypt>")
			}
			sealed := msgcrypt.Sealed{Encrypt: enc, Signature: d.Query.Get("msg_signature"), Timestamp: d.Query.Get("timestamp"), Nonce: d.Query.Get("nonce")}
			plain, err := c.Open(sealed)
			if err == nil {
				err = msgcrypt.CheckFresh(sealed.Timestamp, now, time.Minute)
			}
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Errorf("%s tamper %d: %v, want %v", d.Method, tc.tamper, err, tc.want)
			}
			if tc.want == nil && !bytes.Equal(plain, d.Plain) {
				t.Errorf("%s genuine: plaintext %q, want %q", d.Method, plain, d.Plain)
			}
		}
	}
	if !strings.Contains(string(event), "<SpNoStr><![CDATA[202603020001]]></SpNoStr>") || !strings.Contains(string(event), "<Event><![CDATA[sys_approval_change]]></Event>") {
		t.Errorf("event XML = %s", event)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	j := strings.Index(s, b)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(a) : j]
}
