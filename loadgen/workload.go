package loadgen

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/connectors/dingtalk"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
)

// Platforms a workload can be built for.
const (
	DingTalk = "dingtalk"
	WeCom    = "wecom"
)

// Company describes the generated company both `bench fake` and `bench
// webhook` build, so that the fake platform and the deliveries agree.
type Company struct {
	Platform  string
	Seed      int64
	Employees int
	// From is the first calendar day (midnight Asia/Shanghai) and Days the
	// number of calendar days generated from it.
	From time.Time
	Days int
}

// DefaultFrom is the first day of a company of days calendar days that
// ends the day before now, so that every punch lies in the past.
func DefaultFrom(now time.Time, days int) time.Time {
	y, m, d := now.In(dingtalktest.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, dingtalktest.Shanghai).AddDate(0, 0, -days)
}

// DingTalkCompany generates the DingTalk company c describes.
func (c Company) DingTalkCompany() dingtalktest.Company {
	return dingtalktest.GenerateCompany(c.Seed, c.Employees, c.From, c.Days)
}

// WeComCompany generates the WeCom company c describes.
func (c Company) WeComCompany() wecomtest.Company {
	return wecomtest.GenerateCompany(c.Seed, c.Employees, c.From, c.Days)
}

// Expected is one event a workload must leave in the ledger.
type Expected struct {
	ID       string
	Employee string // "" when the user has no employee number
	Time     time.Time
}

// Delivery is one webhook request before it is sealed.
type Delivery struct {
	Plain  []byte // the decrypted event
	Events int    // the events it carries
}

// Workload is what a benchmark sends and what it must find stored.
type Workload struct {
	Platform   string
	Deliveries []Delivery
	Expected   []Expected
	// From and To bound the times of the expected events.
	From, To time.Time
}

// Events is how many events the deliveries carry.
func (w Workload) Events() int {
	n := 0
	for _, d := range w.Deliveries {
		n += d.Events
	}
	return n
}

// DingTalkWorkload builds attendance_check_record pushes of batch punches
// each from the first events punches of company in time order (all of
// them when events is 0), as the platform pushes them when people punch:
// a morning's users interleaved, not one user after another as the company
// is generated. Punches without a check time (the markers of missing
// punches) are left out: the platform pushes none for them.
func DingTalkWorkload(company dingtalktest.Company, events, batch int) (Workload, error) {
	if batch < 1 {
		return Workload{}, fmt.Errorf("loadgen: batch %d: give at least 1 punch per request", batch)
	}
	jobs := map[string]string{}
	for _, u := range company.Users {
		jobs[u.UserID] = u.JobNumber
	}
	w := Workload{Platform: DingTalk}
	type punch struct {
		rec dingtalktest.Record
		id  string
	}
	seen := map[string]bool{}
	var punches []punch
	for _, r := range company.Records {
		if r.CheckTime.IsZero() {
			continue
		}
		id := dingtalk.PunchID(company.CorpID, r.UserID, r.CheckTime.UnixMilli())
		if seen[id] {
			continue // one punch, whichever record of the day holds it
		}
		seen[id] = true
		punches = append(punches, punch{r, id})
	}
	if events > 0 && len(punches) < events {
		return Workload{}, fmt.Errorf("loadgen: the company has %d punches, fewer than the %d asked for; give more --employees or --days", len(punches), events)
	}
	slices.SortStableFunc(punches, func(a, b punch) int {
		return cmp.Or(a.rec.CheckTime.Compare(b.rec.CheckTime), strings.Compare(a.rec.UserID, b.rec.UserID))
	})
	if events > 0 {
		punches = punches[:events]
	}
	recs := make([]dingtalktest.Record, len(punches))
	for i, p := range punches {
		recs[i] = p.rec
		w.Expected = append(w.Expected, Expected{ID: p.id, Employee: jobs[p.rec.UserID], Time: p.rec.CheckTime})
	}
	// The platform's event ids are new for every workload: a receiver
	// drops a redelivered event id before it stores anything, and a second
	// run of the same punches is meant to reach the ledger's de-duplication.
	run := msgcrypt.RandomNonce(8)
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		b, err := json.Marshal(dingtalktest.CheckRecordEvent(company.CorpID, fmt.Sprintf("bench-%s-%d", run, i), part...))
		if err != nil {
			return Workload{}, err
		}
		w.Deliveries = append(w.Deliveries, Delivery{Plain: b, Events: len(part)})
	}
	w.From, w.To = bounds(w.Expected)
	return w, nil
}

// WeComWorkload builds one sys_approval_change callback per approval of
// company that the connector stores (leave, trips, outings, overtime and
// make-ups; not expense claims), at most events of them (all when 0).
func WeComWorkload(company wecomtest.Company, events int, now time.Time) (Workload, error) {
	jobs := map[string]string{}
	for _, u := range company.Users {
		jobs[u.UserID] = u.JobNumber
	}
	w := Workload{Platform: WeCom}
	for _, a := range company.Approvals {
		kind := "approval"
		switch a.RecordType {
		case 9:
			continue
		case 2:
			kind = "makeup"
		}
		w.Deliveries = append(w.Deliveries, Delivery{Plain: wecomtest.ApprovalChange(company.CorpID, a, now), Events: 1})
		w.Expected = append(w.Expected, Expected{ID: "wecom/" + company.CorpID + "/" + kind + "/" + a.SpNo, Employee: jobs[a.Applyer], Time: a.ApplyTime})
		if events > 0 && len(w.Deliveries) == events {
			break
		}
	}
	if events > 0 && len(w.Deliveries) < events {
		return Workload{}, fmt.Errorf("loadgen: the company has %d approvals, fewer than the %d asked for; give more --employees or --days", len(w.Deliveries), events)
	}
	w.From, w.To = bounds(w.Expected)
	return w, nil
}

