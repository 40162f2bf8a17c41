package wecomtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

// Tamper spoils a delivery the way a forger or a broken proxy would, for
// negative tests. Each keeps every other part valid, so exactly one check
// fails.
type Tamper int

// Ways to spoil a delivery.
const (
	Genuine       Tamper = iota
	BadSignature         // one hex digit of msg_signature changed
	WrongReceiver        // encrypted for another corp id, correctly signed
	Truncated            // ciphertext cut short of a block, correctly signed
	BadPadding           // last plaintext byte turned to 0, correctly signed
	Stale                // timestamp a day old, correctly signed
)

// Delivery is one callback request as WeCom would send it.
type Delivery struct {
	Method string
	Query  url.Values
	Body   []byte
	// Plain is what the receiver should decrypt: the echostr plaintext it
	// must answer (GET) or the event (POST).
	Plain []byte
}

// Sender plays WeCom's side of a callback configuration: it seals like the
// platform (msgcrypt with the corp id as receive id), sends, and checks the
// receiver's replies.
type Sender struct {
	url       string
	token     string
	aesKey    string
	receiveID string
	cipher    *msgcrypt.Cipher
	client    *http.Client
	now       func() time.Time
}

// SenderOption adjusts a Sender.
type SenderOption func(*Sender)

// WithSenderClock sets the clock of the timestamps (default time.Now).
func WithSenderClock(now func() time.Time) SenderOption { return func(s *Sender) { s.now = now } }

// WithHTTPClient sets the client requests go through (default one with a
// 5 s timeout, WeCom's patience for a POST).
func WithHTTPClient(c *http.Client) SenderOption { return func(s *Sender) { s.client = c } }

