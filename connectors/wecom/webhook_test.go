package wecom

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/mapping"
)

// Vector C1 of the platform API reference: the official WeCom Go sample's
// URL verification.
const (
	c1CorpID    = "wx5823bf96d3bd56c7"
	c1Signature = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	c1Timestamp = "1409659589"
	c1Nonce     = "263014780"
	c1EchoRaw   = "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D"
	c1Plain     = "1616140317555161061"
)

func TestURLVerificationOfficialVector(t *testing.T) {
	company := wt.Company{CorpID: c1CorpID}
	e := newEnv(t, company, nil, nil)
	// The vector is from 2014: the clock is set to its timestamp, so the
	// freshness check passes without being disabled.
	e.clock.Set(time.Unix(1409659589, 0).Add(30 * time.Second))
	for _, tc := range []struct{ name, echo string }{
		{"as sent, URL-encoded", c1EchoRaw},
		// A proxy that leaves "+" unencoded turns it into a space.
		{"bare plus signs", strings.NewReplacer("%2F", "/", "%2B", "+", "%3D", "=").Replace(c1EchoRaw)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/hooks/wecom/wecom-test?msg_signature=" + c1Signature + "&timestamp=" + c1Timestamp + "&nonce=" + c1Nonce + "&echostr=" + tc.echo
			rec := httptest.NewRecorder()
			e.conn.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			if rec.Code != http.StatusOK || rec.Body.String() != c1Plain {
				t.Fatalf("GET answered %d %q, want 200 and the bare %q", rec.Code, rec.Body.String(), c1Plain)
			}
			// The same GET again is a replay.
			rec = httptest.NewRecorder()
			e.conn.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			if rec.Code != http.StatusForbidden {
				t.Fatalf("replayed GET answered %d", rec.Code)
			}
			e.conn.guard.Nonces = msgcrypt.NewMemoryNonces(e.clock.Now)
		})
	}
}

// hook is a connector's callback handler on loopback, a sender that plays
// WeCom, and what the handler ingested.
type hook struct {
	*env
	ts     *httptest.Server
	sender *wt.Sender

	mu       sync.Mutex
	ingested []mapping.Event
	calls    int
	fail     error
}

func (h *hook) ingest(_ context.Context, evs []mapping.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.fail != nil {
		return h.fail
	}
	h.ingested = append(h.ingested, evs...)
	return nil
}

func (h *hook) stored() (int, []mapping.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, append([]mapping.Event(nil), h.ingested...)
}

