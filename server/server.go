package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/explain"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/metrics"
)

// Options configure the HTTP handler. Only Receivers, Ingest and Ready
// concern webhooks and health; the rest feeds the admin API and the status
// page, and a nil function turns its endpoint into an HTTP 501 answer.
type Options struct {
	// Receivers are the connectors that accept webhooks.
	Receivers []connectors.Receiver
	// Ingest stores a webhook's events durably; a receiver acknowledges the
	// platform only after it returns nil.
	Ingest connectors.EmitFunc
	// Ready reports whether the ledger (and Redis, when configured) can be
	// reached; nil means always ready.
	Ready func(ctx context.Context) error
	Log   *slog.Logger

	// Metrics is served on /metrics and records webhook latency; it also
	// knows each connector's last pull and API calls. Nil: no /metrics.
	Metrics *metrics.Metrics

	// Tokens may use the admin API and the status page; with none, both
	// refuse everyone.
	Tokens []Token
	// Ledger is read by the admin API. The job-run log, the dead-letter
	// queue and the audit log are found on it by type assertion
	// (ledger.RunLog, ledger.DeadLetters, ledger.AuditLog). Without an
	// audit log every mutating call is refused with 503.
	Ledger ledger.Ledger
	// Connectors are the configured connectors (name, platform, tenant).
	Connectors []connectors.Connector
	// Jobs are the configured jobs, which operators may run now.
	Jobs []Job
	// Push delivers the due outbox entries of one sink ("" for every sink)
	// at once; a dead-letter replay requeues entries, then calls it.
	Push func(ctx context.Context, sink string) (PushResult, error)
	// Pull pulls a connector's events for [from, to) into the ledger, as
	// `punchbridge pull` does, and returns its summary.
	Pull func(ctx context.Context, connector string, from, to time.Time) (any, error)
	// Remap re-maps the quarantined events of a platform user: to
	// employeeID when it is not empty (setting the identity), else to what
	// the identity table now holds. It returns how many events left
	// quarantine.
	Remap func(ctx context.Context, platform, tenant, userID, employeeID string) (int, error)
	// Explain says how the day records of an employee's date were
	// computed (explain.Day with the deployment's ledger, engine and
	// watermark). An error wrapping explain.ErrInvalid answers 400.
	Explain func(ctx context.Context, employeeID, date string) (explain.Report, error)
	// Teams maps employee ids to their team (the department) for the
	// status page's calendars; employees without one, or all of them when
	// Teams is nil, form the team "all".
	Teams func(ctx context.Context) (map[string]string, error)
	// Location is the rules' time zone: dates, "today", the calendar and
	// the events of a date are read in it (default UTC).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
	// StaleAfter is the checkpoint age after which the status page calls a
	// connector stale (default 26h: a nightly job and some slack).
	StaleAfter time.Duration
}

// Job is a job operators may run now from the admin API.
type Job struct {
	Name     string
	Schedule string // the cron spec, for display
	// Run runs the job once, recorded as a manual run, and returns its
	// report. An error wrapping ErrBusy answers 409.
	Run func(ctx context.Context) (any, error)
}

// PushResult is what a Push did.
type PushResult struct {
	Delivered    int `json:"delivered"`
	Failed       int `json:"failed"`
	DeadLettered int `json:"dead_lettered"`
}

// ErrBusy is what a Job's Run returns (wrapped) when the job is running
// elsewhere; the API answers 409 Conflict.
var ErrBusy = errors.New("server: job is already running")

// server is the state the handlers share.
type server struct {
	o     Options
	log   *slog.Logger
	auth  *authenticator
	runs  ledger.RunLog
	dead  ledger.DeadLetters
	audit ledger.AuditLog
	pages pages
}

// New returns the HTTP handler of `punchbridge serve`.
func New(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 26 * time.Hour
	}
	s := &server{o: o, log: o.Log, auth: newAuthenticator(o.Tokens), pages: mustParsePages(o.Location)}
	if o.Ledger != nil {
		s.runs, _ = o.Ledger.(ledger.RunLog)
		s.dead, _ = o.Ledger.(ledger.DeadLetters)
		s.audit, _ = o.Ledger.(ledger.AuditLog)
	}
	r := gin.New()
	r.Use(gin.Recovery())
	s.hooks(r)
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", s.ready)
	if o.Metrics != nil {
		r.GET("/metrics", gin.WrapH(o.Metrics.Handler()))
	}
	s.api(r.Group("/api/v1"))
	s.page(r)
	return r
}

// hooks routes webhooks to their receivers, timing each one.
func (s *server) hooks(r *gin.Engine) {
	hooks := map[string]http.Handler{}
	for _, rc := range s.o.Receivers {
		hooks[rc.Platform()+"/"+rc.Name()] = rc.Handler(s.o.Ingest)
	}
	hook := func(c *gin.Context) {
		h, ok := hooks[c.Param("platform")+"/"+c.Param("connector")]
		if !ok {
			c.String(http.StatusNotFound, "no %s connector named %q accepts webhooks\n", c.Param("platform"), c.Param("connector"))
			return
		}
		start := time.Now() // latency is measured on the real clock
		h.ServeHTTP(c.Writer, c.Request)
		s.o.Metrics.WebhookHandled(c.Param("connector"), c.Writer.Status(), time.Since(start))
	}
	r.GET("/hooks/:platform/:connector", hook)
	r.POST("/hooks/:platform/:connector", hook)
}

func (s *server) ready(c *gin.Context) {
	if s.o.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := s.o.Ready(ctx); err != nil {
			c.String(http.StatusServiceUnavailable, "not ready: %v\n", err)
			return
		}
	}
	c.String(http.StatusOK, "ready\n")
}
