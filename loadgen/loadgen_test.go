package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/dingtalk"
	"github.com/punchbridge/punchbridge/connectors/wecom"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/loadgen"
	"github.com/punchbridge/punchbridge/mapping"
)

const (
	token  = "benchToken42"
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// calendar marks each event's own date dirty.
type calendar struct{}

func (calendar) DatesFor(_ string, t time.Time) []string { return []string{t.Format(time.DateOnly)} }
func (calendar) DatesBetween(_ string, s, _ time.Time) []string {
	return []string{s.Format(time.DateOnly)}
}

func company(platform string, employees, days int) loadgen.Company {
	return loadgen.Company{Platform: platform, Seed: 7, Employees: employees, Days: days,
		From: loadgen.DefaultFrom(time.Now(), days)}
}

// TestDingTalkWorkloadIsStoredOnce sends a workload to a real DingTalk
// receiver that ingests into a SQLite ledger, and checks the run and the
// ledger.
func TestDingTalkWorkloadIsStoredOnce(t *testing.T) {
	comp := company(loadgen.DingTalk, 12, 5).DingTalkCompany()
	conn, err := dingtalk.NewConnector("dingtalk-bench", dingtalk.Config{
		AppKey: "bench-app", AppSecret: config.Secret("secret"), CorpID: comp.CorpID,
		Token: config.Secret(token), AESKey: config.Secret(aesKey), OwnerKey: "bench-app",
		RefreshDelay: time.Hour,
	}, connectors.Deps{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	l, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ids := mapping.NewIdentities()
	for _, u := range comp.Users {
		ids.Set(dingtalk.Platform, comp.CorpID, u.UserID, u.JobNumber)
	}
	in := ingest.New(l, ids, calendar{}, nil)
	srv := httptest.NewServer(conn.Handler(in.Emit))
	defer srv.Close()

	w, err := loadgen.DingTalkWorkload(comp, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Deliveries) != 17 || w.Events() != 50 || len(w.Expected) != 50 {
		t.Fatalf("workload of %d deliveries, %d events, %d expected; want 17, 50, 50", len(w.Deliveries), w.Events(), len(w.Expected))
	}
	sealer, err := loadgen.NewSealer(loadgen.DingTalk, srv.URL, loadgen.Keys{Token: token, AESKey: aesKey, ReceiverID: "bench-app"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := seal(t, sealer, w)
	conns, err := loadgen.NewConns(srv.URL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer conns.Close()
	res := loadgen.Run(t.Context(), conns, reqs, sealer, loadgen.Options{Concurrency: 4})
	if res.Requests != 17 || res.OK != 17 || res.OKEvents != 50 || len(res.Errors) != 0 {
		t.Fatalf("result %+v, want 17 requests and 50 events acknowledged", res)
	}
	if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max {
		t.Errorf("latencies p50 %s p99 %s max %s are out of order", res.P50, res.P99, res.Max)
	}
	c, err := loadgen.Verify(t.Context(), loadgen.LedgerStore{Ledger: l}, w)
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() {
		t.Errorf("check %+v, want every event stored once", c)
	}

	// A second workload of the same punches is acknowledged and stores
	// nothing new; the check still finds each punch once.
	w2, err := loadgen.DingTalkWorkload(comp, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	res = loadgen.Run(t.Context(), loadgen.NewClient(4), seal(t, sealer, w2), sealer, loadgen.Options{Concurrency: 4})
	if res.OK != 17 {
		t.Fatalf("second run: %+v", res)
	}
	if c, err := loadgen.Verify(t.Context(), loadgen.LedgerStore{Ledger: l}, w); err != nil || !c.OK() {
		t.Errorf("after a second run: check %+v, %v", c, err)
	}
	if tot := in.Totals(); tot.Stored != 50 || tot.Duplicates != 50 {
		t.Errorf("ingest totals %+v, want 50 stored and 50 duplicates", tot)
	}
}

func seal(t *testing.T, s *loadgen.Sealer, w loadgen.Workload) []loadgen.Sealed {
	t.Helper()
	var out []loadgen.Sealed
	for _, d := range w.Deliveries {
		r, err := s.Seal(d, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestErrorsAreCountedByKind answers some requests with 503 and some with
// a reply that does not verify.
func TestErrorsAreCountedByKind(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 0:
			http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
		case 1:
			w.Write([]byte(`{"msg_signature":"x","encrypt":"bm90IGl0","timeStamp":"1","nonce":"n"}`))
		default:
			w.Write([]byte(`not json`))
		}
	}))
	defer srv.Close()
	comp := company(loadgen.DingTalk, 3, 3).DingTalkCompany()
	w, err := loadgen.DingTalkWorkload(comp, 9, 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := loadgen.NewSealer(loadgen.DingTalk, srv.URL, loadgen.Keys{Token: token, AESKey: aesKey, ReceiverID: "bench-app"})
	if err != nil {
		t.Fatal(err)
	}
	res := loadgen.Run(t.Context(), loadgen.NewClient(2), seal(t, sealer, w), sealer, loadgen.Options{Concurrency: 2})
	if res.OK != 0 || res.Errors["http_503"] != 3 || res.Errors["bad_reply"] != 6 {
		t.Errorf("errors %v (ok %d), want 3 http_503 and 6 bad_reply", res.Errors, res.OK)
	}
	if res.FirstErrors["http_503"] != "ledger unavailable" {
		t.Errorf("first http_503 message %q", res.FirstErrors["http_503"])
	}
}

// TestWeComDeliveriesAreAccepted sends sys_approval_change callbacks to a
// real WeCom receiver: it acknowledges each one (the details it then reads
// from the platform are not this test's business).
func TestWeComDeliveriesAreAccepted(t *testing.T) {
	comp := company(loadgen.WeCom, 20, 10).WeComCompany()
	conn, err := wecom.NewConnector("wecom-bench", wecom.Config{
		CorpID: comp.CorpID, CheckinSecret: "c", ContactsSecret: "c", ApprovalSecret: "a",
		CallbackToken: token, CallbackAESKey: aesKey, BaseURL: "http://127.0.0.1:1",
	}, connectors.Deps{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	srv := httptest.NewServer(conn.Handler(func(context.Context, []mapping.Event) error { got.Add(1); return nil }))
	defer srv.Close()
	w, err := loadgen.WeComWorkload(comp, 5, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := loadgen.NewSealer(loadgen.WeCom, srv.URL, loadgen.Keys{Token: token, AESKey: aesKey, ReceiverID: comp.CorpID})
	if err != nil {
		t.Fatal(err)
	}
	res := loadgen.Run(t.Context(), loadgen.NewClient(2), seal(t, sealer, w), sealer, loadgen.Options{Concurrency: 2})
	if res.OK != 5 || len(res.Errors) != 0 {
		t.Errorf("result %+v, want 5 acknowledged", res)
	}
}

// TestRateSpacesRequests checks that a rate spreads the sends: 20 events
// at 2000 events/s take at least 9.5 ms.
func TestRateSpacesRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	reqs := make([]loadgen.Sealed, 20)
	for i := range reqs {
		reqs[i] = loadgen.Sealed{Method: http.MethodPost, URL: srv.URL, Events: 1, Header: http.Header{}}
	}
	sealer, err := loadgen.NewSealer(loadgen.WeCom, srv.URL, loadgen.Keys{Token: token, AESKey: aesKey, ReceiverID: "ww1"})
	if err != nil {
		t.Fatal(err)
	}
	res := loadgen.Run(t.Context(), loadgen.NewClient(4), reqs, sealer, loadgen.Options{Concurrency: 4, Rate: 2000})
	if res.OK != 20 || res.Elapsed < 9500*time.Microsecond {
		t.Errorf("%d ok in %s, want 20 in at least 9.5ms", res.OK, res.Elapsed)
	}
}

// TestDingTalkWorkloadInTimeOrder checks that the pushes carry the
// earliest punches of the company, in time order, with a morning's users
// interleaved rather than one user's punches after another's; and that
// each push's body holds the punches its Expected entries name.
func TestDingTalkWorkloadInTimeOrder(t *testing.T) {
	comp := company(loadgen.DingTalk, 30, 5).DingTalkCompany()
	all, err := loadgen.DingTalkWorkload(comp, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(all.Expected); i++ {
		if all.Expected[i].Time.Before(all.Expected[i-1].Time) {
			t.Fatalf("punch %d (%s) before punch %d (%s)", i, all.Expected[i].Time, i-1, all.Expected[i-1].Time)
		}
	}
	// The generated company lists each user's day together: in time
	// order, the first punches of the morning are of many users.
	users := map[string]bool{}
	for _, e := range all.Expected[:30] {
		users[e.Employee] = true
	}
	if len(users) < 10 {
		t.Errorf("the first 30 punches are of %d employees, want the morning's users interleaved", len(users))
	}
	first, err := loadgen.DingTalkWorkload(comp, 40, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Expected) != 40 || len(first.Deliveries) != 10 {
		t.Fatalf("%d punches in %d pushes, want 40 in 10", len(first.Expected), len(first.Deliveries))
	}
	for i, e := range first.Expected {
		if e != all.Expected[i] {
			t.Fatalf("punch %d of 40 is %+v, want the %dth earliest, %+v", i, e, i, all.Expected[i])
		}
		// The punch's user and instant are in its push's body.
		user, ms, _ := strings.Cut(strings.TrimPrefix(e.ID, "dingtalk/"+comp.CorpID+"/punch/"), "-")
		body := string(first.Deliveries[i/4].Plain)
		if !strings.Contains(body, `"userId":"`+user+`"`) || !strings.Contains(body, `"checkTime":`+ms) {
			t.Errorf("push %d does not hold punch %s: %s", i/4, e.ID, body)
		}
	}
}
