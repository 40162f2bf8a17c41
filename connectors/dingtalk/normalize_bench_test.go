package dingtalk

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// BenchmarkNormalizeAndValidate turns one decrypted attendance_check_record
// push with one punch into a punch event and validates it: the work a
// webhook does between decrypting and claiming (verify and decrypt are
// msgcrypt's BenchmarkOpen).
func BenchmarkNormalizeAndValidate(b *testing.B) {
	company := dt.GenerateCompany(1, 1, monday, 1)
	c, err := NewConnector("dingtalk-bench", Config{
		AppKey: "bench", AppSecret: config.Secret("secret"), CorpID: company.CorpID, RefreshDelay: time.Hour,
	}, connectors.Deps{Now: func() time.Time { return monday.AddDate(0, 0, 2) }})
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(dt.CheckRecordEvent(company.CorpID, "ev-1", company.Records[0]))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := gjson.ParseBytes(body)
		events, _, _ := c.handle(inbound{Type: p.Get("EventType").String(), ID: p.Get("eventId").String(), Payload: p, Via: mapping.ViaWebhook})
		if len(events) != 1 {
			b.Fatalf("%d events, want 1", len(events))
		}
		events[0].EmployeeID = "E1"
		if err := mapping.Validate(events[0]); err != nil {
			b.Fatal(err)
		}
	}
}
