package dingtalk

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

// Platform is the platform name in events, token keys and the registry.
const Platform = "dingtalk"

// Limits of attendance/listRecord (platform API reference A2.2).
const (
	maxUsersPerCall = 50
	maxSpan         = 7 * 24 * time.Hour
)

// pullStores is how many fetched answers a pull stores at once: one in
// the ledger's writer, one being claimed, one being prepared. More did
// not make a pull faster (docs/PERFORMANCE.md).
const pullStores = 3

// shanghai is the platform's time zone, in which listRecord reads its
// dates. China has kept UTC+8 without daylight saving time since 1991, so a
// fixed zone is exact and needs no tzdata on the host.
var shanghai = time.FixedZone("CST", 8*60*60)

const dateTimeLayout = "2006-01-02 15:04:05"

var (
	_ connectors.Source    = (*Connector)(nil)
	_ connectors.Directory = (*Connector)(nil)
	_ connectors.Receiver  = (*Connector)(nil)
	_ connectors.Worker    = (*Connector)(nil)
)

// Connector pulls punches, approvals and the user directory of one
// DingTalk organization through one internal app, receives its HTTP push
// callbacks and, in Stream mode, its event stream. It is safe for
// concurrent use.
type Connector struct {
	name      string
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	client    *client
	forms     *formReader
	procTypes map[string]string // process code → approval type
	final     *finalCache
	queue     *queue
	seen      *seenSet // recent event ids, for Stream and push redeliveries
	hooks     *hookStats
	nonces    msgcrypt.NonceStore
	recv      receiver
	// streamKeepAlive is the idle time after which the Stream connection
	// is pinged; a ping unanswered for streamPongWait ends it.
	streamKeepAlive, streamPongWait time.Duration

	// tasks keeps approval refreshes durably (nil: only in the queue);
	// loaded marks the stored tasks already queued in this process.
	tasks     connectors.TaskStore
	loaded    sync.Map // task id → true
	taskNudge chan struct{}

	dirMu    sync.Mutex
	dirUsers []connectors.User
	dirAt    time.Time // when dirUsers was walked
}

// Name is the instance name from the config.
func (c *Connector) Name() string { return c.name }

// Platform is "dingtalk".
func (c *Connector) Platform() string { return Platform }

// Tenant is the organization's corp id.
func (c *Connector) Tenant() string { return c.cfg.CorpID }

// Stats returns a copy of the request counters since the connector was
// built.
func (c *Connector) Stats() Stats { return c.client.snapshot() }

// Pull emits every punch of the window [w.From, w.To) through
// attendance/listRecord, one batch per API answer, and then, when process
// codes are configured, the approvals and make-ups created from
// approval_lookback before the window to its end.
//
// The users are cfg.Users, or the whole directory when that is empty, in
// the order of their ids (see pullUsers). The window is cut into spans of
// at most 7 days (the first starting at w.From exactly, the last ending at
// w.To exactly) and the users into groups of at most 50, so a window costs
// ceil(users/50) × ceil(span/7 days) listRecord calls, paced at 95% of the
// QPS limit (see paceMargin) by as many calls in flight as that pace needs
// (see inFlight). The platform reads dates as whole seconds with both
// ends included, so spans start and end on whole seconds (a window with
// fractions of a second is widened to the enclosing seconds) and each
// answer is trimmed to its span and to the window: adjacent spans never
// lose or repeat a punch.
func (c *Connector) Pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	calls := &connectors.PullCalls{}
	q := newQuotaTracker()
	ctx = withQuota(connectors.WithPullCalls(ctx, calls), q)
	st, err := c.pull(ctx, w, emit)
	st.APICalls = calls.Snapshot()
	st.Quota = q.use(c.cfg.QPS)
	return st, err
}

