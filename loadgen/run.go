package loadgen

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Options shape a run.
type Options struct {
	// Concurrency is how many requests may be in flight at once.
	Concurrency int
	// Rate is the events per second to send (requests per second times
	// the events each carries); 0 sends as fast as Concurrency allows.
	Rate float64
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
}

// Result is what a run measured.
type Result struct {
	Requests int `json:"requests"`
	Events   int `json:"events"`
	// OK counts the requests the receiver acknowledged, and OKEvents
	// their events.
	OK       int           `json:"ok"`
	OKEvents int           `json:"ok_events"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	// RequestsPerSec and EventsPerSec count acknowledged requests and
	// their events over the elapsed time.
	RequestsPerSec float64 `json:"requests_per_s"`
	EventsPerSec   float64 `json:"events_per_s"`
	// Latency percentiles of every request, acknowledged or not. With a
	// Rate, a request's latency runs from when the schedule said to send
	// it, so that a server that falls behind is not excused by the
	// requests it delayed.
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Errors counts failed requests by kind: http_<status>, timeout,
	// transport, bad_reply.
	Errors map[string]int `json:"errors"`
	// FirstErrors keeps one message per kind, for the report.
	FirstErrors map[string]string `json:"first_errors,omitempty"`
}

// Checker checks a 200 reply.
type Checker interface {
	CheckReply(body []byte) error
}

// Run sends every request of reqs through sender as o says and measures
// the replies; once the last is in, check checks every 200 reply, and one
// it refuses counts as a bad_reply error. It stops early when ctx ends.
func Run(ctx context.Context, sender Sender, reqs []Sealed, check Checker, o Options) Result {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	type outcome struct {
		latency time.Duration
		kind    string // "" when acknowledged
		msg     string
		reply   []byte // of an acknowledged request, checked after the run
	}
	outcomes := make([]outcome, len(reqs))
	sent := make([]bool, len(reqs))
	type work struct {
		i  int
		at time.Time // when the schedule said to send it
	}
	queue := make(chan work, o.Concurrency)
	start := time.Now()
	go func() {
		defer close(queue)
		perEvent := time.Duration(0)
		if o.Rate > 0 {
			perEvent = time.Duration(float64(time.Second) / o.Rate)
		}
		events := 0
		for i, r := range reqs {
			at := time.Now()
			if perEvent > 0 {
				at = start.Add(time.Duration(events) * perEvent)
				if d := time.Until(at); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
			}
			events += r.Events
			select {
			case queue <- work{i, at}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for w := range queue {
				began := w.at
				if o.Rate <= 0 {
					began = time.Now()
				}
				kind, msg, reply := send(ctx, sender, reqs[w.i], o.Timeout)
				outcomes[w.i] = outcome{latency: time.Since(began), kind: kind, msg: msg, reply: reply}
				sent[w.i] = true
			}
		})
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Errors: map[string]int{}, FirstErrors: map[string]string{}}
	lat := make([]time.Duration, 0, len(reqs))
	for i := range outcomes {
		if !sent[i] {
			continue
		}
		// Every reply is checked, after the clock has stopped: the checks
		// would otherwise take CPU from the server the tool shares the
		// machine with, and time from the latencies it measures.
		oc := &outcomes[i]
		if oc.kind == "" {
			if err := check.CheckReply(oc.reply); err != nil {
				oc.kind, oc.msg = "bad_reply", err.Error()
			}
			oc.reply = nil
		}
		res.Requests++
		res.Events += reqs[i].Events
		lat = append(lat, oc.latency)
		if oc.kind == "" {
			res.OK++
			res.OKEvents += reqs[i].Events
			continue
		}
		res.Errors[oc.kind]++
		if _, ok := res.FirstErrors[oc.kind]; !ok {
			res.FirstErrors[oc.kind] = oc.msg
		}
	}
	if s := res.Elapsed.Seconds(); s > 0 {
		res.RequestsPerSec = float64(res.OK) / s
		res.EventsPerSec = float64(res.OKEvents) / s
	}
	slices.Sort(lat)
	res.P50, res.P90, res.P99 = percentile(lat, 0.50), percentile(lat, 0.90), percentile(lat, 0.99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	return res
}

// percentile returns the p-quantile of sorted by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// send makes one request and classifies its outcome: kind is "" when the
// receiver answered 200, and reply is then the answer to check.
func send(ctx context.Context, sender Sender, r Sealed, timeout time.Duration) (kind, msg string, reply []byte) {
	status, body, err := sender.Send(ctx, r, timeout)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
			return "timeout", err.Error(), nil
		}
		return "transport", err.Error(), nil
	}
	if status != http.StatusOK {
		return "http_" + strconv.Itoa(status), clip(string(bytes.TrimSpace(body))), nil
	}
	return "", "", body
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// NewClient returns a Client that keeps up to concurrency connections to
// the server open. It is a plain http.Client, not a retrying one: a load
// generator must count every attempt, and a retry would hide the failure
// it measures. Run bounds each request with Options.Timeout.
func NewClient(concurrency int) Client {
	t := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	return Client{HTTP: &http.Client{Transport: t}}
}
