package dingtalktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/internal/clocktest"
)

// monday is the first generated day of the tests: Monday 2 March 2026.
var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, Shanghai)

func newTestServer(t *testing.T, opts ...Option) (*Server, *clocktest.Clock) {
	t.Helper()
	clk := clocktest.New(monday.AddDate(0, 0, 30))
	s := NewServer(append([]Option{WithClock(clk.Now)}, opts...)...)
	t.Cleanup(s.Close)
	return s, clk
}

// answer is a decoded platform answer.
type answer map[string]any

func (a answer) code() int {
	n, _ := a["errcode"].(float64)
	return int(n)
}

func get(t *testing.T, s *Server, path string, q url.Values) answer {
	t.Helper()
	resp, err := http.Get(s.URL() + "/" + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func post(t *testing.T, s *Server, path, token string, body any) answer {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL()+"/"+path+"?access_token="+url.QueryEscape(token), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return answer{"http_status": float64(resp.StatusCode)}
	}
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func token(t *testing.T, s *Server) string {
	t.Helper()
	a := get(t, s, APIGetToken, url.Values{"appkey": {s.AppKey()}, "appsecret": {s.AppSecret()}})
	tok, _ := a["access_token"].(string)
	if a.code() != 0 || tok == "" {
		t.Fatalf("gettoken = %v", a)
	}
	return tok
}

func TestGenerateCompanyIsDeterministic(t *testing.T) {
	a := GenerateCompany(7, 60, monday, 14)
	b := GenerateCompany(7, 60, monday, 14)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different companies")
	}
	c := GenerateCompany(8, 60, monday, 14)
	if reflect.DeepEqual(a.Records, c.Records) {
		t.Fatal("different seeds gave the same records")
	}
}

func TestGenerateCompanyShape(t *testing.T) {
	c := GenerateCompany(1, 200, monday, 7, WithUnmappedUsers(1))
	if got := len(c.WorkDays); got != 5 {
		t.Errorf("work days = %d (%v), want 5", got, c.WorkDays)
	}
	parent := map[int64]int64{}
	for _, d := range c.Depts {
		parent[d.ID] = d.Parent
	}
	depth := 0
	for id := range parent {
		n := 0
		for p := id; p != 0; p = parent[p] {
			n++
		}
		depth = max(depth, n)
	}
	if depth < 4 {
		t.Errorf("department tree depth = %d levels, want root + at least 3", depth)
	}
	unmapped, multi := 0, 0
	for _, u := range c.Users {
		if u.JobNumber == "" {
			unmapped++
		}
		if len(u.Depts) > 1 {
			multi++
		}
	}
	if unmapped != 1 || c.Users[len(c.Users)-1].JobNumber != "" {
		t.Errorf("unmapped users = %d, want the last one only", unmapped)
	}
	if multi == 0 {
		t.Error("no user sits in two departments")
	}
	seen := map[string]int{}
	for _, r := range c.Records {
		seen[r.TimeResult]++
		seen["loc:"+r.LocationResult]++
		seen["src:"+r.SourceType]++
		if r.InvalidRecordType != "" {
			seen["invalid"]++
		}
		if wd := r.CheckTime.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Fatalf("record %d on a %s", r.ID, wd)
		}
	}
	for _, k := range []string{"Normal", "Late", "Early", "loc:Outside", "src:USER", "src:ATM", "src:DING_ATM", "invalid"} {
		if seen[k] == 0 {
			t.Errorf("no %s record among %d", k, len(c.Records))
		}
	}
	// Missing punches: fewer records than 2 per user per work day plus invalid extras.
	if full := 2*len(c.Users)*len(c.WorkDays) + seen["invalid"]; len(c.Records) >= full {
		t.Errorf("records = %d, want fewer than %d (some punches missing)", len(c.Records), full)
	}
}

func TestGetToken(t *testing.T) {
	s, clk := newTestServer(t, WithTokenTTL(time.Hour))
	a := get(t, s, APIGetToken, url.Values{"appkey": {s.AppKey()}, "appsecret": {"wrong"}})
	if a.code() != CodeBadSecret {
		t.Fatalf("wrong secret: errcode %d, want %d", a.code(), CodeBadSecret)
	}
	first := token(t, s)
	clk.Advance(30 * time.Minute)
	if again := token(t, s); again != first {
		t.Fatal("a token within its life was not returned again")
	}
	// The second call extended the life to 30m + 1h from the start.
	clk.Advance(59 * time.Minute)
	if a := post(t, s, APIListSubDept, first, map[string]any{"dept_id": 1}); a.code() != 0 {
		t.Fatalf("extended token refused: %v", a)
	}
	clk.Advance(time.Minute)
	if a := post(t, s, APIListSubDept, first, map[string]any{"dept_id": 1}); a.code() != CodeExpiredToken {
		t.Fatalf("expired token: errcode %d, want %d", a.code(), CodeExpiredToken)
	}
	if next := token(t, s); next == first {
		t.Fatal("an expired token was issued again")
	}
	if got := s.TokensIssued(); got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
}

