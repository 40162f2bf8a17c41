package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

// call sends one request to h with the bearer token (none when empty).
func call(t *testing.T, h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decodeJSON decodes a response body, failing the test when it is not JSON.
func decodeJSON[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer is not the JSON expected: %v\n%s", err, rec.Body)
	}
	return v
}

// TestRoleMatrix sends every admin API endpoint with no token, a wrong
// token and each role's token, and checks the status: 401 without a valid
// token, 403 when the role is too low, 200 otherwise.
func TestRoleMatrix(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	const (
		anyone   = "viewer"
		operator = "operator"
		admin    = "admin"
	)
	endpoints := []struct {
		method, path, body string
		need               string
	}{
		{"GET", "/api/v1/whoami", "", anyone},
		{"GET", "/api/v1/status", "", anyone},
		{"GET", "/api/v1/connectors", "", anyone},
		{"GET", "/api/v1/events?employee=E1002&date=2026-11-18", "", anyone},
		{"GET", "/api/v1/days?employee=E1002&from=2026-11-16&to=2026-11-20", "", anyone},
		{"GET", "/api/v1/days/E1002/2026-11-18", "", anyone},
		{"GET", "/api/v1/days/E1002/2026-11-18/explain", "", anyone},
		{"GET", "/api/v1/dlq", "", anyone},
		{"GET", "/api/v1/jobs", "", anyone},
		{"GET", "/api/v1/jobs/nightly/runs", "", anyone},
		{"GET", "/api/v1/audit", "", admin},
		{"POST", "/api/v1/dlq/replay", fmt.Sprintf(`{"ids":[%d]}`, c.deadID), operator},
		{"POST", "/api/v1/jobs/nightly/run", "", operator},
		{"POST", "/api/v1/connectors/" + connector + "/pull", `{"from":"2026-11-18","to":"2026-11-20"}`, operator},
		{"POST", "/api/v1/identities/remap", `{"platform":"dingtalk","tenant":"ding5f3a","user_id":"u9","employee_id":"E1009"}`, admin},
	}
	callers := []struct {
		name, token string
		role        Role
	}{
		{"no token", "", ""},
		{"wrong token", "not-a-token-of-this-server", ""},
		{"viewer", viewerToken, RoleViewer},
		{"operator", operatorToken, RoleOperator},
		{"admin", adminToken, RoleAdmin},
	}
	for _, ep := range endpoints {
		for _, cl := range callers {
			want := http.StatusOK
			switch {
			case cl.role == "":
				want = http.StatusUnauthorized
			case !cl.role.allows(Role(ep.need)):
				want = http.StatusForbidden
			}
			t.Run(fmt.Sprintf("%s %s as %s", ep.method, ep.path, cl.name), func(t *testing.T) {
				rec := call(t, h, ep.method, ep.path, cl.token, ep.body)
				if rec.Code != want {
					t.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("content type %q, want JSON", ct)
				}
				if want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	}
}

func TestBearerParsing(t *testing.T) {
	h := New(newCompany(t).options())
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"scheme in lower case", "bearer " + viewerToken, 200},
		{"extra spaces", "Bearer   " + viewerToken + "  ", 200},
		{"basic scheme", "Basic " + viewerToken, 401},
		{"no scheme", viewerToken, 401},
		{"a prefix of a token", "Bearer " + viewerToken[:len(viewerToken)-1], 401},
		{"a token with more", "Bearer " + viewerToken + "x", 401},
		{"empty", "Bearer ", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/v1/whoami", nil)
			req.Header.Set("Authorization", tc.header)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

// Tokens that config validation would refuse open nothing.
func TestInvalidTokensOpenNothing(t *testing.T) {
	o := newCompany(t).options()
	o.Tokens = []Token{{Name: "blank", Value: "", Role: RoleAdmin}, {Name: "odd", Value: "odd-role-0123456789", Role: "root"}, {Name: "", Value: "nameless-0123456789", Role: RoleAdmin}}
	h := New(o)
	for _, tok := range []string{"odd-role-0123456789", "nameless-0123456789"} {
		if rec := call(t, h, "GET", "/api/v1/whoami", tok, ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", tok, rec.Code)
		}
	}
}

func TestMutatingCallsAreAudited(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	steps := []struct {
		token, method, path, body string
		want                      int
	}{
		{operatorToken, "POST", "/api/v1/dlq/replay", fmt.Sprintf(`{"ids":[%d]}`, c.deadID), 200},
		{viewerToken, "POST", "/api/v1/jobs/nightly/run", "", 403},
		{operatorToken, "POST", "/api/v1/identities/remap", `{"platform":"dingtalk","tenant":"ding5f3a","user_id":"u9"}`, 403},
		{adminToken, "POST", "/api/v1/identities/remap", `{"platform":"dingtalk","tenant":"ding5f3a","user_id":"u9","employee_id":"E1009"}`, 200},
		{operatorToken, "POST", "/api/v1/connectors/dingtalk-hq/pull", `{"from":"2026-11-19","to":"2026-11-20"}`, 200},
		{"", "POST", "/api/v1/jobs/nightly/run", "", 401}, // nobody to record
		{adminToken, "POST", "/api/v1/jobs/nightly/run", "", 500},
	}
	for i, st := range steps {
		if i == len(steps)-1 {
			c.mu.Lock()
			c.jobFail = fmt.Errorf("sync: pull dingtalk-hq: dingtalk: rate limited")
			c.mu.Unlock()
		}
		if rec := call(t, h, st.method, st.path, st.token, st.body); rec.Code != st.want {
			t.Fatalf("%s %s: status %d, want %d: %s", st.method, st.path, rec.Code, st.want, rec.Body)
		}
	}
	entries, err := c.ledger.AuditEntries(t.Context(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !e.At.Equal(companyNow) {
			t.Errorf("entry %d at %v, want the server's clock %v", e.ID, e.At, companyNow)
		}
		got = append(got, strings.Join([]string{e.Who, e.Role, e.Action, e.Target, e.Result}, " "))
	}
	want := []string{
		fmt.Sprintf("otto operator dlq.replay outbox %d ok", c.deadID),
		"vera viewer job.run /api/v1/jobs/nightly/run forbidden",
		"otto operator identity.remap /api/v1/identities/remap forbidden",
		"ada admin identity.remap dingtalk/ding5f3a/u9 ok",
		"otto operator connector.pull dingtalk-hq ok",
		"ada admin job.run nightly failed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := entries[0].Detail; !strings.Contains(d, "rate limited") {
		t.Errorf("the failed run's detail %q does not carry its error", d)
	}
	wantCalls := "remap dingtalk/ding5f3a/u9 E1009|pull dingtalk-hq 2026-11-19T00:00:00+08:00 2026-11-21T00:00:00+08:00|job nightly"
	if got := strings.Join(c.recorded(), "|"); got != wantCalls {
		t.Errorf("calls %s, want %s", got, wantCalls)
	}
}

// Without an audit log a mutating call does not happen.
func TestNoAuditLogNoMutation(t *testing.T) {
	c := newCompany(t)
	o := c.options()
	o.Ledger = withoutAudit{c.ledger}
	h := New(o)
	if rec := call(t, h, "POST", "/api/v1/jobs/nightly/run", adminToken, ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if calls := c.recorded(); len(calls) != 0 {
		t.Fatalf("the job ran: %v", calls)
	}
	if rec := call(t, h, "GET", "/api/v1/jobs", viewerToken, ""); rec.Code != http.StatusOK {
		t.Fatalf("reads stop working without an audit log: %d", rec.Code)
	}
}

// withoutAudit hides every interface of a ledger but ledger.Ledger.
type withoutAudit struct{ ledger.Ledger }

func TestReplayDeliversAndEmptiesTheQueue(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	rec := call(t, h, "POST", "/api/v1/dlq/replay", operatorToken, `{"sink":"hr","since":"2026-11-01"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	res := decodeJSON[replayResult](t, rec)
	if len(res.Requeued) != 1 || res.Requeued[0] != c.deadID || res.Push == nil || res.Push.Delivered != 1 {
		t.Fatalf("replay %+v, want delivery %d requeued and delivered", res, c.deadID)
	}
	if got := c.sink.delivered(); len(got) != 1 || got[0] != "hr:E1004:2026-11-17:standard:v1" {
		t.Fatalf("sink got %v", got)
	}
	dlq := decodeJSON[struct{ Count int }](t, call(t, h, "GET", "/api/v1/dlq", viewerToken, ""))
	if dlq.Count != 0 {
		t.Fatalf("%d entries left in the queue", dlq.Count)
	}
	// Replaying it again finds it no longer dead.
	res = decodeJSON[replayResult](t, call(t, h, "POST", "/api/v1/dlq/replay", operatorToken, fmt.Sprintf(`{"ids":[%d, 999]}`, c.deadID)))
	if len(res.Requeued) != 0 || len(res.NotDead) != 1 || len(res.Unknown) != 1 || res.Unknown[0] != 999 {
		t.Fatalf("second replay %+v", res)
	}
}

func TestBadRequests(t *testing.T) {
	h := New(newCompany(t).options())
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
		mention                   string
	}{
		{"GET", "/api/v1/events?employee=E1001", viewerToken, "", 400, `date ""`},
		{"GET", "/api/v1/events?date=20.11.2026", viewerToken, "", 400, "YYYY-MM-DD"},
		{"GET", "/api/v1/days?from=2026-11-20&to=2026-11-01", viewerToken, "", 400, "from <= to"},
		{"GET", "/api/v1/days?from=2020-01-01&to=2026-11-01", viewerToken, "", 400, "more than 366 days"},
		{"GET", "/api/v1/days/E1001/today", viewerToken, "", 400, `date "today"`},
		{"GET", "/api/v1/days/E1001/2026-11-21", viewerToken, "", 404, "no day record"},
		{"GET", "/api/v1/dlq?since=yesterday", viewerToken, "", 400, `since "yesterday"`},
		{"GET", "/api/v1/jobs/weekly/runs", viewerToken, "", 404, `no job named "weekly"`},
		{"GET", "/api/v1/jobs/nightly/runs?limit=0", viewerToken, "", 400, "limit"},
		{"POST", "/api/v1/jobs/weekly/run", operatorToken, "", 404, `no job named "weekly"`},
		{"POST", "/api/v1/dlq/replay", operatorToken, "", 400, "either ids"},
		{"POST", "/api/v1/dlq/replay", operatorToken, `{"ids":[1],"sink":"hr"}`, 400, "either ids"},
		{"POST", "/api/v1/dlq/replay", operatorToken, `{"idz":[1]}`, 400, `unknown field "idz"`},
		{"POST", "/api/v1/connectors/nowhere/pull", operatorToken, `{"from":"2026-11-18","to":"2026-11-20"}`, 404, `no connector named "nowhere"`},
		{"POST", "/api/v1/connectors/dingtalk-hq/pull", operatorToken, `{"from":"18 Nov","to":"2026-11-20"}`, 400, `from: "18 Nov"`},
		{"POST", "/api/v1/connectors/dingtalk-hq/pull", operatorToken, `{"from":"2026-11-20","to":"2026-11-18"}`, 400, "is not after"},
		{"POST", "/api/v1/identities/remap", adminToken, `{"platform":"dingtalk"}`, 400, "all three are required"},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			rec := call(t, h, tc.method, tc.path, tc.token, tc.body)
			msg := decodeJSON[apiError](t, rec).Error
			if rec.Code != tc.want || !strings.Contains(msg, tc.mention) {
				t.Errorf("status %d %q, want %d mentioning %q", rec.Code, msg, tc.want, tc.mention)
			}
		})
	}
}

// Features not wired answer 501, and reads that need no feature still work.
func TestUnwiredFeatures(t *testing.T) {
	h := New(Options{Tokens: []Token{{Name: "ada", Value: adminToken, Role: RoleAdmin}}})
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/days/E1/2026-11-20/explain", "", 501},
		{"GET", "/api/v1/days/E1/2026-11-20", "", 501},
		{"GET", "/api/v1/dlq", "", 501},
		{"GET", "/api/v1/jobs", "", 200},
		{"GET", "/api/v1/connectors", "", 200},
		{"POST", "/api/v1/jobs/nightly/run", "", 503}, // no audit log, so nothing mutates
	} {
		if rec := call(t, h, tc.method, tc.path, adminToken, tc.body); rec.Code != tc.want {
			t.Errorf("%s %s: status %d, want %d: %s", tc.method, tc.path, rec.Code, tc.want, rec.Body)
		}
	}
}
