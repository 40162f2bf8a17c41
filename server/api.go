package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/explain"
	"github.com/punchbridge/punchbridge/ledger"
)

var (
	errNoDeadLetters = errors.New("this ledger keeps no dead-letter queue")
	errNoRunLog      = errors.New("this ledger keeps no job-run log")
)

// principalKey is where require leaves the caller in the gin context.
const principalKey = "punchbridge.principal"

// maxDays bounds the date range of one GET /days.
const maxDays = 366

// api registers the admin API's routes.
func (s *server) api(g *gin.RouterGroup) {
	read := s.require(RoleViewer, "")
	g.GET("/whoami", read, s.whoami)
	g.GET("/status", read, s.status)
	g.GET("/connectors", read, s.listConnectors)
	g.GET("/events", read, s.listEvents)
	g.GET("/days", read, s.listDays)
	g.GET("/days/:employee/:date", read, s.getDay)
	g.GET("/days/:employee/:date/explain", read, s.explainDay)
	g.GET("/dlq", read, s.listDLQ)
	g.GET("/jobs", read, s.listJobs)
	g.GET("/jobs/:name/runs", read, s.jobRuns)
	g.GET("/audit", s.require(RoleAdmin, ""), s.listAudit)

	g.POST("/dlq/replay", s.require(RoleOperator, actionReplay), s.replayDLQ)
	g.POST("/jobs/:name/run", s.require(RoleOperator, actionJobRun), s.runJob)
	g.POST("/connectors/:name/pull", s.require(RoleOperator, actionPull), s.pullConnector)
	g.POST("/identities/remap", s.require(RoleAdmin, actionRemap), s.remapIdentity)
}

// require lets through a bearer token whose role allows need: no or a
// wrong token answers 401, a role too low 403. For a mutating call
// (action set) a refusal by role is written to the audit log, and without
// an audit log the call is refused with 503.
func (s *server) require(need Role, action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := s.auth.bearer(c.Request)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="punchbridge"`)
			abort(c, http.StatusUnauthorized, "missing or wrong bearer token; send Authorization: Bearer <a token from admin.tokens in the config>")
			return
		}
		if action != "" && s.audit == nil {
			abort(c, http.StatusServiceUnavailable, "this ledger keeps no audit log, so mutating calls are refused")
			return
		}
		if !p.role.allows(need) {
			if action != "" {
				s.record(c, p, action, c.Request.URL.Path, ledger.AuditForbidden, fmt.Sprintf("role %s; %s needed", p.role, need))
			}
			abort(c, http.StatusForbidden, "token %q has role %s; this call needs %s", p.name, p.role, need)
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

func caller(c *gin.Context) principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(principal)
	return pr
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func abort(c *gin.Context, status int, format string, args ...any) {
	c.AbortWithStatusJSON(status, apiError{Error: fmt.Sprintf(format, args...)})
}

// fail answers err: 404 for ledger.ErrNotFound, 501 for a missing ledger
// feature, else 500.
func (s *server) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		abort(c, http.StatusNotFound, "%v", err)
	case errors.Is(err, explain.ErrInvalid):
		abort(c, http.StatusBadRequest, "%v", err)
	case errors.Is(err, errNoDeadLetters), errors.Is(err, errNoRunLog):
		abort(c, http.StatusNotImplemented, "%v", err)
	default:
		s.log.Error("admin api call failed", "path", c.FullPath(), "err", err)
		abort(c, http.StatusInternalServerError, "%v", err)
	}
}

// needLedger answers 501 when no ledger is configured.
func (s *server) needLedger(c *gin.Context) bool {
	if s.o.Ledger == nil {
		abort(c, http.StatusNotImplemented, "no ledger is configured")
		return false
	}
	return true
}

func (s *server) job(name string) (Job, bool) {
	for _, j := range s.o.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return Job{}, false
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func mustDate(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// parseSince reads a since parameter: RFC 3339 or a date (its midnight
// UTC); empty is the zero time.
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: write RFC 3339 (2026-11-21T02:00:00+08:00) or a date (2026-11-21)", v)
}
