package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/ledger"
)

// Audit actions of the mutating calls.
const (
	actionReplay = "dlq.replay"
	actionJobRun = "job.run"
	actionPull   = "connector.pull"
	actionRemap  = "identity.remap"
	actionLogin  = "session.login"
)

// maxBody bounds the JSON body of a mutating call.
const maxBody = 1 << 20

// record writes an audit entry for a call p made. The call has already
// happened, so a failed write cannot undo it: it is logged as an error.
func (s *server) record(c *gin.Context, p principal, action, target, result, detail string) {
	e := ledger.AuditEntry{At: s.o.Now(), Who: p.name, Role: string(p.role), Action: action, Target: target, Result: result, Detail: detail}
	if err := s.audit.Audit(context.WithoutCancel(c.Request.Context()), e); err != nil {
		s.log.Error("audit entry not written", "action", action, "who", p.name, "result", result, "err", err)
	}
}

// detail is an audit entry's detail: the request and the outcome as JSON.
func detail(request, outcome any, err error) string {
	d := map[string]any{"request": request, "outcome": outcome}
	if err != nil {
		d["error"] = err.Error()
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func result(err error) string {
	if err != nil {
		return ledger.AuditFailed
	}
	return ledger.AuditOK
}

// decode reads a JSON request body strictly into v; an empty body leaves v
// as it is.
func decode(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// replayRequest selects dead deliveries: by id, or by sink and the time
// they failed.
type replayRequest struct {
	IDs   []int64 `json:"ids,omitempty"`
	Sink  string  `json:"sink,omitempty"`
	Since string  `json:"since,omitempty"`
}

// replayResult is what a replay did.
type replayResult struct {
	Requeued []int64     `json:"requeued"`
	NotDead  []int64     `json:"not_dead"`
	Unknown  []int64     `json:"unknown"`
	Push     *PushResult `json:"push"`
	Error    string      `json:"error,omitempty"`
}

func (s *server) replayDLQ(c *gin.Context) {
	p := caller(c)
	var req replayRequest
	if err := decode(c, &req); err != nil {
		abort(c, http.StatusBadRequest, "%v; send {\"ids\": [42]} or {\"sink\": \"payroll\", \"since\": \"2026-11-21\"}", err)
		return
	}
	if len(req.IDs) > 0 && (req.Sink != "" || req.Since != "") || len(req.IDs) == 0 && req.Sink == "" && req.Since == "" {
		abort(c, http.StatusBadRequest, "give either ids, or sink and/or since: {\"ids\": [42]} or {\"sink\": \"payroll\", \"since\": \"2026-11-21\"}")
		return
	}
	ids := req.IDs
	if len(ids) == 0 {
		since, err := parseSince(req.Since)
		if err != nil {
			abort(c, http.StatusBadRequest, "%v", err)
			return
		}
		entries, err := s.deadLetters(c.Request.Context(), req.Sink, since)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
	}
	res, err := s.replay(c.Request.Context(), ids, req.Sink)
	if err != nil {
		res.Error = err.Error()
	}
	s.record(c, p, actionReplay, replayTarget(ids), result(err), detail(req, res, err))
	if err != nil && len(res.Requeued) == 0 {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func replayTarget(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "outbox " + strings.Join(parts, ",")
}

// replay puts dead deliveries back into the outbox and, when Push is set,
// delivers them at once (with whatever else of sink is due). An error
// after requeueing is a failed push, reported in the result too.
func (s *server) replay(ctx context.Context, ids []int64, sink string) (replayResult, error) {
	res := replayResult{Requeued: []int64{}, NotDead: []int64{}, Unknown: []int64{}}
	if s.dead == nil {
		return res, errNoDeadLetters
	}
	now := s.o.Now()
	for _, id := range ids {
		ok, err := s.dead.Requeue(ctx, id, now)
		switch {
		case errors.Is(err, ledger.ErrNotFound):
			res.Unknown = append(res.Unknown, id)
		case err != nil:
			return res, fmt.Errorf("server: requeue delivery %d: %w", id, err)
		case ok:
			res.Requeued = append(res.Requeued, id)
		default:
			res.NotDead = append(res.NotDead, id)
		}
	}
	if len(res.Requeued) == 0 || s.o.Push == nil {
		return res, nil
	}
	// The push must finish even if the operator closes the page.
	pr, err := s.o.Push(context.WithoutCancel(ctx), sink)
	res.Push = &pr
	if err != nil {
		return res, fmt.Errorf("server: deliver the replayed entries: %w", err)
	}
	return res, nil
}

// runResult is the answer of POST /jobs/{name}/run.
type runResult struct {
	Job     string `json:"job"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	Report  any    `json:"report"`
}

func (s *server) runJob(c *gin.Context) {
	p, name := caller(c), c.Param("name")
	j, ok := s.job(name)
	if !ok {
		abort(c, http.StatusNotFound, "no job named %q; GET /api/v1/jobs lists them", name)
		return
	}
	if j.Run == nil {
		abort(c, http.StatusNotImplemented, "job %s cannot be run from the admin API", name)
		return
	}
	// A run is not abandoned halfway because the caller hung up.
	report, err := j.Run(context.WithoutCancel(c.Request.Context()))
	out := runResult{Job: name, Outcome: "succeeded", Report: report}
	status := http.StatusOK
	if err != nil {
		out.Outcome, out.Error, status = "failed", err.Error(), http.StatusInternalServerError
		if errors.Is(err, ErrBusy) {
			out.Outcome, status = "busy", http.StatusConflict
		}
	}
	s.record(c, p, actionJobRun, name, result(err), detail(nil, out.Outcome, err))
	c.JSON(status, out)
}

// pullRequest is a window to re-pull: dates (inclusive, in the rules'
// time zone) or RFC 3339 instants.
type pullRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (s *server) pullConnector(c *gin.Context) {
	p, name := caller(c), c.Param("name")
	if !s.hasConnector(name) {
		abort(c, http.StatusNotFound, "no connector named %q; GET /api/v1/connectors lists them", name)
		return
	}
	var req pullRequest
	if err := decode(c, &req); err != nil {
		abort(c, http.StatusBadRequest, "%v; send {\"from\": \"2026-11-18\", \"to\": \"2026-11-20\"}", err)
		return
	}
	from, err := s.parseDay(req.From, false)
	if err != nil {
		abort(c, http.StatusBadRequest, "from: %v", err)
		return
	}
	to, err := s.parseDay(req.To, true)
	if err != nil {
		abort(c, http.StatusBadRequest, "to: %v", err)
		return
	}
	if !to.After(from) {
		abort(c, http.StatusBadRequest, "to %q is not after from %q", req.To, req.From)
		return
	}
	if s.o.Pull == nil {
		abort(c, http.StatusNotImplemented, "pulling from the admin API is not available in this server")
		return
	}
	summary, err := s.o.Pull(context.WithoutCancel(c.Request.Context()), name, from, to)
	s.record(c, p, actionPull, name, result(err), detail(req, summary, err))
	out := gin.H{"connector": name, "from": from, "to": to, "result": summary}
	if err != nil {
		out["error"] = err.Error()
		c.JSON(http.StatusBadGateway, out)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *server) hasConnector(name string) bool {
	for _, c := range s.o.Connectors {
		if c.Name() == name {
			return true
		}
	}
	return false
}

// parseDay reads a date (its start, or with end the start of the next
// day, in Location) or an RFC 3339 instant.
func (s *server) parseDay(v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, s.o.Location)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2026-11-20) or an RFC 3339 time", v)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// remapRequest names a platform user whose quarantined events to re-map,
// and optionally the employee to map them to.
type remapRequest struct {
	Platform   string `json:"platform"`
	Tenant     string `json:"tenant"`
	UserID     string `json:"user_id"`
	EmployeeID string `json:"employee_id,omitempty"`
}

func (s *server) remapIdentity(c *gin.Context) {
	p := caller(c)
	var req remapRequest
	if err := decode(c, &req); err != nil {
		abort(c, http.StatusBadRequest, "%v; send {\"platform\": \"dingtalk\", \"tenant\": \"ding5f3a\", \"user_id\": \"0231445566\"}", err)
		return
	}
	if req.Platform == "" || req.Tenant == "" || req.UserID == "" {
		abort(c, http.StatusBadRequest, "platform %q, tenant %q, user_id %q: all three are required", req.Platform, req.Tenant, req.UserID)
		return
	}
	if s.o.Remap == nil {
		abort(c, http.StatusNotImplemented, "re-mapping is not available in this server")
		return
	}
	n, err := s.o.Remap(c.Request.Context(), req.Platform, req.Tenant, req.UserID, req.EmployeeID)
	target := req.Platform + "/" + req.Tenant + "/" + req.UserID
	s.record(c, p, actionRemap, target, result(err), detail(req, gin.H{"remapped": n}, err))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"user": target, "remapped": n})
}
