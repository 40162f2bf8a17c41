package server

import (
	"bytes"
	"crypto/hmac"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/ledger"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Cookies of the status page besides the session.
const (
	flashCookie = "pb_flash" // a one-time message shown after a redirect
	csrfKey     = "punchbridge.csrf"
)

// pages are the status page's templates, one set per page, each with the
// shared layout.
type pages map[string]*template.Template

func parsePages(loc *time.Location) (pages, error) {
	funcs := template.FuncMap{
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("2006-01-02 15:04:05")
		},
		"hm": func(t *time.Time) string {
			if t == nil {
				return "—"
			}
			return t.In(loc).Format("15:04:05")
		},
		"join":    strings.Join,
		"daylink": dayLink,
	}
	out := pages{}
	for _, name := range []string{"login", "status", "day", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("server: parse the %s page: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// mustParsePages parses the embedded templates; they are part of the
// binary, so an error is a bug caught by every test.
func mustParsePages(loc *time.Location) pages {
	p, err := parsePages(loc)
	if err != nil {
		panic(err)
	}
	return p
}

// render executes a page into a buffer first, so that a template error
// answers 500 instead of half a page.
func (s *server) render(c *gin.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("status page not rendered", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "the page could not be rendered; see the server log\n")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// errorPage shows a message on the layout.
func (s *server) errorPage(c *gin.Context, status int, format string, args ...any) {
	c.Abort()
	s.render(c, status, "error", gin.H{"Title": http.StatusText(status), "Message": fmt.Sprintf(format, args...),
		"Who": pagePrincipal(c), "CSRF": c.GetString(csrfKey)})
}

// page registers the status page's routes.
func (s *server) page(r *gin.Engine) {
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	r.StaticFS("/static", http.FS(static))
	r.GET("/login", s.loginForm)
	r.POST("/login", s.login)
	r.POST("/logout", s.pageAuth(RoleViewer, ""), s.logout)
	r.GET("/", s.pageAuth(RoleViewer, ""), s.statusPage)
	r.GET("/days/:employee/:date", s.pageAuth(RoleViewer, ""), s.dayPage)
	r.POST("/dlq/:id/replay", s.pageAuth(RoleOperator, actionReplay), s.replayPage)
}

// pagePrincipal returns who is logged in, when pageAuth ran.
func pagePrincipal(c *gin.Context) *principal {
	p, ok := c.Get(principalKey)
	if !ok {
		return nil
	}
	pr := p.(principal)
	return &pr
}

// pageAuth lets through a valid session whose role allows need: without
// one a GET goes to the login form and a POST is refused. A POST must
// carry the session's form token. A refusal by role of a mutating call
// (action set) is audited, as in the API.
func (s *server) pageAuth(need Role, action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cookie, err := c.Cookie(sessionCookie)
		p, csrf, ok := principal{}, "", false
		if err == nil {
			p, csrf, ok = s.auth.session(cookie, s.o.Now())
		}
		if !ok {
			if c.Request.Method == http.MethodGet {
				c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
				c.Abort()
				return
			}
			s.errorPage(c, http.StatusUnauthorized, "Your session has ended. Log in again.")
			return
		}
		c.Set(principalKey, p)
		c.Set(csrfKey, csrf)
		if c.Request.Method == http.MethodPost && !hmac.Equal([]byte(c.PostForm("csrf")), []byte(csrf)) {
			s.errorPage(c, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
			return
		}
		if action != "" && s.audit == nil {
			s.errorPage(c, http.StatusServiceUnavailable, "This ledger keeps no audit log, so changes are refused.")
			return
		}
		if !p.role.allows(need) {
			if action != "" {
				s.record(c, p, action, c.Request.URL.Path, ledger.AuditForbidden, fmt.Sprintf("role %s; %s needed", p.role, need))
			}
			s.errorPage(c, http.StatusForbidden, "Your token (%s, role %s) may not do this; it needs the %s role.", p.name, p.role, need)
			return
		}
		c.Next()
	}
}

func (s *server) loginForm(c *gin.Context) {
	s.render(c, http.StatusOK, "login", gin.H{"Title": "Log in", "Next": safeNext(c.Query("next"))})
}

// login opens a session for a valid token and goes on to next.
func (s *server) login(c *gin.Context) {
	next := safeNext(c.PostForm("next"))
	p, ok := s.auth.token(strings.TrimSpace(c.PostForm("token")))
	if !ok {
		s.render(c, http.StatusUnauthorized, "login", gin.H{"Title": "Log in", "Next": next, "Error": "That token is not valid."})
		return
	}
	value, _ := s.auth.issue(p, s.o.Now())
	s.setCookie(c, sessionCookie, value, sessionTTL)
	if s.audit != nil {
		s.record(c, p, actionLogin, "status page", ledger.AuditOK, "")
	}
	c.Redirect(http.StatusSeeOther, next)
}

func (s *server) logout(c *gin.Context) {
	s.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

// setCookie sets an HttpOnly, SameSite=Strict cookie on the whole site,
// Secure when the request came over TLS; a negative ttl deletes it.
func (s *server) setCookie(c *gin.Context, name, value string, ttl time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil}
	if ttl < 0 {
		ck.MaxAge = -1
	} else {
		ck.MaxAge = int(ttl.Seconds())
	}
	http.SetCookie(c.Writer, ck)
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// flash takes the one-time message left by the previous request.
func (s *server) flash(c *gin.Context) string {
	v, err := c.Cookie(flashCookie)
	if err != nil || v == "" {
		return ""
	}
	s.setCookie(c, flashCookie, "", -1)
	msg, err := url.QueryUnescape(v)
	if err != nil {
		return ""
	}
	return msg
}

func (s *server) statusPage(c *gin.Context) {
	v, err := s.statusView(c.Request.Context(), *pagePrincipal(c), c.GetString(csrfKey), c.Query("month"))
	if errors.Is(err, errBadMonth) {
		s.errorPage(c, http.StatusBadRequest, "month %q: write it as YYYY-MM, e.g. ?month=2026-11", c.Query("month"))
		return
	}
	if err != nil {
		s.log.Error("status page failed", "err", err)
		s.errorPage(c, http.StatusInternalServerError, "The status could not be read: %v", err)
		return
	}
	v.Flash = s.flash(c)
	s.render(c, http.StatusOK, "status", v)
}

func (s *server) dayPage(c *gin.Context) {
	emp, date := c.Param("employee"), c.Param("date")
	if !validDate(date) {
		s.errorPage(c, http.StatusBadRequest, "date %q: write it as YYYY-MM-DD", date)
		return
	}
	v, err := s.dayView(c.Request.Context(), emp, date)
	if err != nil {
		s.log.Error("day page failed", "employee_id", emp, "date", date, "err", err)
		s.errorPage(c, http.StatusInternalServerError, "The day could not be read: %v", err)
		return
	}
	v.Who = pagePrincipal(c)
	v.CSRF = c.GetString(csrfKey)
	s.render(c, http.StatusOK, "day", v)
}

// replayPage replays one dead delivery and returns to the queue.
func (s *server) replayPage(c *gin.Context) {
	p := *pagePrincipal(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.errorPage(c, http.StatusBadRequest, "delivery id %q is not a number", c.Param("id"))
		return
	}
	res, err := s.replay(c.Request.Context(), []int64{id}, "")
	s.record(c, p, actionReplay, replayTarget([]int64{id}), result(err), detail(replayRequest{IDs: []int64{id}}, res, err))
	var msg string
	switch {
	case len(res.Unknown) > 0:
		msg = fmt.Sprintf("Delivery %d does not exist.", id)
	case len(res.NotDead) > 0:
		msg = fmt.Sprintf("Delivery %d is not in the dead-letter queue any more.", id)
	case err != nil:
		msg = fmt.Sprintf("Delivery %d was requeued, but the push failed: %v", id, err)
	case res.Push == nil:
		msg = fmt.Sprintf("Delivery %d was requeued; the next push delivers it.", id)
	default:
		msg = fmt.Sprintf("Delivery %d replayed: %d delivered, %d failed again (%d back in the queue).", id, res.Push.Delivered, res.Push.Failed, res.Push.DeadLettered)
	}
	s.setCookie(c, flashCookie, url.QueryEscape(msg), time.Minute)
	c.Redirect(http.StatusSeeOther, "/#dlq")
}
