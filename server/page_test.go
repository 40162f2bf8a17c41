package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is a cookie-keeping client of a handler.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	return &browser{t: t, h: h, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rec
}

func (b *browser) login(token string) {
	b.t.Helper()
	rec := b.do("POST", "/login", url.Values{"token": {token}, "next": {"/"}})
	if rec.Code != http.StatusSeeOther {
		b.t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token from a page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the page")
	}
	return m[1]
}

func TestLogin(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	b := newBrowser(t, h)
	rec := b.do("GET", "/days/E1004/2026-11-17", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next=%2Fdays%2FE1004%2F2026-11-17" {
		t.Fatalf("without a session: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = b.do("POST", "/login", url.Values{"token": {"guess-0123456789abcdef"}})
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "not valid") || len(b.cookies) != 0 {
		t.Fatalf("wrong token: %d, cookies %v", rec.Code, b.cookies)
	}
	rec = b.do("POST", "/login", url.Values{"token": {viewerToken}, "next": {"/days/E1004/2026-11-17"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/days/E1004/2026-11-17" {
		t.Fatalf("login: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	ck := b.cookies[sessionCookie]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, viewerToken) {
		t.Fatalf("session cookie %+v", ck)
	}
	entries, _ := c.ledger.AuditEntries(t.Context(), time.Time{}, 0)
	if len(entries) != 1 || entries[0].Action != actionLogin || entries[0].Who != "vera" {
		t.Errorf("audit after login: %+v", entries)
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
		rec = b.do("POST", "/login", url.Values{"token": {viewerToken}, "next": {next}})
		if loc := rec.Header().Get("Location"); loc != "/" {
			t.Errorf("next %q redirects to %q, want /", next, loc)
		}
	}
}

func TestStatusPage(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	viewer := newBrowser(t, h)
	viewer.login(viewerToken)
	rec := viewer.do("GET", "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status page: %d %s", rec.Code, rec.Body)
	}
	page := rec.Body.String()
	for _, want := range []string{
		"dingtalk-hq", "h-ok", "2026-11-21 02:00:00", // the connector, healthy, its watermark
		"Records pushed", "<td>19</td>", // today's counts
		"dlq-" + fmt.Sprint(c.deadID), "unknown absence code", // the dead-letter queue
		"November 2026", "Team Engineering", "Team Sales", // a calendar per team
		`href="/days/E1004/2026-11-17" title="E1004 2026-11-17 standard: absent, missing [in out]"`,
		`href="/days/E1002/2026-11-18" title="E1002 2026-11-18 standard: present, late 25m"`,
		`href="/days/E1003/2026-11-19" title="E1003 2026-11-19 standard: present, missing [out]"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	if strings.Contains(page, `class="replay"`) {
		t.Error("a viewer is offered the replay button")
	}
	if strings.Contains(page, "Recent changes") {
		t.Error("a viewer sees the audit log")
	}

	rec = viewer.do("GET", "/days/E1004/2026-11-17", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("day page: %d %s", rec.Code, rec.Body)
	}
	for _, want := range []string{`id="status-standard">absent<`, "How it was computed", "Scheduled 2026-11-17 09:00:00"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("the day page lacks %q", want)
		}
	}
	if rec = viewer.do("GET", "/?month=11-2026", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bad month: %d", rec.Code)
	}
	if rec = viewer.do("GET", "/?month=2026-10", nil); !strings.Contains(rec.Body.String(), "No day records in October 2026") {
		t.Errorf("an empty month does not say so")
	}
}

func TestReplayFromThePage(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	replay := fmt.Sprintf("/dlq/%d/replay", c.deadID)

	viewer := newBrowser(t, h)
	viewer.login(viewerToken)
	tok := csrf(t, viewer.do("GET", "/", nil).Body.String())
	if rec := viewer.do("POST", replay, url.Values{"csrf": {tok}}); rec.Code != http.StatusForbidden {
		t.Fatalf("viewer replay: %d", rec.Code)
	}

	op := newBrowser(t, h)
	op.login(operatorToken)
	page := op.do("GET", "/", nil).Body.String()
	if !strings.Contains(page, `action="`+replay+`"`) {
		t.Fatal("the operator is not offered the replay button")
	}
	if rec := op.do("POST", replay, url.Values{"csrf": {"forged"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("replay with a forged form token: %d", rec.Code)
	}
	if rec := op.do("POST", replay, url.Values{"csrf": {tok}}); rec.Code != http.StatusForbidden {
		t.Fatalf("replay with another session's form token: %d", rec.Code)
	}
	rec := op.do("POST", replay, url.Values{"csrf": {csrf(t, page)}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/#dlq" {
		t.Fatalf("replay: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	page = op.do("GET", "/", nil).Body.String()
	if !strings.Contains(page, fmt.Sprintf("Delivery %d replayed: 1 delivered", c.deadID)) || !strings.Contains(page, "Empty: every delivery went through") {
		t.Fatalf("after the replay the page does not say so:\n%s", page)
	}
	if got := c.sink.delivered(); len(got) != 1 {
		t.Fatalf("sink got %v", got)
	}
	entries, _ := c.ledger.AuditEntries(t.Context(), time.Time{}, 0)
	var got []string
	for _, e := range entries {
		got = append(got, e.Who+" "+e.Action+" "+e.Result)
	}
	want := "otto dlq.replay ok|otto session.login ok|vera dlq.replay forbidden|vera session.login ok"
	if strings.Join(got, "|") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
	// The admin sees them on the page.
	admin := newBrowser(t, h)
	admin.login(adminToken)
	if page := admin.do("GET", "/", nil).Body.String(); !strings.Contains(page, "Recent changes") || !strings.Contains(page, "dlq.replay") {
		t.Error("the admin does not see the recent changes")
	}
}

func TestSessions(t *testing.T) {
	c := newCompany(t)
	o := c.options()
	now := companyNow
	o.Now = func() time.Time { return now }
	h := New(o)
	b := newBrowser(t, h)
	b.login(operatorToken)
	good := *b.cookies[sessionCookie]
	parts := strings.Split(good.Value, ".")
	for name, value := range map[string]string{
		"other name":   b64.EncodeToString([]byte("ada")) + "." + parts[1] + "." + parts[2],
		"later expiry": parts[0] + "." + fmt.Sprint(now.Add(48*time.Hour).Unix()) + "." + parts[2],
		"no signature": parts[0] + "." + parts[1] + ".",
		"garbage":      "x",
	} {
		b.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: value}
		if rec := b.do("GET", "/", nil); rec.Code != http.StatusSeeOther {
			t.Errorf("%s: %d, want a redirect to the login", name, rec.Code)
		}
	}
	b.cookies[sessionCookie] = &good
	if rec := b.do("GET", "/", nil); rec.Code != http.StatusOK {
		t.Fatalf("good session: %d", rec.Code)
	}
	now = now.Add(sessionTTL)
	if rec := b.do("GET", "/", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("expired session: %d", rec.Code)
	}
	now = companyNow
	// A session ends with its token: another server without it refuses it.
	o.Tokens = o.Tokens[:1]
	if rec := newBrowserWith(t, New(o), &good).do("GET", "/", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("session of a removed token: %d", rec.Code)
	}
	// Logging out drops the cookie.
	page := b.do("GET", "/", nil).Body.String()
	if rec := b.do("POST", "/logout", url.Values{"csrf": {csrf(t, page)}}); rec.Code != http.StatusSeeOther || b.cookies[sessionCookie] != nil {
		t.Errorf("logout: %d, cookie %v", rec.Code, b.cookies[sessionCookie])
	}
}

func newBrowserWith(t *testing.T, h http.Handler, c *http.Cookie) *browser {
	b := newBrowser(t, h)
	b.cookies[c.Name] = c
	return b
}

// TestPageRoleMatrix is the role matrix of the status page: without a
// valid session a page redirects to the login form and a form post is
// refused with 401; a role too low gets 403.
func TestPageRoleMatrix(t *testing.T) {
	c := newCompany(t)
	h := New(c.options())
	sessions := map[string]*browser{}
	for name, tok := range map[string]string{"viewer": viewerToken, "operator": operatorToken, "admin": adminToken} {
		b := newBrowser(t, h)
		b.login(tok)
		sessions[name] = b
	}
	wrong := newBrowser(t, h)
	wrong.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: b64.EncodeToString([]byte("ada")) + ".9999999999.bm9wZQ"}
	sessions["wrong"] = wrong
	sessions["none"] = newBrowser(t, h)

	routes := []struct {
		method, path string
		want         map[string]int
	}{
		{"GET", "/", map[string]int{"none": 303, "wrong": 303, "viewer": 200, "operator": 200, "admin": 200}},
		{"GET", "/days/E1002/2026-11-18", map[string]int{"none": 303, "wrong": 303, "viewer": 200, "operator": 200, "admin": 200}},
		{"POST", "/logout", map[string]int{"none": 401, "wrong": 401, "viewer": 303, "operator": 303, "admin": 303}},
		{"POST", fmt.Sprintf("/dlq/%d/replay", c.deadID), map[string]int{"none": 401, "wrong": 401, "viewer": 403, "operator": 303, "admin": 303}},
	}
	for _, r := range routes {
		for _, who := range []string{"none", "wrong", "viewer", "operator", "admin"} {
			b := sessions[who]
			var form url.Values
			if r.method == "POST" {
				form = url.Values{"csrf": {""}}
				if ck := b.cookies[sessionCookie]; ck != nil {
					form = url.Values{"csrf": {sessionCSRF(t, c, ck.Value)}}
				}
			}
			// Logging out would end the session the next rows use.
			if r.path == "/logout" {
				b = &browser{t: t, h: h, cookies: map[string]*http.Cookie{}}
				for k, v := range sessions[who].cookies {
					b.cookies[k] = v
				}
			}
			if rec := b.do(r.method, r.path, form); rec.Code != r.want[who] {
				t.Errorf("%s %s as %s: %d, want %d", r.method, r.path, who, rec.Code, r.want[who])
			}
		}
	}
}

// sessionCSRF is the form token of a session cookie, as its pages carry it.
func sessionCSRF(t *testing.T, c *company, cookie string) string {
	t.Helper()
	_, tok, ok := newAuthenticator(c.options().Tokens).session(cookie, companyNow)
	if !ok {
		return "none"
	}
	return tok
}
