package dingtalk

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/internal/clocktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// FuzzWebhook feeds the receiver arbitrary queries and bodies. Whatever
// arrives, it must not panic; it stores and queues nothing unless it
// answers 200; a 200 carries the encrypted "success"; and every stored
// event is valid. The seeds are genuine deliveries of each event kind in
// both parameter spellings, and near misses.
func FuzzWebhook(f *testing.F) {
	now := monday.AddDate(0, 0, 40)
	c := dt.GenerateCompany(3, 3, monday, 3)
	events := []any{
		dt.CheckURLEvent(),
		dt.CheckRecordEvent(c.CorpID, "evt-fuzz", c.Records[:2]...),
		map[string]any{"EventType": "bpms_instance_change", "processInstanceId": "i1", "processCode": dt.ProcLeave, "type": "finish", "result": "agree"},
		map[string]any{"EventType": "attend_user_daily_summary_refresh", "userId": "user00001", "workDate": "2026-03-03"},
		map[string]any{"EventType": "attendance_schedule_change", "userIds": "[\"user00001\"]", "workDateBegin": "1772467200000"},
		map[string]any{"EventType": "attendance_check_record", "DataList": []any{map[string]any{"userId": "u", "checkTime": "1772499600000", "latitude": "91.5", "longitude": 500}}},
		map[string]any{"EventType": "something_new"},
	}
	for _, ev := range events {
		s := sealFor(f, dt.DefaultAppKey, now, ev)
		f.Add(fuzzQuery(s, false), fuzzBody(s))
		f.Add(fuzzQuery(s, true), fuzzBody(s))
	}
	s := sealFor(f, dt.DefaultAppKey, now, dt.CheckURLEvent())
	f.Add(fuzzQuery(s, false), fuzzBody(resign(f, s, s.Encrypt[:len(s.Encrypt)-4])))
	f.Add(fuzzQuery(badPadding(f, dt.DefaultAppKey, now, []byte(`{"EventType":"check_url"}`), 0), false), fuzzBody(badPadding(f, dt.DefaultAppKey, now, []byte(`{"EventType":"check_url"}`), 0)))
	f.Add("signature=0000&timestamp=1&nonce=x", `{"encrypt":"AAAA"}`)
	f.Add("", "")
	f.Add("msg_signature=%zz&timeStamp=&nonce", `{"encrypt":`)

	f.Fuzz(func(t *testing.T, query, body string) {
		clock := clocktest.New(now)
		conn, err := NewConnector("fuzz", Config{
			AppKey: dt.DefaultAppKey, AppSecret: config.Secret(dt.DefaultAppSecret), CorpID: c.CorpID,
			BaseURL: "http://127.0.0.1:1", Token: hookToken, AESKey: hookAESKey,
			Approvals: ApprovalCodes{Leave: []string{dt.ProcLeave}},
		}, connectors.Deps{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		req := httptest.NewRequest(http.MethodPost, "/hooks/dingtalk/fuzz", strings.NewReader(body))
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		conn.Handler(rec.emit).ServeHTTP(w, req)

		if w.Code != http.StatusOK {
			if rec.calls() != 0 || conn.QueueLen() != 0 {
				t.Fatalf("answered %d but stored %d batches and queued %d jobs", w.Code, rec.calls(), conn.QueueLen())
			}
			return
		}
		var reply struct {
			Signature string `json:"msg_signature"`
			Encrypt   string `json:"encrypt"`
			TimeStamp string `json:"timeStamp"`
			Nonce     string `json:"nonce"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
			t.Fatalf("200 without the JSON reply: %q", w.Body.String())
		}
		cipher, err := msgcrypt.New(hookToken, hookAESKey, dt.DefaultAppKey)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := cipher.Open(msgcrypt.Sealed{Encrypt: reply.Encrypt, Signature: reply.Signature, Timestamp: reply.TimeStamp, Nonce: reply.Nonce})
		if err != nil || string(plain) != successReply {
			t.Fatalf("reply %q does not open to success: %v", plain, err)
		}
		for _, ev := range rec.events() {
			if ev.Kind != mapping.KindPunch || ev.Via != mapping.ViaWebhook {
				t.Errorf("stored %s via %s", ev.Kind, ev.Via)
			}
			if err := mapping.Validate(ev); err != nil && !strings.Contains(err.Error(), "punch.l") {
				// Coordinates out of range are the one thing a genuine
				// delivery can carry that validation refuses; ingest keeps
				// such events as rejected.
				t.Errorf("invalid event: %v", err)
			}
		}
	})
}

func fuzzQuery(s msgcrypt.Sealed, legacy bool) string {
	q := url.Values{"nonce": {s.Nonce}}
	if legacy {
		q.Set("msg_signature", s.Signature)
		q.Set("timeStamp", s.Timestamp)
	} else {
		q.Set("signature", s.Signature)
		q.Set("timestamp", s.Timestamp)
	}
	return q.Encode()
}

func fuzzBody(s msgcrypt.Sealed) string {
	b, _ := json.Marshal(map[string]string{"encrypt": s.Encrypt})
	return string(b)
}
