package dingtalk

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

// maxCallbackBody bounds a push request's body: an encrypted event of a
// few kilobytes, with room to spare.
const maxCallbackBody = 1 << 20

// successReply is the plaintext every accepted push is answered with,
// encrypted (platform API reference A7).
const successReply = "success"

// Receiver state built on first use: the cipher and the replay guard.
type receiver struct {
	once   sync.Once
	cipher *msgcrypt.Cipher
	guard  msgcrypt.Guard
	err    error
}

// Handler returns the HTTP push receiver, mounted at
// /hooks/dingtalk/<connector name>: the path chose this connector, so only
// its own token, key and owner key are tried.
//
// For each POST it reads signature (or msg_signature), timestamp (or
// timeStamp) and nonce from the query and {"encrypt"} from the body;
// verifies the SHA-1 signature; decrypts (AES-256-CBC, IV = key[:16],
// PKCS#7 to 32-byte blocks) and checks the owner key; refuses a timestamp
// outside callback_window and a replayed (timestamp, nonce, signature);
// then handles the event: check_url is answered at once, punches are
// ingested before the answer, and the details an event calls for (an
// approval instance, a punch's full record, a re-pull of user-days) are
// queued for Work, so that the answer never waits for the platform.
//
// Accepted deliveries, unknown event types included, get the encrypted
// "success" JSON; a forged or malformed one 4xx with nothing stored; one
// whose events could not be stored 503, so that the platform retries. Each
// outcome is counted in CallbackStats.
func (c *Connector) Handler(ingest connectors.EmitFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.serveCallback(w, r, ingest)
	})
}

func (c *Connector) receiver() (*msgcrypt.Cipher, msgcrypt.Guard, error) {
	c.recv.once.Do(func() {
		if c.cfg.Token == "" || c.cfg.AESKey == "" {
			c.recv.err = errNoCallback
			return
		}
		c.recv.cipher, c.recv.err = msgcrypt.New(c.cfg.Token.Reveal(), c.cfg.AESKey.Reveal(), c.cfg.OwnerKey)
		c.recv.guard = msgcrypt.Guard{Window: c.cfg.CallbackWindow, Nonces: c.nonces, Now: c.now}
	})
	return c.recv.cipher, c.recv.guard, c.recv.err
}

var errNoCallback = errors.New("dingtalk: no token and aes_key configured for HTTP push")

func (c *Connector) serveCallback(w http.ResponseWriter, r *http.Request, ingest connectors.EmitFunc) {
	reject := func(status int, reason, msg string) {
		c.hooks.add("rejected:" + reason)
		c.log.Warn("callback rejected", "reason", reason)
		http.Error(w, msg, status)
	}
	if r.Method != http.MethodPost {
		reject(http.StatusMethodNotAllowed, "method", "DingTalk callbacks are POST requests")
		return
	}
	cipher, guard, err := c.receiver()
	switch {
	case errors.Is(err, errNoCallback):
		reject(http.StatusNotFound, "not_configured", "this connector has no HTTP push token and aes_key configured")
		return
	case err != nil:
		c.log.Error("callback settings unusable", "err", err)
		reject(http.StatusInternalServerError, "not_configured", "the connector's token or aes_key is unusable; see the log")
		return
	}
	q := r.URL.Query()
	s := msgcrypt.Sealed{
		Signature: firstParam(q.Get("msg_signature"), q.Get("signature")),
		Timestamp: firstParam(q.Get("timeStamp"), q.Get("timestamp")),
		Nonce:     q.Get("nonce"),
	}
	body, err := connectors.ReadBody(r, maxCallbackBody)
	if err != nil || len(body) > maxCallbackBody {
		reject(http.StatusBadRequest, "bad_request", "unreadable or oversized body")
		return
	}
	s.Encrypt = encryptField(body)
	if s.Signature == "" || s.Timestamp == "" || s.Nonce == "" || s.Encrypt == "" {
		reject(http.StatusBadRequest, "bad_request", "want signature, timestamp and nonce in the query and {\"encrypt\"} in the body")
		return
	}
	plain, err := cipher.Open(s)
	if err != nil {
		status, reason := cryptoReason(err)
		reject(status, reason, "callback refused: "+reason)
		return
	}
	if err := guard.Check(r.Context(), s); err != nil {
		status, reason := cryptoReason(err)
		if reason == "replay" {
			// A genuine delivery seen before: it was accepted then, so it
			// is acknowledged again and nothing is stored.
			c.hooks.add("rejected:replay")
			c.reply(w, cipher)
			return
		}
		reject(status, reason, "callback refused: "+reason)
		return
	}
	p := gjson.ParseBytes(plain)
	if !p.IsObject() {
		_ = guard.Release(r.Context(), s)
		reject(http.StatusBadRequest, "bad_request", "the decrypted event is not a JSON object")
		return
	}
	in := inbound{Type: first(p, "EventType", "eventType"), ID: first(p, "eventId", "EventId"), Payload: p, Via: mapping.ViaWebhook}
	if in.Type == evCheckURL {
		c.hooks.add("check_url")
	} else if err := c.deliver(r.Context(), in, ingest); err != nil {
		// Nothing was acknowledged: forget the nonce so that the
		// platform's retry of this very request is not taken for a replay.
		if rerr := guard.Release(context.WithoutCancel(r.Context()), s); rerr != nil {
			c.log.Warn("nonce release failed", "err", rerr)
		}
		c.log.Error("callback not stored, asking for a retry", "event_type", in.Type, "err", err)
		http.Error(w, "not stored, retry later", http.StatusServiceUnavailable)
		return
	}
	c.hooks.add("accepted")
	c.reply(w, cipher)
}

