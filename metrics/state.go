package metrics

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/punchbridge/punchbridge/ledger"
)

// Descriptions of the metrics read on scrape.
var (
	apiCallsDesc = prometheus.NewDesc(namespace+"_platform_api_calls_total",
		"Platform API requests a connector sent, retries included, by API and outcome code (0 is success).",
		[]string{"connector", "api", "code"}, nil)
	rateLimitDesc = prometheus.NewDesc(namespace+"_platform_rate_limit_waits_total",
		"Platform answers that made a connector wait before retrying because a rate limit was hit.",
		[]string{"connector", "api"}, nil)
	dlqDesc = prometheus.NewDesc(namespace+"_dlq_size",
		"Deliveries in the dead-letter queue.", []string{"sink"}, nil)
	watermarkDesc = prometheus.NewDesc(namespace+"_watermark_age_seconds",
		"Time since the connector's checkpoint: how far behind now its data is known to be complete.",
		[]string{"connector"}, nil)
)

// rateLimitCodes are the outcome codes of answers after which a connector
// waits for a rate limit to lift (platform API reference A5 and B5):
// DingTalk's QPS codes and IP block, WeCom's frequency and concurrency
// limits, and HTTP 429. DingTalk's v1.0 codes are matched by prefix
// (Forbidden.AccessDenied.QpsLimit..., ...QpmLimit...).
var rateLimitCodes = map[string]bool{"90018": true, "90002": true, "1111": true, "45009": true, "45033": true, "http_429": true}

// IsRateLimit reports whether an outcome code of Connector.Calls is a
// rate-limit answer.
func IsRateLimit(code string) bool {
	return rateLimitCodes[code] || strings.HasPrefix(code, "Forbidden.AccessDenied.Qp")
}

// stateCollector reads, on every scrape, what lives outside this process's
// counters: API calls kept by the connectors, and the ledger's dead-letter
// queue and checkpoints.
type stateCollector struct {
	ledger     ledger.Ledger
	connectors []Connector
	sinks      []string
	now        func() time.Time
	timeout    time.Duration
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- apiCallsDesc
	ch <- rateLimitDesc
	ch <- dlqDesc
	ch <- watermarkDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.collectCalls(ch)
	if c.ledger == nil {
		return
	}
	// A Collector is given no context (the registry's interface has none),
	// so the scrape's ledger reads get their own deadline.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.collectDLQ(ctx, ch)
	c.collectWatermarks(ctx, ch)
}

func (c *stateCollector) collectCalls(ch chan<- prometheus.Metric) {
	for _, conn := range c.connectors {
		if conn.Calls == nil {
			continue
		}
		calls := conn.Calls()
		for _, api := range sortedKeys(calls) {
			waits := 0
			for _, code := range sortedKeys(calls[api]) {
				n := calls[api][code]
				ch <- prometheus.MustNewConstMetric(apiCallsDesc, prometheus.CounterValue, float64(n), conn.Name, api, code)
				if IsRateLimit(code) {
					waits += n
				}
			}
			ch <- prometheus.MustNewConstMetric(rateLimitDesc, prometheus.CounterValue, float64(waits), conn.Name, api)
		}
	}
}

// collectDLQ counts dead deliveries per sink; configured sinks with none
// report 0.
func (c *stateCollector) collectDLQ(ctx context.Context, ch chan<- prometheus.Metric) {
	dead, err := c.ledger.Outbox(ctx, "", ledger.DeliveryDead, 0)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(dlqDesc, err)
		return
	}
	size := map[string]int{}
	for _, s := range c.sinks {
		size[s] = 0
	}
	for _, e := range dead {
		size[e.Sink]++
	}
	for _, s := range sortedKeys(size) {
		ch <- prometheus.MustNewConstMetric(dlqDesc, prometheus.GaugeValue, float64(size[s]), s)
	}
}

// collectWatermarks reports each connector's checkpoint age; a connector
// never pulled (a webhook-only one, or a new one) has no sample.
func (c *stateCollector) collectWatermarks(ctx context.Context, ch chan<- prometheus.Metric) {
	now := c.now()
	for _, conn := range c.connectors {
		cp, ok, err := c.ledger.Checkpoint(ctx, conn.Name)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(watermarkDesc, err)
			return
		}
		if ok {
			ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, now.Sub(cp).Seconds(), conn.Name)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
