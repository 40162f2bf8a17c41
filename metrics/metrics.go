package metrics

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/punchbridge/punchbridge/ledger"
)

// namespace prefixes every metric name.
const namespace = "punchbridge"

// Options configure New.
type Options struct {
	// Ledger, when set, is read on every scrape for the dead-letter queue's
	// size per sink and each connector's checkpoint.
	Ledger ledger.Ledger
	// Connectors are the configured connectors; their counters start at 0
	// and their API calls and watermarks are read on scrape.
	Connectors []Connector
	// Sinks are the configured sink names; their counters and queue size
	// start at 0.
	Sinks []string
	// Jobs are the configured job names; their run counters start at 0.
	Jobs []string
	// Now is the clock for watermark ages (default time.Now).
	Now func() time.Time
	// ScrapeTimeout bounds the ledger reads of one scrape (default 5s).
	ScrapeTimeout time.Duration
	Log           *slog.Logger
}

// Connector is one connector as the metrics see it.
type Connector struct {
	Name string
	// Calls, when set, returns the API calls the connector has made since
	// it was built, by API name and outcome code ("0" for success, the
	// platform's errcode, "http_<status>", "transport", ...); the
	// dingtalk and wecom connectors keep these as Stats().Codes.
	Calls func() map[string]map[string]int
}

// Counts is what ingestion did with a batch of events, as ingest.Counts
// reports it (this package cannot import ingest, which calls it).
type Counts struct {
	Received    int // events handed to ingestion
	Stored      int // new events
	Revisions   int // known events with new content
	Duplicates  int // exact copies of stored events
	Rejected    int // events that failed validation
	Quarantined int // stored events without an employee id
}

// PushOutcome is how one delivery attempt ended.
type PushOutcome string

// Push outcomes.
const (
	PushDelivered    PushOutcome = "delivered"     // the sink acknowledged the record
	PushFailed       PushOutcome = "failed"        // it will be retried
	PushDeadLettered PushOutcome = "dead_lettered" // it failed for the last time and went to the dead-letter queue
)

// PullStatus is the latest pull of a connector by this process.
type PullStatus struct {
	At     time.Time // when it finished
	Events int       // events it emitted
	Err    string    // its error, "" when it succeeded
}

// Metrics holds the registry and every metric. It is safe for concurrent
// use. The recording methods do nothing on a nil *Metrics, so that code
// built without metrics (a one-shot command, a test) need not check.
type Metrics struct {
	reg        *prometheus.Registry
	log        *slog.Logger
	connectors []Connector

	eventsReceived    *prometheus.CounterVec
	eventsPulled      *prometheus.CounterVec
	eventsStored      *prometheus.CounterVec
	eventRevisions    *prometheus.CounterVec
	eventsDuplicate   *prometheus.CounterVec
	eventsRejected    *prometheus.CounterVec
	eventsQuarantined *prometheus.CounterVec
	pulls             *prometheus.CounterVec
	lastPull          *prometheus.GaugeVec
	quotaUse          *prometheus.GaugeVec
	webhook           *prometheus.HistogramVec
	pushAttempts      *prometheus.CounterVec
	pushSuccesses     *prometheus.CounterVec
	pushFailures      *prometheus.CounterVec
	pushDead          *prometheus.CounterVec
	jobRuns           *prometheus.CounterVec
	jobDuration       *prometheus.HistogramVec
	commitDuration    *prometheus.HistogramVec
	commitWait        *prometheus.HistogramVec
	commitItems       *prometheus.HistogramVec

	mu     sync.Mutex
	pullOf map[string]PullStatus
}