func newHook(t testing.TB, company wt.Company, edit func(*Config)) *hook {
	t.Helper()
	h := &hook{env: newEnv(t, company, nil, edit)}
	h.ts = httptest.NewServer(h.conn.Handler(h.ingest))
	t.Cleanup(h.ts.Close)
	s, err := wt.NewSender(h.ts.URL+"/hooks/wecom/wecom-test", testToken, testAESKey, company.CorpID, wt.WithSenderClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	h.sender = s
	return h
}

// someApproval returns an approval of the company submitted by now.
func someApproval(t testing.TB, e *env, recordType int) wt.Approval {
	t.Helper()
	for _, a := range e.srv.Company().Approvals {
		if a.RecordType == recordType && a.ApplyTime.Before(e.clock.Now()) {
			return a
		}
	}
	t.Fatalf("no approval of record type %d", recordType)
	return wt.Approval{}
}

func TestCallbackRoundTrip(t *testing.T) {
	h := newHook(t, wt.GenerateCompany(61, 40, monday, 10), nil)
	ctx := context.Background()
	if err := h.sender.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	leave, correction := someApproval(t, h.env, 1), someApproval(t, h.env, 2)
	for _, a := range []wt.Approval{leave, correction, leave} {
		if err := h.sender.Deliver(ctx, wt.ApprovalChange(h.srv.CorpID(), a, h.clock.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.sender.Deliver(ctx, wt.OtherEvent(h.srv.CorpID(), "change_contact", h.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.stored(); n != 0 {
		t.Fatal("events were ingested before the details were fetched")
	}
	if h.conn.Queued() != 2 {
		t.Fatalf("queued %d, want 2 (the leave twice is fetched once)", h.conn.Queued())
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.conn.Work(wctx, h.ingest) }()
	deadline := time.Now().Add(5 * time.Second)
	for h.conn.Stats().Callbacks["details_stored"] < 2 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Work = %v, want nil on cancel", err)
	}
	_, evs := h.stored()
	ids := map[string]mapping.Via{}
	for _, ev := range evs {
		ids[ev.ID] = ev.Via
	}
	corp := h.srv.CorpID()
	if ids["wecom/"+corp+"/approval/"+leave.SpNo] != mapping.ViaWebhook || ids["wecom/"+corp+"/makeup/"+correction.SpNo] != mapping.ViaWebhook {
		t.Fatalf("ingested %v", ids)
	}
	st := h.conn.Stats().Callbacks
	if st["url_verification"] != 1 || st[eventApprovalChange] != 3 || st["change_contact"] != 1 {
		t.Errorf("callback stats = %v", st)
	}
}

func TestCallbackBadInputMatrix(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, tc := range []struct {
			tamper wt.Tamper
			status int
			check  string
		}{
			{wt.BadSignature, http.StatusForbidden, "signature"},
			{wt.WrongReceiver, http.StatusForbidden, "receiver"},
			{wt.Truncated, http.StatusBadRequest, "ciphertext"},
			{wt.BadPadding, http.StatusBadRequest, "padding"},
			{wt.Stale, http.StatusForbidden, "stale"},
		} {
			t.Run(method+" "+tc.check, func(t *testing.T) {
				h := newHook(t, wt.GenerateCompany(62, 10, monday, 5), nil)
				d := h.delivery(t, method, tc.tamper)
				status, body, err := h.sender.Do(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				if status != tc.status || !strings.Contains(body, tc.check) || strings.Contains(body, string(d.Plain)) {
					t.Errorf("answer %d %q, want %d naming %s and no plaintext", status, body, tc.status, tc.check)
				}
				h.nothingStored(t)
				if got := h.conn.Stats().Callbacks["rejected_"+tc.check]; got != 1 {
					t.Errorf("rejected_%s = %d", tc.check, got)
				}
			})
		}
		t.Run(method+" replay", func(t *testing.T) {
			h := newHook(t, wt.GenerateCompany(62, 10, monday, 5), nil)
			d := h.delivery(t, method, wt.Genuine)
			if status, _, _ := h.sender.Do(context.Background(), d); status != http.StatusOK {
				t.Fatalf("first delivery answered %d", status)
			}
			if method == http.MethodPost {
				spNo := <-h.conn.pending.ch // as Work takes it
				h.conn.pending.taken(spNo)
			}
			status, body, _ := h.sender.Do(context.Background(), d)
			want := http.StatusOK // a POST replay is acknowledged, not processed
			if method == http.MethodGet {
				want = http.StatusForbidden
			}
			if status != want || (method == http.MethodGet && body == string(d.Plain)) {
				t.Errorf("replay answered %d %q, want %d", status, body, want)
			}
			h.nothingStored(t)
		})
	}
}

// delivery builds an approval callback (POST) or a URL verification (GET).
func (h *hook) delivery(t testing.TB, method string, tamper wt.Tamper) wt.Delivery {
	t.Helper()
	var (
		d   wt.Delivery
		err error
	)
	if method == http.MethodGet {
		d, err = h.sender.Verification(tamper)
	} else {
		d, err = h.sender.Event(wt.ApprovalChange(h.srv.CorpID(), someApproval(t, h.env, 1), h.clock.Now()), tamper)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (h *hook) nothingStored(t testing.TB) {
	t.Helper()
	if n, _ := h.stored(); n != 0 || h.conn.Queued() != 0 {
		t.Errorf("stored: %d ingest calls, %d queued", n, h.conn.Queued())
	}
}

func TestCallbackWithFullQueueStoresBeforeAcknowledging(t *testing.T) {
	h := newHook(t, wt.GenerateCompany(63, 40, monday, 10), func(c *Config) { c.CallbackQueue = 1 })
	ctx := context.Background()
	first, second := someApproval(t, h.env, 1), someApproval(t, h.env, 2)
	if err := h.sender.Deliver(ctx, wt.ApprovalChange(h.srv.CorpID(), first, h.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if err := h.sender.Deliver(ctx, wt.ApprovalChange(h.srv.CorpID(), second, h.clock.Now())); err != nil {
		t.Fatal(err)
	}
	n, evs := h.stored()
	if n != 1 || len(evs) != 1 || evs[0].ID != "wecom/"+h.srv.CorpID()+"/makeup/"+second.SpNo {
		t.Fatalf("with a full queue: %d ingest calls, %v", n, evs)
	}

	// When ingest fails the callback is refused and may be retried: its
	// nonce is released, so the retry is not taken for a replay.
	h.mu.Lock()
	h.fail = errors.New("ledger down")
	h.mu.Unlock()
	d, err := h.sender.Event(wt.ApprovalChange(h.srv.CorpID(), second, h.clock.Now()), wt.Genuine)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := h.sender.Do(ctx, d); status != http.StatusServiceUnavailable {
		t.Fatalf("ingest failure answered %d, want 503", status)
	}
	h.mu.Lock()
	h.fail = nil
	h.mu.Unlock()
	if status, _, _ := h.sender.Do(ctx, d); status != http.StatusOK {
		t.Fatalf("retry answered %d", status)
	}
	if n, _ := h.stored(); n != 3 {
		t.Fatalf("ingest calls = %d, want 3 (stored, failed, retried)", n)
	}
}

func TestWorkRetriesAndGivesUp(t *testing.T) {
	h := newHook(t, wt.GenerateCompany(64, 20, monday, 10), nil)
	a := someApproval(t, h.env, 1)
	ctx := context.Background()
	h.srv.FailNext(wt.APIApprovalDetail, wt.CodeApprovalNoAccess, 1) // permanent: no retry
	h.conn.fetchQueued(ctx, a.SpNo, h.ingest)
	if n, _ := h.stored(); n != 0 || h.conn.Stats().Callbacks["details_failed"] != 1 {
		t.Fatalf("permanent failure: %d ingests, stats %v", n, h.conn.Stats().Callbacks)
	}
	h.mu.Lock()
	h.fail = errors.New("ledger down")
	h.mu.Unlock()
	h.conn.fetchQueued(ctx, a.SpNo, h.ingest)
	if n, _ := h.stored(); n != workerAttempts {
		t.Fatalf("ingest attempts = %d, want %d", n, workerAttempts)
	}
	h.mu.Lock()
	h.fail = nil
	h.mu.Unlock()
	h.conn.fetchQueued(ctx, a.SpNo, h.ingest)
	if _, evs := h.stored(); len(evs) != 1 {
		t.Fatalf("after recovery: %v", evs)
	}
}

func TestCallbackNotConfigured(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, func(c *Config) { c.CallbackToken, c.CallbackAESKey = "", "" })
	rec := httptest.NewRecorder()
	e.conn.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hooks/wecom/wecom-test", strings.NewReader("<xml/>")))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("answer %d, want 404", rec.Code)
	}
}

func TestCallbackMalformedBodies(t *testing.T) {
	h := newHook(t, smallCompany(), nil)
	for _, body := range []string{"", "not xml", "<xml><Encrypt></Encrypt></xml>", "<xml><ToUserName>x</ToUserName></xml>"} {
		resp, err := http.Post(h.ts.URL+"?msg_signature=a&timestamp=1&nonce=2", "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q answered %d", body, resp.StatusCode)
		}
	}
	h.nothingStored(t)
}

// FuzzCallback throws arbitrary requests at the receiver. Whatever it
// answers, it must not panic, and a request it refuses stores nothing.
func FuzzCallback(f *testing.F) {
	h := newHook(f, wt.GenerateCompany(65, 40, monday, 10), nil)
	a := someApproval(f, h.env, 1)
	for _, tamper := range []wt.Tamper{wt.Genuine, wt.BadSignature, wt.Truncated, wt.BadPadding} {
		get, _ := h.sender.Verification(tamper)
		post, _ := h.sender.Event(wt.ApprovalChange(h.srv.CorpID(), a, h.clock.Now()), tamper)
		for _, d := range []wt.Delivery{get, post} {
			f.Add(d.Method == http.MethodPost, d.Query.Get("msg_signature"), d.Query.Get("timestamp"), d.Query.Get("nonce"), d.Query.Get("echostr"), d.Body)
		}
	}
	f.Add(true, "", "", "", "", []byte("<xml><Encrypt>AAAA</Encrypt></xml>"))
	handler := h.conn.Handler(h.ingest)
	f.Fuzz(func(t *testing.T, post bool, sig, ts, nonce, echo string, body []byte) {
		q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
		method := http.MethodGet
		if post {
			method = http.MethodPost
		} else {
			q.Set("echostr", echo)
		}
		queued, stats := h.conn.Queued(), h.conn.Stats().Callbacks[eventApprovalChange]
		before, _ := h.stored()
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(method, "/hooks/wecom/wecom-test?"+q.Encode(), strings.NewReader(string(body))))
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			after, _ := h.stored()
			if after != before || h.conn.Queued() > queued || h.conn.Stats().Callbacks[eventApprovalChange] != stats {
				t.Fatalf("refused with %d but stored something", rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

func TestSenderAndReceiverAgreeOnAnyKey(t *testing.T) {
	// Round trip with keys other than the vector's: the receiver's crypto
	// is the shared msgcrypt, the sender seals independently of it.
	for _, key := range []string{strings.Repeat("A", 43), "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"} {
		h := newHook(t, smallCompany(), func(c *Config) { c.CallbackAESKey = config.Secret(key) })
		s, err := wt.NewSender(h.ts.URL, testToken, key, h.srv.CorpID(), wt.WithSenderClock(h.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(context.Background()); err != nil {
			t.Fatalf("key %s…: %v", key[:6], err)
		}
		big := []byte("<xml><Event>" + strings.Repeat("长", 3000) + "</Event></xml>")
		if err := s.Deliver(context.Background(), big); err != nil {
			t.Fatalf("large event: %v", err)
		}
	}
}
