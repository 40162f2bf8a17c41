package wecom

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

// Platform is the platform name in events, token keys and the registry.
const Platform = "wecom"

// Limits of checkin/getcheckindata and hardware/get_hardware_checkin_data
// (B2.1, B2.2): at most 100 users and 30 days per call ("一个月" for the
// device API, read as the same 30 days).
const (
	maxUsersPerCall = 100
	maxSpan         = 30 * 24 * time.Hour
)

// opencheckindatatype 3 asks for every kind of punch: 上下班 and 外出.
const allPunches = 3

// shanghai is the platform's time zone. China has kept UTC+8 without
// daylight saving time since 1991, so a fixed zone is exact and needs no
// tzdata on the host.
var shanghai = time.FixedZone("CST", 8*60*60)

var (
	_ connectors.Source    = (*Connector)(nil)
	_ connectors.Directory = (*Connector)(nil)
	_ connectors.Receiver  = (*Connector)(nil)
	_ connectors.Worker    = (*Connector)(nil)
)

// Connector pulls punches, device punches, approvals and the directory of
// one WeCom corp, and receives its approval callbacks. It is safe for
// concurrent use.
type Connector struct {
	name      string
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	client    *client
	field     employeeSource
	fieldName string

	cipher  *msgcrypt.Cipher // nil without callback settings
	guard   msgcrypt.Guard
	pending *queue
	tasks   connectors.TaskStore // durable follow-ups; nil uses pending
	nudge   chan struct{}        // wakes Work when a task was stored

	devicesOff atomic.Bool // the check-in app may not read device punches
}

// Name is the instance name from the config.
func (c *Connector) Name() string { return c.name }

// Platform is "wecom".
func (c *Connector) Platform() string { return Platform }

// Tenant is the corp id.
func (c *Connector) Tenant() string { return c.cfg.CorpID }

// Stats returns a copy of the request and callback counters since the
// connector was built.
func (c *Connector) Stats() Stats { return c.client.snapshot() }

// Pull emits what happened in the window [w.From, w.To):
//
//   - every punch of checkin/getcheckindata, one batch per answer. The
//     window is cut into spans of at most 30 days (the first starting at
//     w.From, the last ending at w.To) and the users into groups of at most
//     100, so it costs exactly ceil(users/100) × ceil(span/30 days) calls;
//     answers are trimmed to their span, so adjacent spans never repeat a
//     punch. Rows marking a missing punch (未打卡) are never emitted.
//   - unless device_punches is off, the raw device punches uploaded in the
//     window, whatever their punch time (hardware/get_hardware_checkin_data
//     with filter_type 2). A device punch the check-in app also recorded is
//     represented by its check-in row: for punches before the window the
//     check-in rows of their days are fetched again, so that the day of a
//     device that was offline is recomputed with full information. A raw
//     punch with no check-in row at the same user and second is emitted on
//     its own (method device, anomaly device_only).
//   - when an approval secret is configured, the approvals and make-ups
//     submitted from approval_lookback before w.From to w.To.
//
// PullStats.APICalls counts every call, tokens and retries included.
func (c *Connector) Pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	calls := &connectors.PullCalls{}
	q := newQuotaTracker()
	ctx = withQuota(connectors.WithPullCalls(ctx, calls), q)
	em := &emitter{emit: emit}
	err := c.pull(ctx, w, em)
	return connectors.PullStats{Events: em.count(), APICalls: calls.Snapshot(), Quota: q.use(c.client.limits)}, err
}