func (c *Connector) pull(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (connectors.PullStats, error) {
	var st connectors.PullStats
	if !w.From.Before(w.To) {
		return st, fmt.Errorf("dingtalk: pull: window from %s must be before to %s",
			w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	users, err := c.pullUsers(ctx)
	if err != nil {
		return st, err
	}
	n, err := c.pullPunches(ctx, users, w, mapping.ViaPull, emit)
	st.Events += n
	if err != nil {
		return st, err
	}
	n, err = c.pullApprovals(ctx, w, emit)
	st.Events += n
	return st, err
}

// pullPunches emits the punches of users in w, as Pull describes, with
// events marked via. It returns how many it emitted.
func (c *Connector) pullPunches(ctx context.Context, users []string, w connectors.Window, via mapping.Via, emit connectors.EmitFunc) (int, error) {
	type call struct {
		users []string
		span  connectors.Window
		keep  connectors.Window
	}
	var calls []call
	outer := connectors.Window{From: w.From.Truncate(time.Second), To: ceilSecond(w.To)}
	for _, span := range splitWindow(outer, maxSpan) {
		keep := connectors.Window{From: later(span.From, w.From), To: earlier(span.To, w.To)}
		for _, group := range chunk(users, maxUsersPerCall) {
			calls = append(calls, call{users: group, span: span, keep: keep})
		}
	}
	if len(calls) == 0 {
		return 0, nil
	}
	received := c.now()
	// Workers fetch; pullStores goroutines emit what they fetched.
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		events  []mapping.Event
		skipped int
		err     error
	}
	jobs := make(chan call)
	answers := make(chan answer)
	var wg sync.WaitGroup
	flight := newInFlight(c.cfg.Concurrency, len(calls))
	var worker func()
	worker = func() {
		defer wg.Done()
		for cl := range jobs {
			recs, err := c.listRecord(gctx, cl.users, cl.span)
			if flight.grow(c.client.limits.pace(apiListRecord), c.client.limits.latency(apiListRecord)) {
				wg.Add(1)
				go worker()
			}
			a := answer{err: err}
			for _, r := range recs {
				ev, ok := r.event(c.name, c.cfg.CorpID, received)
				if !ok {
					a.skipped++
					continue
				}
				if ev.Time.Before(cl.keep.From) || !ev.Time.Before(cl.keep.To) {
					continue // the neighbouring span or window fetches it
				}
				ev.Via = via
				a.events = append(a.events, ev)
			}
			select {
			case answers <- a:
			case <-gctx.Done():
				return
			}
		}
	}
	for range flight.started() {
		wg.Add(1)
		go worker()
	}
	go func() {
		defer close(jobs)
		for _, cl := range calls {
			select {
			case jobs <- cl:
			case <-gctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(answers) }()

	// pullStores answers are stored at once: while the ledger's one
	// writer commits one, the next is being prepared and claimed, so that
	// the writer does not wait between answers. The answers hold disjoint
	// punches (by user and by span), so their order does not matter.
	var (
		mu                     sync.Mutex
		emitted, skipped, done int
		firstErr               error
		stores                 sync.WaitGroup
	)
	for range pullStores {
		stores.Go(func() {
			for a := range answers {
				mu.Lock()
				stopped := firstErr != nil
				if !stopped {
					done++
					connectors.ReportProgress(ctx, done, len(calls))
					skipped += a.skipped
				}
				mu.Unlock()
				if stopped {
					continue // drain until the workers stop
				}
				err := a.err
				if err == nil && len(a.events) > 0 {
					if err = emit(ctx, a.events); err != nil {
						err = fmt.Errorf("dingtalk: emit %d events: %w", len(a.events), err)
					}
				}
				mu.Lock()
				if err == nil {
					emitted += len(a.events)
				} else if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	stores.Wait()
	if skipped > 0 {
		c.log.Warn("records without a check time skipped", "count", skipped)
	}
	return emitted, firstErr
}

// pullUsers returns the user ids a pull covers, sorted. A punch's event
// id leads with its user (PunchID), and the ledger keeps its events in id
// order, so an answer for neighbouring users lands on neighbouring pages of
// that key; users taken in the directory's order (department by
// department) put each user's punches on a page of their own.
func (c *Connector) pullUsers(ctx context.Context) ([]string, error) {
	if len(c.cfg.Users) > 0 {
		return slices.Sorted(slices.Values(c.cfg.Users)), nil
	}
	dir, err := c.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: list users to pull: %w", err)
	}
	ids := make([]string, len(dir))
	for i, u := range dir {
		ids[i] = u.UserID
	}
	slices.Sort(ids)
	return ids, nil
}

type listRecordRequest struct {
	UserIDs       []string `json:"userIds"`
	CheckDateFrom string   `json:"checkDateFrom"`
	CheckDateTo   string   `json:"checkDateTo"`
	IsI18n        bool     `json:"isI18n"`
}

type listRecordResponse struct {
	RecordResult []punchRecord
}

// decodeRaw reads the records straight from the answer with gjson (see
// punchRecord.decode), skipping encoding/json's validation pass over a
// body that is often megabytes.
func (l *listRecordResponse) decodeRaw(b []byte) error {
	list := gjson.GetBytes(b, "recordresult")
	if !list.IsArray() {
		if list.Exists() && list.Type != gjson.Null {
			return fmt.Errorf("recordresult is not a list: %.40s", list.Raw)
		}
		return nil
	}
	var err error
	list.ForEach(func(_, v gjson.Result) bool {
		var r punchRecord
		if !v.IsObject() {
			err = fmt.Errorf("a record is not a JSON object: %.40s", v.Raw)
			return false
		}
		if err = r.decode(v); err != nil {
			return false
		}
		l.RecordResult = append(l.RecordResult, r)
		return true
	})
	return err
}

// listRecord fetches the punches of up to 50 users in a span of whole
// seconds of at most 7 days, both ends included, as the platform reads it.
func (c *Connector) listRecord(ctx context.Context, users []string, span connectors.Window) ([]punchRecord, error) {
	req := listRecordRequest{
		UserIDs:       users,
		CheckDateFrom: span.From.In(shanghai).Format(dateTimeLayout),
		CheckDateTo:   span.To.In(shanghai).Format(dateTimeLayout),
		IsI18n:        false, // true makes a domestic organization's answer empty
	}
	var resp listRecordResponse
	if err := c.client.call(ctx, apiListRecord, req, &resp); err != nil {
		return nil, fmt.Errorf("dingtalk: list punches of %d users from %s to %s: %w",
			len(users), req.CheckDateFrom, req.CheckDateTo, err)
	}
	c.log.Debug("punches listed", "users", len(users), "from", req.CheckDateFrom, "to", req.CheckDateTo, "records", len(resp.RecordResult))
	return resp.RecordResult, nil
}

// splitWindow cuts w into consecutive spans of at most size.
func splitWindow(w connectors.Window, size time.Duration) []connectors.Window {
	var spans []connectors.Window
	for from := w.From; from.Before(w.To); from = from.Add(size) {
		to := from.Add(size)
		if to.After(w.To) {
			to = w.To
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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
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

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
