package wecom

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

const (
	// maxCallbackBody bounds a callback body; an approval event with a
	// long process list is a few kilobytes.
	maxCallbackBody = 1 << 20
	// replyWithin is how long a POST may take before WeCom gives up on it
	// (B6: 5 s); the handler keeps a margin for the network.
	replyWithin = 4500 * time.Millisecond
	// eventApprovalChange is the approval status callback (B6).
	eventApprovalChange = "sys_approval_change"
)

// callbackEnvelope is the POST body: the corp id, the app and the
// ciphertext (B6).
type callbackEnvelope struct {
	ToUserName string `xml:"ToUserName"`
	AgentID    string `xml:"AgentID"`
	Encrypt    string `xml:"Encrypt"`
}

// callbackEvent is the decrypted event; only sys_approval_change is read
// beyond its name.
type callbackEvent struct {
	ToUserName   string `xml:"ToUserName"`
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
	ApprovalInfo struct {
		SpNoStr  string `xml:"SpNoStr"`
		SpNo     string `xml:"SpNo"`
		SpStatus string `xml:"SpStatus"`
	} `xml:"ApprovalInfo"`
}

// Handler returns the callback handler mounted at /hooks/wecom/<name>.
//
// GET is the URL verification: the signature over (token, timestamp,
// nonce, echostr) is checked, echostr decrypted and its plaintext answered
// bare (no quotes, BOM or newline), well within the platform's 1 s.
//
// POST is an event: the XML body's Encrypt is checked against
// msg_signature and decrypted, and the receive id inside must be the
// corp id. Then the timestamp must be within callback_window of now and
// the (timestamp, nonce, signature) new. sys_approval_change carries no
// form values, so its SpNoStr becomes a task for Work to fetch the details
// (getapprovaldetail) and ingest them. Nothing is emitted before that
// fetch, because nothing in the callback makes a complete event. With a
// task store (the ledger, in serve) the callback is acknowledged with an
// empty 200 only once the task is stored, and answered 503 when it cannot
// be, so a crash after the reply loses nothing: any replica's Work does
// the stored task. Without one the task waits in a bounded in-memory
// queue, an approval lost to a crash is read again by the next pull
// (approval_lookback), and when the queue is full the details are fetched
// and ingested inside the request before the reply. Other events are
// acknowledged and counted.
//
// Rejections: a bad signature, a wrong receive id or a stale timestamp
// get 403, a malformed ciphertext, padding or length 400; nothing is
// stored. A replayed POST gets an empty 200 and is not processed again:
// the platform repeats a delivery only when our first answer did not reach
// it, and that first delivery was accepted.
func (c *Connector) Handler(ingest connectors.EmitFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.cipher == nil {
			c.client.countCallback("rejected_not_configured")
			http.Error(w, "callbacks are not configured for this connector: set callback_token and callback_aes_key", http.StatusNotFound)
			return
		}
		switch r.Method {
		case http.MethodGet:
			c.verifyURL(w, r)
		case http.MethodPost:
			c.receive(w, r, ingest)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// verifyURL answers the GET verification with the plaintext of echostr.
func (c *Connector) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := msgcrypt.Sealed{Encrypt: q.Get("echostr"), Signature: q.Get("msg_signature"), Timestamp: q.Get("timestamp"), Nonce: q.Get("nonce")}
	msg, s, err := c.open(s)
	if err == nil {
		err = c.guard.Check(r.Context(), s)
	}
	if err != nil {
		c.reject(w, err)
		return
	}
	c.client.countCallback("url_verification")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(msg)
}

// open verifies and decrypts s. A query string written with a bare "+"
// (not %2B) reaches us as a space; when the signature fails and echostr
// has spaces, it is tried again with them read as "+".
func (c *Connector) open(s msgcrypt.Sealed) ([]byte, msgcrypt.Sealed, error) {
	msg, err := c.cipher.Open(s)
	if errors.Is(err, msgcrypt.ErrSignature) && strings.Contains(s.Encrypt, " ") {
		alt := s
		alt.Encrypt = strings.ReplaceAll(s.Encrypt, " ", "+")
		if m, err2 := c.cipher.Open(alt); err2 == nil || !errors.Is(err2, msgcrypt.ErrSignature) {
			return m, alt, err2
		}
	}
	return msg, s, err
}

// receive handles one POSTed event.
func (c *Connector) receive(w http.ResponseWriter, r *http.Request, ingest connectors.EmitFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), replyWithin)
	defer cancel()
	body, err := connectors.ReadBody(r, maxCallbackBody)
	var env callbackEnvelope
	switch {
	case err != nil:
		c.client.countCallback("rejected_body")
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	case len(body) > maxCallbackBody:
		c.client.countCallback("rejected_body")
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	case xml.Unmarshal(body, &env) != nil || env.Encrypt == "":
		c.client.countCallback("rejected_body")
		http.Error(w, "want an XML body with <Encrypt>", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	s := msgcrypt.Sealed{Encrypt: env.Encrypt, Signature: q.Get("msg_signature"), Timestamp: q.Get("timestamp"), Nonce: q.Get("nonce")}
	msg, err := c.cipher.Open(s)
	if err == nil {
		err = c.guard.Check(ctx, s)
	}
	if errors.Is(err, msgcrypt.ErrReplay) {
		c.client.countCallback("replay")
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		c.reject(w, err)
		return
	}
	var ev callbackEvent
	if err := xml.Unmarshal(msg, &ev); err != nil {
		c.client.countCallback("rejected_event_xml")
		http.Error(w, "the decrypted event is not XML", http.StatusBadRequest)
		return
	}
	if ev.Event != eventApprovalChange {
		c.client.countCallback(eventName(ev))
		w.WriteHeader(http.StatusOK)
		return
	}
	spNo := firstOf(strings.TrimSpace(ev.ApprovalInfo.SpNoStr), strings.TrimSpace(ev.ApprovalInfo.SpNo))
	if spNo == "" {
		c.client.countCallback("rejected_no_sp_no")
		c.log.Warn("approval callback without SpNoStr or SpNo; acknowledged, nothing to fetch")
		w.WriteHeader(http.StatusOK)
		return
	}
	if c.tasks != nil {
		// Durable: the approval is fetched from the stored task, by this
		// replica or another, even after a crash right after the reply.
		if err := c.tasks.AddTask(ctx, c.name, taskApproval, spNo); err != nil {
			c.client.countCallback("failed_task")
			c.log.Error("approval callback not stored; answering 503 so WeCom retries", "sp_no", spNo, "error", err)
			if rerr := c.guard.Release(context.WithoutCancel(ctx), s); rerr != nil {
				c.log.Warn("nonce not released", "error", rerr)
			}
			http.Error(w, "approval could not be stored, retry later", http.StatusServiceUnavailable)
			return
		}
		select {
		case c.nudge <- struct{}{}:
		default:
		}
		c.client.countCallback(eventApprovalChange)
		w.WriteHeader(http.StatusOK)
		return
	}
	if c.pending.push(spNo) {
		c.client.countCallback(eventApprovalChange)
		w.WriteHeader(http.StatusOK)
		return
	}
	// The queue is full: fetch and store now, inside the reply budget.
	if err := c.storeApproval(ctx, spNo, ingest); err != nil {
		c.client.countCallback("failed_queue_full")
		c.log.Error("approval callback not stored: queue full and the direct fetch failed; the next pull reads it", "sp_no", spNo, "error", err)
		if rerr := c.guard.Release(context.WithoutCancel(ctx), s); rerr != nil {
			c.log.Warn("nonce not released", "error", rerr)
		}
		http.Error(w, "approval could not be stored, retry later", http.StatusServiceUnavailable)
		return
	}
	c.client.countCallback(eventApprovalChange)
	w.WriteHeader(http.StatusOK)
}

// storeApproval fetches one approval's details and ingests its events.
func (c *Connector) storeApproval(ctx context.Context, spNo string, ingest connectors.EmitFunc) error {
	events, err := c.approvalEvents(ctx, spNo, c.now(), mapping.ViaWebhook)
	if err != nil || len(events) == 0 {
		return err
	}
	return ingest(ctx, events)
}

// reject answers a callback that failed a check and counts it by check.
func (c *Connector) reject(w http.ResponseWriter, err error) {
	status, check := http.StatusForbidden, "unknown"
	switch {
	case errors.Is(err, msgcrypt.ErrSignature):
		check = "signature"
	case errors.Is(err, msgcrypt.ErrReceiver):
		check = "receiver"
	case errors.Is(err, msgcrypt.ErrStale):
		check = "stale"
	case errors.Is(err, msgcrypt.ErrReplay):
		check = "replay"
	case errors.Is(err, msgcrypt.ErrCiphertext):
		status, check = http.StatusBadRequest, "ciphertext"
	case errors.Is(err, msgcrypt.ErrPadding):
		status, check = http.StatusBadRequest, "padding"
	case errors.Is(err, msgcrypt.ErrLength):
		status, check = http.StatusBadRequest, "length"
	default:
		status, check = http.StatusServiceUnavailable, "nonce_store"
	}
	c.client.countCallback("rejected_" + check)
	c.log.Warn("callback rejected", "check", check, "error", err)
	http.Error(w, "callback rejected: "+check+" check failed", status)
}

// eventName names an event for the counters: its Event, or its MsgType
// for messages; unexpected text is folded into "other".
func eventName(ev callbackEvent) string {
	name := ev.Event
	if name == "" {
		name = "msg_" + ev.MsgType
	}
	if len(name) > 64 {
		return "other"
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "other"
		}
	}
	return name
}