// NewSender returns a Sender for the receiver at rawURL with the callback
// Token, EncodingAESKey and receive id (the corp id).
func NewSender(rawURL, token, aesKey, receiveID string, opts ...SenderOption) (*Sender, error) {
	if _, err := url.Parse(rawURL); err != nil {
		return nil, fmt.Errorf("wecomtest: callback URL %q: %w", rawURL, err)
	}
	c, err := msgcrypt.New(token, aesKey, receiveID)
	if err != nil {
		return nil, err
	}
	s := &Sender{url: rawURL, token: token, aesKey: aesKey, receiveID: receiveID, cipher: c,
		client: &http.Client{Timeout: 5 * time.Second}, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Verification builds the GET URL verification with a random echostr
// plaintext of digits, as the console sends when the URL is saved.
func (s *Sender) Verification(t Tamper) (Delivery, error) {
	plain := []byte(strconv.FormatUint(rand.Uint64()>>1, 10))
	enc, q, err := s.seal(plain, t)
	if err != nil {
		return Delivery{}, err
	}
	q.Set("echostr", enc)
	return Delivery{Method: http.MethodGet, Query: q, Plain: plain}, nil
}

// Event builds the POST of an event (its decrypted XML).
func (s *Sender) Event(event []byte, t Tamper) (Delivery, error) {
	enc, q, err := s.seal(event, t)
	if err != nil {
		return Delivery{}, err
	}
	var b bytes.Buffer
	b.WriteString("<xml><ToUserName><![CDATA[")
	b.WriteString(s.receiveID)
	b.WriteString("]]></ToUserName><AgentID><![CDATA[")
	b.WriteString(strconv.Itoa(DefaultAgentID))
	b.WriteString("]]></AgentID><Encrypt><![CDATA[")
	b.WriteString(enc)
	b.WriteString("]]></Encrypt></xml>")
	return Delivery{Method: http.MethodPost, Query: q, Body: b.Bytes(), Plain: event}, nil
}

// seal encrypts and signs plain, spoiled as t says, and returns the
// ciphertext and the signature query.
func (s *Sender) seal(plain []byte, t Tamper) (string, url.Values, error) {
	c := s.cipher
	if t == WrongReceiver {
		other, err := msgcrypt.New(s.token, s.aesKey, s.receiveID+"x")
		if err != nil {
			return "", nil, err
		}
		c = other
	}
	enc, err := c.Encrypt(plain)
	if err != nil {
		return "", nil, err
	}
	raw, _ := base64.StdEncoding.DecodeString(enc)
	switch t {
	case Truncated:
		enc = base64.StdEncoding.EncodeToString(raw[:len(raw)-7])
	case BadPadding:
		// CBC: flipping a byte of the previous ciphertext block flips the
		// same byte of this plaintext block. XOR-ing the last byte of the
		// next-to-last block with the padding length turns the last
		// plaintext byte, the padding length, into 0.
		n := 20 + len(plain) + len(s.receiveID)
		pad := 32 - n%32
		raw[len(raw)-17] ^= byte(pad)
		enc = base64.StdEncoding.EncodeToString(raw)
	}
	now := s.now()
	if t == Stale {
		now = now.Add(-24 * time.Hour)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := strconv.FormatUint(1e8+rand.Uint64N(9e8), 10)
	sig := c.Sign(ts, nonce, enc)
	if t == BadSignature {
		b := []byte(sig)
		if b[0] == '0' {
			b[0] = '1'
		} else {
			b[0] = '0'
		}
		sig = string(b)
	}
	return enc, url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}, nil
}

// Do sends d and returns the status and body of the reply.
func (s *Sender) Do(ctx context.Context, d Delivery) (int, string, error) {
	u, err := url.Parse(s.url)
	if err != nil {
		return 0, "", err
	}
	q := u.Query()
	for k, v := range d.Query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	var body io.Reader
	if d.Body != nil {
		body = bytes.NewReader(d.Body)
	}
	req, err := http.NewRequestWithContext(ctx, d.Method, u.String(), body)
	if err != nil {
		return 0, "", err
	}
	if d.Body != nil {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("wecomtest: %s callback: %w", d.Method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// Verify sends a genuine URL verification and checks that the receiver
// answered 200 with exactly the echostr plaintext (no quotes, BOM or
// newline), as the console requires.
func (s *Sender) Verify(ctx context.Context) error {
	d, err := s.Verification(Genuine)
	if err != nil {
		return err
	}
	status, body, err := s.Do(ctx, d)
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("wecomtest: URL verification answered %d: %s", status, strings.TrimSpace(body))
	case body != string(d.Plain):
		return fmt.Errorf("wecomtest: URL verification answered %q, want the bare plaintext %q", body, d.Plain)
	}
	return nil
}

// Deliver sends a genuine event and checks that the receiver acknowledged
// it: 200 with an empty body or "success", which WeCom takes as no passive
// reply.
func (s *Sender) Deliver(ctx context.Context, event []byte) error {
	d, err := s.Event(event, Genuine)
	if err != nil {
		return err
	}
	status, body, err := s.Do(ctx, d)
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("wecomtest: event answered %d: %s", status, strings.TrimSpace(body))
	case body != "" && body != "success":
		return fmt.Errorf("wecomtest: event answered %q, want an empty body or success", body)
	}
	return nil
}

// approvalChange is the sys_approval_change event (B6, path/91815).
type approvalChange struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Event        cdata    `xml:"Event"`
	AgentID      int      `xml:"AgentID"`
	ApprovalInfo struct {
		SpNoStr    cdata `xml:"SpNoStr"`
		SpNo       string
		SpName     cdata `xml:"SpName"`
		SpStatus   int
		TemplateID cdata `xml:"TemplateId"`
		ApplyTime  int64
		Applyer    struct {
			UserID cdata `xml:"UserId"`
			Party  cdata `xml:"Party"`
		}
		StatuChangeEvent int
	}
}

type cdata struct {
	Value string `xml:",cdata"`
}

// ApprovalChange renders the sys_approval_change callback of a as it is at
// now: the status, the template, the applicant — no form values, which is
// why a receiver must fetch the details.
func ApprovalChange(corpID string, a Approval, now time.Time) []byte {
	var ev approvalChange
	ev.ToUserName, ev.FromUserName = cdata{corpID}, cdata{"sys"}
	ev.CreateTime, ev.MsgType, ev.Event, ev.AgentID = now.Unix(), cdata{"event"}, cdata{"sys_approval_change"}, DefaultAgentID
	info := &ev.ApprovalInfo
	status := a.statusAt(now)
	info.SpNoStr, info.SpNo, info.SpName, info.SpStatus = cdata{a.SpNo}, a.SpNo, cdata{a.Name}, status
	info.TemplateID, info.ApplyTime = cdata{a.TemplateID}, a.ApplyTime.Unix()
	info.Applyer.UserID, info.Applyer.Party = cdata{a.Applyer}, cdata{a.Party}
	info.StatuChangeEvent = map[int]int{1: 1, 2: 2, 3: 3, 4: 6, 6: 8, 7: 6}[status]
	b, err := xml.Marshal(ev)
	if err != nil {
		panic("wecomtest: marshal approval change: " + err.Error())
	}
	return b
}

// OtherEvent renders an event the connector only counts, such as
// change_contact.
func OtherEvent(corpID, event string, now time.Time) []byte {
	return []byte(fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"+
		"<CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event>"+
		"<ChangeType><![CDATA[update_user]]></ChangeType><UserID><![CDATA[user00001]]></UserID></xml>", corpID, now.Unix(), event))
}