// bounds returns the earliest time of es and a time after the latest.
func bounds(es []Expected) (from, to time.Time) {
	for i, e := range es {
		if i == 0 || e.Time.Before(from) {
			from = e.Time
		}
		if i == 0 || !e.Time.Before(to) {
			to = e.Time.Add(time.Millisecond)
		}
	}
	return from, to
}

// Keys are a connector's callback settings.
type Keys struct {
	Token  string
	AESKey string
	// ReceiverID is the DingTalk owner key (the app key, or the corp id of
	// an organisation-wide subscription) or the WeCom corp id.
	ReceiverID string
}

// Sealed is one delivery ready to send.
type Sealed struct {
	Method string
	URL    string
	Body   []byte
	Header http.Header
	Events int
}

// Sealer seals deliveries for one platform's receiver and checks its
// replies.
type Sealer struct {
	platform string
	url      string
	cipher   *msgcrypt.Cipher
}

// NewSealer returns a Sealer for the receiver at endpoint.
func NewSealer(platform, endpoint string, k Keys) (*Sealer, error) {
	if platform != DingTalk && platform != WeCom {
		return nil, fmt.Errorf("loadgen: platform %q: use dingtalk or wecom", platform)
	}
	if _, err := url.Parse(endpoint); err != nil {
		return nil, fmt.Errorf("loadgen: URL %q: %w", endpoint, err)
	}
	c, err := msgcrypt.New(k.Token, k.AESKey, k.ReceiverID)
	if err != nil {
		return nil, err
	}
	return &Sealer{platform: platform, url: endpoint, cipher: c}, nil
}

// Seal encrypts and signs d as the platform does at now: DingTalk POSTs
// {"encrypt"} with signature, timestamp (milliseconds) and nonce in the
// query; WeCom POSTs the XML envelope with msg_signature, timestamp
// (seconds) and nonce.
func (s *Sealer) Seal(d Delivery, now time.Time) (Sealed, error) {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	if s.platform == WeCom {
		ts = strconv.FormatInt(now.Unix(), 10)
	}
	sealed, err := s.cipher.Seal(d.Plain, ts, msgcrypt.RandomNonce(16))
	if err != nil {
		return Sealed{}, err
	}
	q := url.Values{"nonce": {sealed.Nonce}, "timestamp": {ts}}
	out := Sealed{Method: http.MethodPost, Header: http.Header{}, Events: d.Events}
	if s.platform == DingTalk {
		q.Set("signature", sealed.Signature)
		out.Body, _ = json.Marshal(map[string]string{"encrypt": sealed.Encrypt})
		out.Header.Set("Content-Type", "application/json")
	} else {
		q.Set("msg_signature", sealed.Signature)
		out.Body = []byte("<xml><ToUserName><![CDATA[" + s.cipher.ReceiverID() + "]]></ToUserName><AgentID><![CDATA[" +
			strconv.Itoa(wecomtest.DefaultAgentID) + "]]></AgentID><Encrypt><![CDATA[" + sealed.Encrypt + "]]></Encrypt></xml>")
		out.Header.Set("Content-Type", "text/xml")
	}
	sep := "?"
	if strings.Contains(s.url, "?") {
		sep = "&"
	}
	out.URL = s.url + sep + q.Encode()
	return out, nil
}

// CheckReply reports whether an HTTP 200 answer is the platform's
// acknowledgement: for DingTalk the encrypted "success" JSON, signed with
// the token; for WeCom an empty body or "success".
func (s *Sealer) CheckReply(body []byte) error {
	if s.platform == WeCom {
		if b := strings.TrimSpace(string(body)); b != "" && b != "success" {
			return fmt.Errorf("reply %q, want an empty body or success", clip(b))
		}
		return nil
	}
	var reply struct {
		Signature string          `json:"msg_signature"`
		Encrypt   string          `json:"encrypt"`
		TimeStamp json.RawMessage `json:"timeStamp"`
		Nonce     string          `json:"nonce"`
	}
	if err := json.Unmarshal(body, &reply); err != nil || reply.Encrypt == "" {
		return fmt.Errorf("reply %q is not the encrypted success JSON", clip(string(body)))
	}
	ts := strings.Trim(string(reply.TimeStamp), `"`)
	plain, err := s.cipher.Open(msgcrypt.Sealed{Encrypt: reply.Encrypt, Signature: reply.Signature, Timestamp: ts, Nonce: reply.Nonce})
	if err != nil {
		return fmt.Errorf("reply does not verify: %w", err)
	}
	if string(plain) != "success" {
		return fmt.Errorf("reply says %q, want success", clip(string(plain)))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