// New builds the registry: the Go runtime and process collectors, every
// Punchbridge metric, and the collector that reads state on scrape.
func New(o Options) *Metrics {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ScrapeTimeout <= 0 {
		o.ScrapeTimeout = 5 * time.Second
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	m := &Metrics{
		reg:               prometheus.NewRegistry(),
		log:               o.Log,
		connectors:        o.Connectors,
		eventsReceived:    counter("events_received_total", "Events handed to ingestion, by pull, webhook or stream.", "connector"),
		eventsPulled:      counter("events_pulled_total", "Events emitted by pulls.", "connector"),
		eventsStored:      counter("events_stored_total", "New events stored in the ledger.", "connector"),
		eventRevisions:    counter("event_revisions_total", "Known events stored again with new content (a pending approval decided).", "connector"),
		eventsDuplicate:   counter("events_duplicate_total", "Exact copies of stored events, not stored again.", "connector"),
		eventsRejected:    counter("events_rejected_total", "Events that failed validation, kept as rejected with their reasons.", "connector"),
		eventsQuarantined: counter("events_quarantined_total", "Stored events whose platform user maps to no employee.", "connector"),
		pulls:             counter("pulls_total", "Pulls of a connector's window, by outcome (succeeded or failed).", "connector", "outcome"),
		lastPull: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "last_pull_timestamp_seconds",
			Help: "When this process last finished a pull of the connector, by outcome."}, []string{"connector", "outcome"}),
		quotaUse: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "platform_quota_utilisation",
			Help: "How much of the platform API's rate limit the connector's last pull used while its calls ran (1 = every slot)."},
			[]string{"connector", "api"}),
		webhook: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "webhook_duration_seconds",
			Help:    "Time to handle one webhook request, events durably written included, by HTTP status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"connector", "status"}),
		pushAttempts:  counter("push_attempts_total", "Delivery attempts of day records to a sink.", "sink"),
		pushSuccesses: counter("push_successes_total", "Deliveries the sink acknowledged.", "sink"),
		pushFailures:  counter("push_failures_total", "Delivery attempts that failed, dead-lettered ones included.", "sink"),
		pushDead:      counter("push_dead_lettered_total", "Deliveries moved to the dead-letter queue.", "sink"),
		jobRuns:       counter("job_runs_total", "Job runs, by outcome (succeeded, failed or skipped).", "job", "outcome"),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "job_duration_seconds",
			Help:    "Duration of job runs, by outcome.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}}, []string{"job", "outcome"}),
		commitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "ledger_commit_duration_seconds",
			Help:    "Time one group commit of the ingest path took, by writer (ledger: the ledger's transaction; claims: the Redis claims' round trip).",
			Buckets: commitBuckets}, []string{"writer"}),
		commitWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "ledger_commit_wait_seconds",
			Help:    "Time the first request of a group commit waited before the commit began (the batch wait and earlier commits), by writer.",
			Buckets: commitBuckets}, []string{"writer"}),
		commitItems: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "ledger_commit_items",
			Help:    "Items one group commit carried, by writer: events (an ingest's raw payloads and dirty days ride with them) or days and payloads written on their own; claim keys.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}}, []string{"writer"}),
		pullOf: map[string]PullStatus{},
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.eventsReceived, m.eventsPulled, m.eventsStored, m.eventRevisions, m.eventsDuplicate, m.eventsRejected, m.eventsQuarantined,
		m.pulls, m.lastPull, m.quotaUse, m.webhook, m.pushAttempts, m.pushSuccesses, m.pushFailures, m.pushDead, m.jobRuns, m.jobDuration,
		m.commitDuration, m.commitWait, m.commitItems,
		&stateCollector{ledger: o.Ledger, connectors: o.Connectors, sinks: o.Sinks, now: o.Now, timeout: o.ScrapeTimeout},
	)
	// Known label values start at 0, so that a rate over a fresh process
	// and an alert on "no successes" both work from the first scrape.
	for _, c := range o.Connectors {
		for _, v := range []*prometheus.CounterVec{m.eventsReceived, m.eventsPulled, m.eventsStored, m.eventRevisions, m.eventsDuplicate, m.eventsRejected, m.eventsQuarantined} {
			v.WithLabelValues(c.Name)
		}
	}
	for _, s := range o.Sinks {
		for _, v := range []*prometheus.CounterVec{m.pushAttempts, m.pushSuccesses, m.pushFailures, m.pushDead} {
			v.WithLabelValues(s)
		}
	}
	for _, j := range o.Jobs {
		for _, outcome := range []string{"succeeded", "failed"} {
			m.jobRuns.WithLabelValues(j, outcome)
		}
	}
	return m
}

// Registry is the registry /metrics serves, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format. A ledger read
// that fails during a scrape is logged and leaves out its gauges; the rest
// is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      printlnLogger{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// printlnLogger adapts slog to promhttp's error log.
type printlnLogger struct{ log *slog.Logger }

func (p printlnLogger) Println(v ...any) {
	p.log.Warn("metrics scrape incomplete", "err", fmt.Sprint(v...))
}

