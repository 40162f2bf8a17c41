package dingtalktest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

// Vector C2 of the platform API reference: the documented reply that
// decrypts to "success".
const (
	c2Token     = "123456"
	c2AESKey    = "1234567890123456789012345678901234567890123"
	c2Owner     = "dingsnotzck6pm5veliw"
	c2Signature = "9a95a004dd16f5c307e849b994173f76aa26e5eb"
	c2Timestamp = "1614767836"
	c2Nonce     = "A7Co0cJLMzIDtMMI"
	c2Encrypt   = "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA=="
)

// receiver is a minimal endpoint: it records what it got and answers
// with reply(plaintext).
func receiver(t *testing.T, cfg PushConfig, reply func(w http.ResponseWriter, plain []byte)) (string, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sig, ts := q.Get("signature"), q.Get("timestamp")
		if sig == "" {
			sig, ts = q.Get("msg_signature"), q.Get("timeStamp")
			got = append(got, "legacy")
		}
		b, _ := io.ReadAll(r.Body)
		c, err := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.OwnerKey)
		if err != nil {
			t.Error(err)
			return
		}
		plain, err := c.Open(msgcrypt.Sealed{Encrypt: gjson.GetBytes(b, "encrypt").String(), Signature: sig, Timestamp: ts, Nonce: q.Get("nonce")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		got = append(got, string(plain))
		reply(w, plain)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &got
}

func TestPushRoundTrip(t *testing.T) {
	cfg := PushConfig{Token: "tok42", AESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", OwnerKey: "dingapp"}
	success := func(w http.ResponseWriter, _ []byte) {
		c, _ := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.OwnerKey)
		s, _ := c.Seal([]byte("success"), "1772467200000", msgcrypt.RandomNonce(16))
		_ = json.NewEncoder(w).Encode(map[string]string{"msg_signature": s.Signature, "encrypt": s.Encrypt, "timeStamp": s.Timestamp, "nonce": s.Nonce})
	}
	url, got := receiver(t, cfg, success)
	ev := CheckRecordEvent("dingcorp", "e1", Record{UserID: "u1", CheckTime: monday.Add(9 * time.Hour), SourceType: "ATM", DeviceSN: "AT1"})
	b, _ := json.Marshal(ev)
	res, err := Push(context.Background(), nil, url, cfg, b)
	if err != nil || res.Reply != "success" || len(res.Checks) != 5 {
		t.Fatalf("push = %+v, %v", res, err)
	}
	if len(*got) != 1 || gjson.Get((*got)[0], "dataList.0.checkTime").Int() != monday.Add(9*time.Hour).UnixMilli() ||
		gjson.Get((*got)[0], "dataList.0.locationMethod").String() != "ATM" || gjson.Get((*got)[0], "dataList.0.latitude").Exists() {
		t.Errorf("received %v", *got)
	}
	cfg.Legacy = true
	if _, err := Push(context.Background(), nil, url, cfg, []byte(`{"EventType":"check_url"}`)); err != nil || (*got)[1] != "legacy" {
		t.Errorf("legacy push: %v, %v", err, *got)
	}

	for _, tc := range []struct {
		name  string
		reply func(w http.ResponseWriter, plain []byte)
		want  error
	}{
		{"500", func(w http.ResponseWriter, _ []byte) { http.Error(w, "boom", 500) }, ErrReplyStatus},
		{"plain success", func(w http.ResponseWriter, _ []byte) { _, _ = w.Write([]byte("success")) }, ErrReplyShape},
		{"bad signature", func(w http.ResponseWriter, _ []byte) {
			_ = json.NewEncoder(w).Encode(map[string]string{"msg_signature": "00", "encrypt": "x", "timeStamp": "1", "nonce": "n"})
		}, ErrReplySignature},
		{"encrypted, not success", func(w http.ResponseWriter, _ []byte) {
			c, _ := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.OwnerKey)
			s, _ := c.Seal([]byte("fail"), "1", "abcdefghijklmnop")
			_ = json.NewEncoder(w).Encode(map[string]string{"msg_signature": s.Signature, "encrypt": s.Encrypt, "timeStamp": s.Timestamp, "nonce": s.Nonce})
		}, ErrReplyNotOK},
	} {
		url, _ := receiver(t, cfg, tc.reply)
		if _, err := Push(context.Background(), nil, url, cfg, []byte(`{"EventType":"check_url"}`)); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestPushAcceptsTheDocumentedReply checks the reply side against the
// platform's own vector C2.
func TestPushAcceptsTheDocumentedReply(t *testing.T) {
	cfg := PushConfig{Token: c2Token, AESKey: c2AESKey, OwnerKey: c2Owner}
	url, _ := receiver(t, cfg, func(w http.ResponseWriter, _ []byte) {
		_ = json.NewEncoder(w).Encode(map[string]any{"msg_signature": c2Signature, "encrypt": c2Encrypt, "timeStamp": 1614767836, "nonce": c2Nonce})
	})
	res, err := Push(context.Background(), nil, url, cfg, []byte(`{"EventType":"check_url"}`))
	if err != nil || res.Reply != "success" {
		t.Fatalf("documented reply refused: %+v, %v", res, err)
	}
}

func TestStreamGateway(t *testing.T) {
	s, _ := newTestServer(t)
	bad := v1(t, s, http.MethodPost, APIGateway, "", nil, map[string]any{"clientId": s.AppKey(), "clientSecret": "wrong", "subscriptions": []Subscription{{"EVENT", "*"}}})
	if bad.status() != 401 || bad.v1code() != V1BadSecret {
		t.Fatalf("wrong secret: %v", bad)
	}
	open := func() string {
		a := v1(t, s, http.MethodPost, APIGateway, "", nil, map[string]any{"clientId": s.AppKey(), "clientSecret": s.AppSecret(),
			"subscriptions": []Subscription{{"EVENT", "*"}, {"SYSTEM", "ping"}}, "ua": "test"})
		return a["endpoint"].(string) + "?ticket=" + a["ticket"].(string)
	}
	u := open()
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp.StatusCode != 401 {
		t.Error("a ticket was accepted twice")
	}
	id := s.StreamEvent("attendance_check_record", map[string]any{"dataList": []any{}})
	var f streamFrame
	if err := ws.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	if f.Type != "EVENT" || f.Headers["messageId"] != id || f.Headers["eventType"] != "attendance_check_record" || f.Headers["eventId"] == "" ||
		f.Headers["eventCorpId"] != DefaultCorpID || f.Data != `{"dataList":[]}` {
		t.Errorf("frame = %+v", f)
	}
	// No ack: the frame stays pending and comes again on a new connection.
	ws.Close()
	ws, _, err = websocket.DefaultDialer.Dial(open(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.ReadJSON(&f); err != nil || f.Headers["messageId"] != id {
		t.Fatalf("redelivery = %+v, %v", f, err)
	}
	ack := StreamAck{Code: 200, Headers: map[string]string{"messageId": id, "contentType": "application/json"}, Message: "ok", Data: `{"status":"SUCCESS","message":"success"}`}
	if err := ws.WriteJSON(ack); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := s.WaitStreamAck(ctx, id)
	if err != nil || got.Status() != "SUCCESS" || s.StreamPending() != 0 {
		t.Errorf("ack = %+v, %v; pending %d", got, err, s.StreamPending())
	}
	if s.StreamConnects() != 2 || len(s.StreamSubscriptions()) != 2 {
		t.Errorf("connects %d, subscriptions %v", s.StreamConnects(), s.StreamSubscriptions())
	}
}