func (c *Connector) pull(ctx context.Context, w connectors.Window, em *emitter) error {
	if !w.From.Before(w.To) {
		return fmt.Errorf("wecom: pull: window from %s must be before to %s",
			w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	users, err := c.pullUsers(ctx)
	if err != nil {
		return err
	}
	received := c.now()
	seen := &punchSet{m: map[punchKey]bool{}}
	keep := func(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }
	if err := c.pullCheckins(ctx, users, w, keep, seen, em, received); err != nil {
		return err
	}
	if *c.cfg.DevicePunches && !c.devicesOff.Load() {
		if err := c.pullDevices(ctx, users, w, seen, em, received); err != nil {
			return err
		}
	}
	if c.client.apps[roleApproval] != nil {
		from := w.From.Add(-*c.cfg.ApprovalLookback)
		if err := c.pullApprovals(ctx, connectors.Window{From: from, To: w.To}, em, received, mapping.ViaPull); err != nil {
			return err
		}
	}
	return nil
}

// pullUsers returns the user ids a pull covers, sorted: the configured
// ones, or every member from user/list_id. A punch's event id leads with
// its user (PunchID), and the ledger keeps its events in id order, so an
// answer for neighbouring users lands on neighbouring pages of that key.
func (c *Connector) pullUsers(ctx context.Context) ([]string, error) {
	if len(c.cfg.Users) > 0 {
		return slices.Sorted(slices.Values(c.cfg.Users)), nil
	}
	ids, _, err := c.listUserIDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("wecom: list users to pull: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

type checkinRequest struct {
	OpenCheckinDataType int      `json:"opencheckindatatype"`
	StartTime           int64    `json:"starttime"`
	EndTime             int64    `json:"endtime"`
	UserIDList          []string `json:"useridlist"`
}

type checkinResponse struct {
	CheckinData []checkinRow `json:"checkindata"`
}

// pullCheckins fetches the check-in rows of users over w, in spans of 30
// days × groups of 100 users, and emits the punches for which keep holds,
// one batch per answer. Every punch row read is added to seen.
func (c *Connector) pullCheckins(ctx context.Context, users []string, w connectors.Window, keep func(time.Time) bool, seen *punchSet, em *emitter, received time.Time) error {
	spans := secondSpans(w, maxSpan)
	groups := chunk(users, maxUsersPerCall)
	var skipped, done atomic.Int64
	total := len(spans) * len(groups)
	err := c.forEach(ctx, total, func(ctx context.Context, i int) error {
		span, group := spans[i/len(groups)], groups[i%len(groups)]
		rows, err := c.checkinData(ctx, group, span)
		if err != nil {
			return err
		}
		events := make([]mapping.Event, 0, len(rows))
		for _, r := range rows {
			at := time.Unix(int64(r.CheckinTime), 0)
			if at.Before(span.From) || !at.Before(span.To) {
				continue // the neighbouring span fetches it
			}
			if !r.isMarker() {
				seen.add(string(r.UserID), int64(r.CheckinTime))
			}
			if !keep(at) {
				continue
			}
			ev, ok := r.event(c.name, c.cfg.CorpID, received, mapping.ViaPull)
			if !ok {
				if !r.isMarker() {
					skipped.Add(1)
				}
				continue
			}
			events = append(events, ev)
		}
		if err := em.send(ctx, events); err != nil {
			return err
		}
		connectors.ReportProgress(ctx, int(done.Add(1)), total)
		return nil
	})
	if n := skipped.Load(); n > 0 {
		c.log.Warn("check-in rows without a user or time skipped", "count", n)
	}
	return err
}

// checkinData calls getcheckindata for up to 100 users over a span of at
// most 30 days. The span's end is sent as it is: whether the platform reads
// endtime as inclusive or not, the caller trims the answer to [From, To).
func (c *Connector) checkinData(ctx context.Context, users []string, span connectors.Window) ([]checkinRow, error) {
	req := checkinRequest{OpenCheckinDataType: allPunches, StartTime: span.From.Unix(), EndTime: span.To.Unix(), UserIDList: users}
	var resp checkinResponse
	if err := c.client.call(ctx, roleCheckin, apiCheckinData, req, &resp); err != nil {
		return nil, fmt.Errorf("wecom: list punches of %d users from %s to %s: %w",
			len(users), span.From.In(shanghai).Format(time.RFC3339), span.To.In(shanghai).Format(time.RFC3339), err)
	}
	c.log.Debug("punches listed", "users", len(users), "from", span.From.Unix(), "to", span.To.Unix(), "rows", len(resp.CheckinData))
	return resp.CheckinData, nil
}

// forEach runs fn for 0..n-1 with at most cfg.Concurrency calls at a time
// and stops at the first error.
func (c *Connector) forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for i := 0; i < n; i++ {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

// emitter serializes a pull's batches: the workers fetch concurrently, but
// an EmitFunc is called by one of them at a time.
type emitter struct {
	mu     sync.Mutex
	emit   connectors.EmitFunc
	events int
}

func (e *emitter) send(ctx context.Context, events []mapping.Event) error {
	if len(events) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.emit(ctx, events); err != nil {
		return fmt.Errorf("wecom: emit %d events: %w", len(events), err)
	}
	e.events += len(events)
	return nil
}

func (e *emitter) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events
}

// punchKey is a user and a punch second.
type punchKey struct {
	user string
	at   int64
}

// punchSet is the check-in punches a pull has read, safe for concurrent
// use.
type punchSet struct {
	mu sync.Mutex
	m  map[punchKey]bool
}

func (s *punchSet) add(user string, at int64) {
	s.mu.Lock()
	s.m[punchKey{user, at}] = true
	s.mu.Unlock()
}

func (s *punchSet) has(user string, at int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[punchKey{user, at}]
}

// secondSpans widens w to whole seconds, the platform's unit, and cuts it
// into consecutive spans of at most size.
func secondSpans(w connectors.Window, size time.Duration) []connectors.Window {
	outer := connectors.Window{From: w.From.Truncate(time.Second), To: ceilSecond(w.To)}
	var spans []connectors.Window
	for from := outer.From; from.Before(outer.To); from = from.Add(size) {
		to := from.Add(size)
		if to.After(outer.To) {
			to = outer.To
		}
		spans = append(spans, connectors.Window{From: from, To: to})
	}
	return spans
}

func ceilSecond(t time.Time) time.Time {
	if f := t.Truncate(time.Second); f.Before(t) {
		return f.Add(time.Second)
	}
	return t
}

// chunk cuts ids into groups of at most n.
func chunk(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
