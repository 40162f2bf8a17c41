package dingtalk

import (
	"context"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/mapping"
)

// BenchmarkPullAt20QPS pulls 1000 users × 8 weeks (160 listRecord calls)
// from a fake that enforces the standard 20 QPS and answers each call
// after 100 ms, with the default settings. It reports the wall time as a
// multiple of calls/20 s (the target is at most 1.1), the quota
// utilisation of listRecord and the calls refused for their rate (the
// target is none). One iteration takes about 9 s:
//
//	go test -run '^$' -bench PullAt20QPS -benchtime 1x ./connectors/dingtalk
func BenchmarkPullAt20QPS(b *testing.B) {
	company := dt.GenerateCompany(5, 1000, monday, 56)
	users := make([]string, len(company.Users))
	for i, u := range company.Users {
		users[i] = u.UserID
	}
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, company, []dt.Option{dt.WithQPS(20), dt.WithLatency(100 * time.Millisecond)}, func(c *Config) {
			c.QPS, c.Concurrency, c.Users = DefaultQPS, 0, users
		})
		b.StartTimer()
		start := time.Now()
		st, err := e.conn.Pull(context.Background(), connectors.Window{From: monday, To: monday.AddDate(0, 0, 56)},
			func(context.Context, []mapping.Event) error { return nil })
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		calls := 0
		for _, n := range st.APICalls {
			calls += n
		}
		b.ReportMetric(wall.Seconds()/(float64(calls)/20), "wall/(calls/20s)")
		b.ReportMetric(st.Quota[apiListRecord].Utilisation, "utilisation")
		b.ReportMetric(float64(e.conn.Stats().Codes[apiListRecord]["90018"]), "refused")
		b.ReportMetric(float64(calls), "calls")
	}
}