func TestTokenChecks(t *testing.T) {
	s, _ := newTestServer(t)
	tok := token(t, s)
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"missing": {"", CodeMissingToken},
		"unknown": {"nope", CodeInvalidToken},
		"valid":   {tok, 0},
	} {
		if a := post(t, s, APIListSubDept, tc.token, map[string]any{"dept_id": 1}); a.code() != tc.want {
			t.Errorf("%s token: errcode %d, want %d", name, a.code(), tc.want)
		}
	}
	s.RevokeTokens()
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}); a.code() != CodeInvalidToken {
		t.Errorf("revoked token: errcode %d, want %d", a.code(), CodeInvalidToken)
	}
}

func TestListRecordLimits(t *testing.T) {
	s, _ := newTestServer(t, WithCompany(GenerateCompany(3, 60, monday, 14)))
	tok := token(t, s)
	users := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s.Company().Users[i].UserID
		}
		return out
	}
	body := func(n int, from, to string) map[string]any {
		return map[string]any{"userIds": users(n), "checkDateFrom": from, "checkDateTo": to, "isI18n": false}
	}
	for name, tc := range map[string]struct {
		body map[string]any
		want int
	}{
		"50 users, 7 days":   {body(50, "2026-03-02 00:00:00", "2026-03-09 00:00:00"), 0},
		"51 users":           {body(51, "2026-03-02 00:00:00", "2026-03-03 00:00:00"), CodeInvalidParams},
		"7 days and 1s":      {body(1, "2026-03-02 00:00:00", "2026-03-09 00:00:01"), CodeInvalidParams},
		"to before from":     {body(1, "2026-03-03 00:00:00", "2026-03-02 00:00:00"), CodeInvalidParams},
		"bad date":           {body(1, "2026/03/02", "2026-03-03 00:00:00"), CodeInvalidParams},
		"no users":           {body(0, "2026-03-02 00:00:00", "2026-03-03 00:00:00"), CodeInvalidParams},
		"older than 180 day": {body(1, "2025-09-01 00:00:00", "2025-09-02 00:00:00"), CodeInvalidParams},
	} {
		if a := post(t, s, APIListRecord, tok, tc.body); a.code() != tc.want {
			t.Errorf("%s: errcode %d (%v), want %d", name, a.code(), a["errmsg"], tc.want)
		}
	}
}

func TestListRecordServesTheSpanInclusive(t *testing.T) {
	c := Company{CorpID: "dingx", Depts: []Dept{{ID: RootDept}}, Users: []User{{UserID: "u1", Depts: []int64{RootDept}}}}
	at := func(h, m, s int) time.Time {
		return monday.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	c.Records = []Record{
		{ID: 10, UserID: "u1", CheckTime: at(8, 59, 59), CheckType: "OnDuty", SourceType: "USER", HasLocation: true, Lat: 30.5, Lng: 120.25},
		{ID: 11, UserID: "u1", CheckTime: at(9, 0, 0), CheckType: "OnDuty", SourceType: "USER", HasLocation: true, Lat: 30.5, Lng: 120.25},
		{ID: 12, UserID: "u1", CheckTime: at(18, 0, 0), CheckType: "OffDuty", SourceType: "ATM"},
		{ID: 13, UserID: "u1", CheckTime: at(18, 0, 1), CheckType: "OffDuty", SourceType: "ATM"},
	}
	s, _ := newTestServer(t, WithCompany(c))
	tok := token(t, s)
	a := post(t, s, APIListRecord, tok, map[string]any{"userIds": []string{"u1", "u1"}, "checkDateFrom": "2026-03-02 09:00:00", "checkDateTo": "2026-03-02 18:00:00"})
	recs, _ := a["recordresult"].([]any)
	var ids []any
	for _, r := range recs {
		ids = append(ids, r.(map[string]any)["id"])
	}
	// Odd ids come as strings, even ids as numbers.
	if want := []any{"11", float64(12)}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids = %#v, want %#v", ids, want)
	}
	lat := recs[0].(map[string]any)["userLatitude"]
	if lat != "30.5" {
		t.Errorf("odd record latitude = %#v, want the string \"30.5\"", lat)
	}
	a = post(t, s, APIListRecord, tok, map[string]any{"userIds": []string{"u1"}, "checkDateFrom": "2026-03-02 00:00:00", "checkDateTo": "2026-03-03 00:00:00", "isI18n": true})
	if recs, _ := a["recordresult"].([]any); a.code() != 0 || len(recs) != 0 {
		t.Errorf("isI18n=true for a domestic org: %v, want an empty answer", a)
	}
}