// IngestCounts records what ingestion did with one batch of the
// connector's events, however they arrived.
func (m *Metrics) IngestCounts(connector string, c Counts) {
	if m == nil {
		return
	}
	m.eventsReceived.WithLabelValues(connector).Add(float64(c.Received))
	m.eventsStored.WithLabelValues(connector).Add(float64(c.Stored))
	m.eventRevisions.WithLabelValues(connector).Add(float64(c.Revisions))
	m.eventsDuplicate.WithLabelValues(connector).Add(float64(c.Duplicates))
	m.eventsRejected.WithLabelValues(connector).Add(float64(c.Rejected))
	m.eventsQuarantined.WithLabelValues(connector).Add(float64(c.Quarantined))
}

// Pull records a finished pull of the connector: the events it emitted and
// whether it failed. The last one is also kept for the admin API and the
// status page (see LastPull).
func (m *Metrics) Pull(connector string, at time.Time, events int, err error) {
	if m == nil {
		return
	}
	outcome, msg := "succeeded", ""
	if err != nil {
		outcome, msg = "failed", err.Error()
	}
	m.eventsPulled.WithLabelValues(connector).Add(float64(events))
	m.pulls.WithLabelValues(connector, outcome).Inc()
	m.lastPull.WithLabelValues(connector, outcome).Set(float64(at.UnixMilli()) / 1000)
	m.mu.Lock()
	m.pullOf[connector] = PullStatus{At: at, Events: events, Err: msg}
	m.mu.Unlock()
}

// QuotaUse records how much of an API's rate limit the connector's last
// pull used (connectors.QuotaUse.Utilisation).
func (m *Metrics) QuotaUse(connector, api string, utilisation float64) {
	if m == nil {
		return
	}
	m.quotaUse.WithLabelValues(connector, api).Set(utilisation)
}

// LastPull returns the connector's latest pull by this process.
func (m *Metrics) LastPull(connector string) (PullStatus, bool) {
	if m == nil {
		return PullStatus{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pullOf[connector]
	return p, ok
}

// APICalls returns the connector's API calls by API and outcome code, or
// nil when the connector does not count them.
func (m *Metrics) APICalls(connector string) map[string]map[string]int {
	if m == nil {
		return nil
	}
	for _, c := range m.connectors {
		if c.Name == connector && c.Calls != nil {
			out := map[string]map[string]int{}
			for api, codes := range c.Calls() {
				out[api] = maps.Clone(codes)
			}
			return out
		}
	}
	return nil
}

// WebhookHandled records one webhook request of the connector: the HTTP
// status it was answered with and how long it took.
func (m *Metrics) WebhookHandled(connector string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.webhook.WithLabelValues(connector, strconv.Itoa(status)).Observe(d.Seconds())
}

// PushAttempt records one delivery attempt to the sink and its outcome.
func (m *Metrics) PushAttempt(sink string, outcome PushOutcome) {
	if m == nil {
		return
	}
	m.pushAttempts.WithLabelValues(sink).Inc()
	switch outcome {
	case PushDelivered:
		m.pushSuccesses.WithLabelValues(sink).Inc()
	case PushFailed:
		m.pushFailures.WithLabelValues(sink).Inc()
	case PushDeadLettered:
		m.pushFailures.WithLabelValues(sink).Inc()
		m.pushDead.WithLabelValues(sink).Inc()
	}
}

// commitBuckets span a group commit's times: a few hundred microseconds
// for a small batch, tens of milliseconds for a pulled answer, more when
// the disk or a checkpoint holds the writer up.
var commitBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Commit records one group commit of the ingest path's writer ("ledger" or
// "claims"): how many items it carried, how long its first request waited
// before it began and how long it took.
func (m *Metrics) Commit(writer string, items int, waited, took time.Duration) {
	if m == nil {
		return
	}
	m.commitItems.WithLabelValues(writer).Observe(float64(items))
	m.commitWait.WithLabelValues(writer).Observe(waited.Seconds())
	m.commitDuration.WithLabelValues(writer).Observe(took.Seconds())
}

// JobRun records a finished run of the job: its outcome ("succeeded",
// "failed", or "skipped" when another replica had the tick) and duration.
func (m *Metrics) JobRun(job, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobRuns.WithLabelValues(job, outcome).Inc()
	m.jobDuration.WithLabelValues(job, outcome).Observe(d.Seconds())
}
