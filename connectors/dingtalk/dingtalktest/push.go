package dingtalktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

// PushConfig is how a push is encrypted and sent: the app's HTTP push
// token, aes_key and owner key, as configured in the developer console.
type PushConfig struct {
	Token    string
	AESKey   string
	OwnerKey string
	// Legacy sends msg_signature and timeStamp, the spelling of the older
	// samples, instead of signature and timestamp.
	Legacy bool
	// Time is the push's timestamp (default now); Nonce its nonce
	// (default 16 random letters and digits).
	Time  time.Time
	Nonce string
}

// PushResult is what an endpoint answered and what was checked of it.
type PushResult struct {
	Status int    // HTTP status
	Body   string // the answer as received, shortened
	// Reply is the decrypted reply; "success" when the push was accepted.
	Reply string
	// Checks lists, in order, what was verified of the reply.
	Checks []string
}

// Reply errors, for callers that branch on why a reply was refused.
var (
	ErrReplyStatus    = errors.New("dingtalktest: the endpoint did not answer HTTP 200")
	ErrReplyShape     = errors.New("dingtalktest: the reply is not the encrypted success JSON")
	ErrReplySignature = errors.New("dingtalktest: the reply's signature does not verify")
	ErrReplyDecrypt   = errors.New("dingtalktest: the reply does not decrypt with this key and owner key")
	ErrReplyNotOK     = errors.New("dingtalktest: the reply does not say success")
)

// Push sends event to url as DingTalk's HTTP push does — POST
// url?signature=&timestamp=(ms)&nonce= with {"encrypt"} — and checks the
// reply: HTTP 200, JSON {msg_signature, encrypt, timeStamp, nonce}, a
// signature that verifies, a ciphertext that decrypts with the owner key,
// and the plaintext "success". client may be nil (a 10-second client).
// The error says which check failed; the result is filled as far as it
// got.
func Push(ctx context.Context, client *http.Client, endpoint string, cfg PushConfig, event []byte) (PushResult, error) {
	var res PushResult
	c, err := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.OwnerKey)
	if err != nil {
		return res, err
	}
	at := cfg.Time
	if at.IsZero() {
		at = time.Now()
	}
	nonce := cfg.Nonce
	if nonce == "" {
		nonce = msgcrypt.RandomNonce(16)
	}
	sealed, err := c.Seal(event, strconv.FormatInt(at.UnixMilli(), 10), nonce)
	if err != nil {
		return res, err
	}
	return PushSealed(ctx, client, endpoint, cfg, sealed)
}

// PushSealed sends an already sealed message (which tests may have
// tampered with) and checks the reply as Push does.
func PushSealed(ctx context.Context, client *http.Client, endpoint string, cfg PushConfig, sealed msgcrypt.Sealed) (PushResult, error) {
	var res PushResult
	u, err := url.Parse(endpoint)
	if err != nil {
		return res, fmt.Errorf("dingtalktest: push URL %q: %w", endpoint, err)
	}
	q := u.Query()
	if cfg.Legacy {
		q.Set("msg_signature", sealed.Signature)
		q.Set("timeStamp", sealed.Timestamp)
	} else {
		q.Set("signature", sealed.Signature)
		q.Set("timestamp", sealed.Timestamp)
	}
	q.Set("nonce", sealed.Nonce)
	u.RawQuery = q.Encode()
	body, _ := json.Marshal(map[string]string{"encrypt": sealed.Encrypt})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return res, fmt.Errorf("dingtalktest: push to %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return res, fmt.Errorf("dingtalktest: read the reply: %w", err)
	}
	res.Status = resp.StatusCode
	res.Body = strings.TrimSpace(string(b))
	if len(res.Body) > 300 {
		res.Body = res.Body[:300] + "…"
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("%w: HTTP %d: %s", ErrReplyStatus, resp.StatusCode, res.Body)
	}
	res.Checks = append(res.Checks, "HTTP 200")
	var reply struct {
		Signature string `json:"msg_signature"`
		Encrypt   string `json:"encrypt"`
		TimeStamp any    `json:"timeStamp"`
		Nonce     string `json:"nonce"`
	}
	if err := json.Unmarshal(b, &reply); err != nil || reply.Signature == "" || reply.Encrypt == "" || reply.Nonce == "" || reply.TimeStamp == nil {
		return res, fmt.Errorf("%w: want {msg_signature, encrypt, timeStamp, nonce}, got %s", ErrReplyShape, res.Body)
	}
	ts := fmt.Sprint(reply.TimeStamp)
	if f, ok := reply.TimeStamp.(float64); ok {
		ts = strconv.FormatFloat(f, 'f', -1, 64)
	}
	res.Checks = append(res.Checks, "reply is JSON with msg_signature, encrypt, timeStamp, nonce")
	c, err := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.OwnerKey)
	if err != nil {
		return res, err
	}
	if err := c.Verify(reply.Signature, ts, reply.Nonce, reply.Encrypt); err != nil {
		return res, fmt.Errorf("%w: %v", ErrReplySignature, err)
	}
	res.Checks = append(res.Checks, "reply signature verifies with the token")
	plain, err := c.Decrypt(reply.Encrypt)
	if err != nil {
		return res, fmt.Errorf("%w: %v", ErrReplyDecrypt, err)
	}
	res.Reply = string(plain)
	res.Checks = append(res.Checks, "reply decrypts with the aes_key and ends with the owner key")
	if res.Reply != "success" {
		return res, fmt.Errorf("%w: %q", ErrReplyNotOK, res.Reply)
	}
	res.Checks = append(res.Checks, `reply says "success"`)
	return res, nil
}