func TestDuplicateAndAddRecords(t *testing.T) {
	c := GenerateCompany(5, 10, monday, 5)
	s, _ := newTestServer(t, WithCompany(c))
	if got := s.Duplicate(4); got != 4 {
		t.Fatalf("Duplicate(4) = %d", got)
	}
	tok := token(t, s)
	ids := make([]string, len(c.Users))
	for i, u := range c.Users {
		ids[i] = u.UserID
	}
	count := func() int {
		a := post(t, s, APIListRecord, tok, map[string]any{"userIds": ids, "checkDateFrom": "2026-03-02 00:00:00", "checkDateTo": "2026-03-09 00:00:00"})
		recs, _ := a["recordresult"].([]any)
		return len(recs)
	}
	if got, want := count(), len(c.Records)+4; got != want {
		t.Errorf("served %d records, want %d (4 twice)", got, want)
	}
	s.AddRecords(Record{UserID: ids[0], CheckTime: monday.Add(20 * time.Hour), CheckType: "OffDuty", SourceType: "ATM"})
	if got, want := count(), len(c.Records)+5; got != want {
		t.Errorf("after AddRecords served %d, want %d", got, want)
	}
	if s.RecordCount() != len(c.Records)+1 {
		t.Errorf("RecordCount = %d, want %d", s.RecordCount(), len(c.Records)+1)
	}
}

func TestFailuresAndQPS(t *testing.T) {
	s, _ := newTestServer(t, WithQPS(2))
	tok := token(t, s)
	s.FailNext(APIListSubDept, CodeBusy, 1)
	s.FailNext(APIListSubDept, 503, 1)
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}); a.code() != CodeBusy {
		t.Errorf("first call: %v, want busy", a)
	}
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}); a["http_status"] != float64(503) {
		t.Errorf("second call: %v, want HTTP 503", a)
	}
	codes := []int{}
	for i := 0; i < 3; i++ {
		codes = append(codes, post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}).code())
	}
	if !reflect.DeepEqual(codes, []int{0, 0, CodeAppQPS}) {
		t.Errorf("codes at 2 QPS = %v, want [0 0 %d]", codes, CodeAppQPS)
	}
	if got := s.Calls(APIListSubDept); got != 5 {
		t.Errorf("Calls = %d, want 5", got)
	}
}

func TestDirectory(t *testing.T) {
	c := Company{CorpID: "dingx", Depts: []Dept{{ID: 1}, {ID: 2, Parent: 1}, {ID: 3, Parent: 2}}}
	for i := 0; i < 150; i++ {
		c.Users = append(c.Users, User{UserID: fmt.Sprintf("u%03d", i), Depts: []int64{3}})
	}
	s, _ := newTestServer(t, WithCompany(c))
	tok := token(t, s)
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 1}); !reflect.DeepEqual(a["result"], map[string]any{"dept_id_list": []any{float64(2)}}) {
		t.Errorf("listsubid 1 = %v, want only the direct child 2", a)
	}
	if a := post(t, s, APIListSubDept, tok, map[string]any{"dept_id": 9}); a.code() != CodeDeptNotFound {
		t.Errorf("unknown department: %v", a)
	}
	if a := post(t, s, APIUserList, tok, map[string]any{"dept_id": 3, "cursor": 0, "size": 101}); a.code() != CodeIllegalParam {
		t.Errorf("size 101: %v, want %d", a, CodeIllegalParam)
	}
	total := 0
	cursor := float64(0)
	for pages := 0; ; pages++ {
		a := post(t, s, APIUserList, tok, map[string]any{"dept_id": 3, "cursor": cursor, "size": 100})
		res := a["result"].(map[string]any)
		total += len(res["list"].([]any))
		if res["has_more"] != true {
			if pages != 1 {
				t.Errorf("pages = %d, want 2", pages+1)
			}
			break
		}
		cursor = res["next_cursor"].(float64)
	}
	if total != 150 {
		t.Errorf("listed %d users, want 150", total)
	}
}
