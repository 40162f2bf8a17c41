package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

// BenchmarkWebhookPush runs the receiver on pushes of one punch each, as
// 'bench webhook' sends them: signature and replay check, decryption,
// decoding and normalizing the punch, queueing its follow-up read and
// writing the encrypted reply, with an ingest that stores nothing. It is
// the per-request work of the receiver without net/http's connection
// handling and without the ledger; its allocations a request are what the
// garbage collector has to reclaim for each one.
func BenchmarkWebhookPush(b *testing.B) {
	now := monday.AddDate(0, 0, 2)
	company := dt.GenerateCompany(1, 50, monday, 2)
	c, err := NewConnector("dingtalk-bench", Config{
		AppKey: "bench", AppSecret: config.Secret("secret"), CorpID: company.CorpID, RefreshDelay: time.Hour,
		Token: hookToken, AESKey: hookAESKey, OwnerKey: "bench", QueueSize: 1 << 30,
	}, connectors.Deps{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	h := c.Handler(func(context.Context, []mapping.Event) error { return nil })
	sealer, err := msgcrypt.New(hookToken, hookAESKey, "bench")
	if err != nil {
		b.Fatal(err)
	}
	// Pushes are sealed ahead, a chunk at a time with the timer stopped:
	// each needs a nonce and an event id of its own, or the receiver
	// refuses it as a replay or drops it as a redelivery.
	const chunk = 2048
	var (
		reqs []*http.Request
		recs []*httptest.ResponseRecorder
		n    int
	)
	prepare := func() {
		reqs, recs = reqs[:0], recs[:0]
		for range chunk {
			rec := company.Records[n%len(company.Records)]
			body, err := json.Marshal(dt.CheckRecordEvent(company.CorpID, "ev-"+strconv.Itoa(n), rec))
			if err != nil {
				b.Fatal(err)
			}
			s, err := sealer.Seal(body, strconv.FormatInt(now.UnixMilli(), 10), msgcrypt.RandomNonce(16))
			if err != nil {
				b.Fatal(err)
			}
			q := url.Values{"signature": {s.Signature}, "timestamp": {s.Timestamp}, "nonce": {s.Nonce}}
			enc, _ := json.Marshal(map[string]string{"encrypt": s.Encrypt})
			req := httptest.NewRequest(http.MethodPost, "/hooks/dingtalk/dingtalk-bench?"+q.Encode(), bytes.NewReader(enc))
			req.Header.Set("Content-Type", "application/json")
			reqs, recs = append(reqs, req), append(recs, httptest.NewRecorder())
			n++
		}
	}
	b.ReportAllocs()
	i := chunk
	for b.Loop() {
		if i == chunk {
			b.StopTimer()
			prepare()
			i = 0
			b.StartTimer()
		}
		h.ServeHTTP(recs[i], reqs[i])
		if recs[i].Code != http.StatusOK {
			b.Fatalf("push %d: HTTP %d: %s", i, recs[i].Code, recs[i].Body)
		}
		i++
	}
}
