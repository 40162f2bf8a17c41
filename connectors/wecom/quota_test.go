package wecom

import (
	"testing"
	"time"

	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
)

// TestPullReportsQuotaUse checks that a pull reports, for each API with a
// per-minute limit, its calls against that limit; APIs without one are
// left out.
func TestPullReportsQuotaUse(t *testing.T) {
	e := newEnv(t, wt.GenerateCompany(3, 300, monday, 1), nil, func(c *Config) {
		c.ApprovalSecret, c.CallbackToken, c.CallbackAESKey = "", "", ""
		c.Concurrency = 1
	})
	_, st, err := e.pull(t, days(31))
	if err != nil {
		t.Fatal(err)
	}
	q, ok := st.Quota[apiCheckinData]
	if !ok {
		t.Fatalf("no quota use of %s in %v", apiCheckinData, st.Quota)
	}
	if q.Calls != st.APICalls[apiCheckinData] || q.Calls != 6 || q.Limit != 600 || q.Window != time.Minute {
		t.Errorf("quota use %+v, want the 6 calls against 600 a minute", q)
	}
	// One call at a time, paced at 599 a minute by the injected clock:
	// the calls fill their slots.
	if q.Utilisation < 0.9 || q.Utilisation > 1 {
		t.Errorf("utilisation %.3f, want between 0.9 and 1", q.Utilisation)
	}
	if _, ok := st.Quota[apiGetToken]; ok {
		t.Errorf("gettoken, which has no limit, is in the quota use: %v", st.Quota)
	}
}