// PushTo sends event (JSON-encoded unless it is already []byte) to url,
// encrypted with the given settings and timestamped by the server's clock,
// and checks the reply.
func (s *Server) PushTo(endpoint, token, aesKey, ownerKey string, event any) (PushResult, error) {
	b, ok := event.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(event); err != nil {
			return PushResult{}, err
		}
	}
	return Push(context.Background(), nil, endpoint, PushConfig{Token: token, AESKey: aesKey, OwnerKey: ownerKey, Time: s.now()}, b)
}

// CheckURLEvent is the event DingTalk pushes to verify a callback URL.
func CheckURLEvent() map[string]any { return map[string]any{"EventType": "check_url"} }

// CheckRecordData is the data of an attendance_check_record event for
// records (platform API reference A6): the raw punch facts only, no check
// type or verdict. Machine punches carry no coordinates.
func CheckRecordData(corpID string, recs ...Record) map[string]any {
	list := make([]map[string]any, len(recs))
	for i, r := range recs {
		m := map[string]any{
			"userId":         r.UserID,
			"corpId":         corpID,
			"checkTime":      r.CheckTime.UnixMilli(),
			"groupId":        "4C63" + strconv.FormatInt(r.GroupID%10000, 10),
			"bizId":          corpID + "_" + strconv.FormatInt(r.ID, 10),
			"locationMethod": pushMethod(r),
			"locationResult": r.LocationResult,
			"address":        r.Address,
			"checkByUser":    true,
		}
		if r.LocationResult == "" {
			m["locationResult"] = "Normal"
		}
		if r.HasLocation {
			m["latitude"], m["longitude"] = r.Lat, r.Lng
		}
		if r.DeviceSN != "" {
			m["deviceSN"] = r.DeviceSN
		}
		list[i] = m
	}
	return map[string]any{"dataList": list}
}

// pushMethod is the push's locationMethod: MAP, WIFI or ATM.
func pushMethod(r Record) string {
	switch {
	case r.SourceType == "ATM" || r.SourceType == "DING_ATM":
		return "ATM"
	case r.LocationMethod == "WIFI":
		return "WIFI"
	}
	return "MAP"
}

// CheckRecordEvent is the decrypted body of an attendance_check_record
// HTTP push.
func CheckRecordEvent(corpID, eventID string, recs ...Record) map[string]any {
	ev := CheckRecordData(corpID, recs...)
	ev["EventType"] = "attendance_check_record"
	ev["CorpId"] = corpID
	ev["eventId"] = eventID
	return ev
}

// InstanceChangeData is the data of a bpms_instance_change event for in:
// type start while running, finish when completed, terminate when
// withdrawn.
func InstanceChangeData(corpID string, in Instance) map[string]any {
	typ := "start"
	switch in.Status {
	case StatusCompleted:
		typ = "finish"
	case StatusTerminated:
		typ = "terminate"
	}
	m := map[string]any{
		"processInstanceId": in.ID, "corpId": corpID, "processCode": in.ProcessCode, "title": in.Title,
		"type": typ, "staffId": in.Originator, "createTime": in.Created.UnixMilli(),
		"url": "https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/approval?procInstId=" + in.ID,
	}
	if in.ProcessCode == ProcMakeup {
		m["bizCategoryId"] = "attendance.supply"
	}
	if in.Status == StatusCompleted {
		m["result"] = in.Result
		m["finishTime"] = in.Finished.UnixMilli()
	}
	return m
}

// InstanceChangeEvent is the decrypted body of a bpms_instance_change HTTP
// push.
func InstanceChangeEvent(corpID, eventID string, in Instance) map[string]any {
	ev := InstanceChangeData(corpID, in)
	ev["EventType"] = "bpms_instance_change"
	ev["eventId"] = eventID
	return ev
}
