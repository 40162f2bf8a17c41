package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// The admin API's read handlers; every one needs the viewer role, the
// audit log the admin role.

func (s *server) whoami(c *gin.Context) {
	p := caller(c)
	c.JSON(http.StatusOK, gin.H{"name": p.name, "role": p.role})
}

// status is the status page's data: connectors, today's and yesterday's
// counts, and the dead-letter queue's size.
func (s *server) status(c *gin.Context) {
	ctx := c.Request.Context()
	conns, err := s.connectorStates(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.counts(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	dlq := -1
	if s.dead != nil {
		dead, err := s.deadLetters(ctx, "", time.Time{})
		if err != nil {
			s.fail(c, err)
			return
		}
		dlq = len(dead)
	}
	c.JSON(http.StatusOK, gin.H{"now": s.o.Now(), "connectors": conns, "counts": counts, "dlq_size": dlq})
}

func (s *server) listConnectors(c *gin.Context) {
	conns, err := s.connectorStates(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"connectors": conns})
}

func (s *server) listEvents(c *gin.Context) {
	if !s.needLedger(c) {
		return
	}
	date := c.Query("date")
	if !validDate(date) {
		abort(c, http.StatusBadRequest, "date %q: give the work day as YYYY-MM-DD, e.g. ?employee=E1001&date=2026-11-20", date)
		return
	}
	out, err := s.events(c.Request.Context(), c.Query("employee"), date)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) listDays(c *gin.Context) {
	if !s.needLedger(c) {
		return
	}
	from, to := c.Query("from"), c.Query("to")
	if !validDate(from) || !validDate(to) || to < from {
		abort(c, http.StatusBadRequest, "from %q, to %q: give both as YYYY-MM-DD with from <= to, e.g. ?employee=E1001&from=2026-11-01&to=2026-11-30", from, to)
		return
	}
	if f, t := mustDate(from), mustDate(to); t.Sub(f) > maxDays*24*time.Hour {
		abort(c, http.StatusBadRequest, "from %s to %s spans more than %d days; ask for a shorter range", from, to, maxDays)
		return
	}
	days, err := s.o.Ledger.Days(c.Request.Context(), c.Query("employee"), from, to)
	if err != nil {
		s.fail(c, err)
		return
	}
	if days == nil {
		days = []mapping.DayRecord{}
	}
	c.JSON(http.StatusOK, gin.H{"days": days})
}

func (s *server) getDay(c *gin.Context) {
	if !s.needLedger(c) {
		return
	}
	emp, date := c.Param("employee"), c.Param("date")
	if !validDate(date) {
		abort(c, http.StatusBadRequest, "date %q: write it as YYYY-MM-DD, e.g. /api/v1/days/%s/2026-11-20", date, emp)
		return
	}
	days, err := s.day(c.Request.Context(), emp, date)
	if errors.Is(err, ledger.ErrNotFound) {
		abort(c, http.StatusNotFound, "no day record of %s on %s (not computed yet, or no such employee)", emp, date)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"employee": emp, "date": date, "records": days})
}

func (s *server) explainDay(c *gin.Context) {
	emp, date := c.Param("employee"), c.Param("date")
	if !validDate(date) {
		abort(c, http.StatusBadRequest, "date %q: write it as YYYY-MM-DD, e.g. /api/v1/days/%s/2026-11-20/explain", date, emp)
		return
	}
	if s.o.Explain == nil {
		abort(c, http.StatusNotImplemented, "explain is not available in this server")
		return
	}
	x, err := s.o.Explain(c.Request.Context(), emp, date)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, x)
}

func (s *server) listDLQ(c *gin.Context) {
	since, err := parseSince(c.Query("since"))
	if err != nil {
		abort(c, http.StatusBadRequest, "%v", err)
		return
	}
	entries, err := s.deadLetters(c.Request.Context(), c.Query("sink"), since)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries, "count": len(entries)})
}

// jobState is a configured job with its latest run.
type jobState struct {
	Name     string   `json:"name"`
	Schedule string   `json:"schedule"`
	LastRun  *runView `json:"last_run"`
}

// runView is a recorded job run as the API shows it.
type runView struct {
	ID              int64           `json:"id"`
	Job             string          `json:"job"`
	Tick            time.Time       `json:"tick"`
	Trigger         string          `json:"trigger"`
	Owner           string          `json:"owner"`
	Started         time.Time       `json:"started"`
	Finished        *time.Time      `json:"finished"`
	DurationSeconds *float64        `json:"duration_seconds"`
	Outcome         string          `json:"outcome"`
	Error           string          `json:"error,omitempty"`
	Report          json.RawMessage `json:"report,omitempty"`
}

func viewRun(r ledger.JobRun) runView {
	v := runView{ID: r.ID, Job: r.Job, Tick: r.Tick, Trigger: r.Trigger, Owner: r.Owner, Started: r.Started, Outcome: string(r.Outcome), Error: r.Error}
	if !r.Finished.IsZero() {
		f, d := r.Finished, r.Finished.Sub(r.Started).Seconds()
		v.Finished, v.DurationSeconds = &f, &d
	}
	if json.Valid(r.Counts) {
		v.Report = r.Counts
	}
	return v
}

// auditView is an audit entry as the API shows it.
type auditView struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Role   string    `json:"role"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Result string    `json:"result"`
	Detail string    `json:"detail"`
}

func (s *server) listJobs(c *gin.Context) {
	out := make([]jobState, 0, len(s.o.Jobs))
	for _, j := range s.o.Jobs {
		st := jobState{Name: j.Name, Schedule: j.Schedule}
		if s.runs != nil {
			runs, err := s.runs.Runs(c.Request.Context(), j.Name, 1)
			if err != nil {
				s.fail(c, err)
				return
			}
			if len(runs) > 0 {
				v := viewRun(runs[0])
				st.LastRun = &v
			}
		}
		out = append(out, st)
	}
	c.JSON(http.StatusOK, gin.H{"jobs": out})
}

func (s *server) jobRuns(c *gin.Context) {
	name := c.Param("name")
	if _, ok := s.job(name); !ok {
		abort(c, http.StatusNotFound, "no job named %q; GET /api/v1/jobs lists them", name)
		return
	}
	limit := 20
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			abort(c, http.StatusBadRequest, "limit %q: give a number from 1 to 1000", v)
			return
		}
		limit = n
	}
	if s.runs == nil {
		s.fail(c, errNoRunLog)
		return
	}
	runs, err := s.runs.Runs(c.Request.Context(), name, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	views := make([]runView, len(runs))
	for i, r := range runs {
		views[i] = viewRun(r)
	}
	c.JSON(http.StatusOK, gin.H{"job": name, "runs": views})
}

func (s *server) listAudit(c *gin.Context) {
	if s.audit == nil {
		abort(c, http.StatusNotImplemented, "this ledger keeps no audit log")
		return
	}
	since, err := parseSince(c.Query("since"))
	if err != nil {
		abort(c, http.StatusBadRequest, "%v", err)
		return
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			abort(c, http.StatusBadRequest, "limit %q: give a number from 1 to 10000", v)
			return
		}
	}
	entries, err := s.audit.AuditEntries(c.Request.Context(), since, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	views := make([]auditView, len(entries))
	for i, e := range entries {
		views[i] = auditView(e)
	}
	c.JSON(http.StatusOK, gin.H{"entries": views})
}
