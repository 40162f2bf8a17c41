// Package metrics is Punchbridge's Prometheus instrumentation: one registry
// of its own (never the global default) with every metric the service
// exposes on /metrics, and small methods that the ingest path, the jobs and
// the HTTP server call as work happens.
//
// Two kinds of numbers live here. Counters and histograms move when code
// calls a method (IngestCounts, Pull, WebhookHandled, PushAttempt, JobRun).
// Gauges about durable state — the dead-letter queue's size and each
// connector's watermark age — and the platform API call counts that the
// connectors keep themselves are read on every scrape, so they are right
// even on a replica that did not do the work.
//
// Every metric name and label is listed in docs/OPERATIONS.md. Labels carry
// connector, sink and job names from the config and outcome words, never
// employee ids or anything else that grows without bound.
package metrics