// encryptField returns the "encrypt" string of a callback body as
// gjson.GetBytes(body, "encrypt") does. DingTalk sends exactly
// {"encrypt":"<base64>"}, and that form is cut out directly: gjson's
// reading of a string of several hundred characters was a tenth of a
// delivery's handling. Any other form goes through gjson.
func encryptField(body []byte) string {
	if rest, ok := bytes.CutPrefix(bytes.TrimSpace(body), []byte(`{"encrypt":"`)); ok {
		if end := bytes.IndexByte(rest, '"'); end >= 0 && bytes.IndexByte(rest[:end], '\\') < 0 &&
			string(bytes.TrimSpace(rest[end+1:])) == "}" {
			return string(rest[:end])
		}
	}
	return gjson.GetBytes(body, "encrypt").String()
}

// reply writes the encrypted success JSON: {msg_signature, encrypt,
// timeStamp (milliseconds), nonce (16 characters)}, as the Java sample's
// getEncryptedMap does.
func (c *Connector) reply(w http.ResponseWriter, cipher *msgcrypt.Cipher) {
	sealed, err := cipher.Seal([]byte(successReply), strconv.FormatInt(c.now().UnixMilli(), 10), msgcrypt.RandomNonce(16))
	if err != nil {
		http.Error(w, "cannot encrypt the reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(appendReply(make([]byte, 0, 80+len(sealed.Encrypt)), sealed))
}

// appendReply appends the JSON of a callback's answer, byte for byte what
// json.Encoder wrote for it: the keys in sorted order, as from the map it
// was first written from, and a newline. Every accepted push is answered,
// and encoding/json's reflection was most of the reply's cost; a table
// test holds the bytes to json.Encoder's.
func appendReply(b []byte, s msgcrypt.Sealed) []byte {
	b = append(b, `{"encrypt":`...)
	b = mapping.AppendJSONString(b, s.Encrypt)
	b = append(b, `,"msg_signature":`...)
	b = mapping.AppendJSONString(b, s.Signature)
	b = append(b, `,"nonce":`...)
	b = mapping.AppendJSONString(b, s.Nonce)
	b = append(b, `,"timeStamp":`...)
	b = mapping.AppendJSONString(b, s.Timestamp)
	return append(b, "}\n"...)
}

// cryptoReason maps a msgcrypt error to an HTTP status and a counter name.
func cryptoReason(err error) (int, string) {
	for _, r := range []struct {
		err    error
		status int
		name   string
	}{
		{msgcrypt.ErrSignature, http.StatusForbidden, "signature"},
		{msgcrypt.ErrReceiver, http.StatusForbidden, "owner_key"},
		{msgcrypt.ErrCiphertext, http.StatusBadRequest, "ciphertext"},
		{msgcrypt.ErrPadding, http.StatusBadRequest, "padding"},
		{msgcrypt.ErrLength, http.StatusBadRequest, "length"},
		{msgcrypt.ErrStale, http.StatusForbidden, "stale"},
		{msgcrypt.ErrReplay, http.StatusConflict, "replay"},
	} {
		if errors.Is(err, r.err) {
			return r.status, r.name
		}
	}
	return http.StatusServiceUnavailable, "guard_failed"
}

func firstParam(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
