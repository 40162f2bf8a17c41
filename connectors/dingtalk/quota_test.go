package dingtalk

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
)

func TestMonthlyQuotaFailsAtOnceNamingTheQuota(t *testing.T) {
	for _, api := range []string{dt.APIListSubDept, dt.APIInstanceIDs} {
		e := newEnv(t, smallCompany(), nil, approvalsConfig)
		e.srv.FailNext(api, dt.CodeMonthlyQuota, 5)
		var err error
		if api == dt.APIListSubDept {
			_, err = e.conn.departments(context.Background())
		} else {
			_, err = e.conn.instanceIDs(context.Background(), dt.ProcLeave, monday, monday.AddDate(0, 0, 7))
		}
		if !errors.Is(err, ErrQuota) || !errors.Is(err, connectors.ErrPermanent) {
			t.Fatalf("%s: err = %v, want ErrQuota", api, err)
		}
		if !strings.Contains(err.Error(), "monthly API call quota") {
			t.Errorf("%s: error %q does not name the monthly quota", api, err)
		}
		if got := e.srv.Calls(api); got != 1 {
			t.Errorf("%s: calls = %d, want 1 (no retry of a used-up quota)", api, got)
		}
		if n, _ := e.sleeps.total(); n != 0 {
			t.Errorf("%s: %d waits before failing", api, n)
		}
	}
}

func TestQPSAnswersWaitAndRetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(*dt.Server)
		call func(*Connector) error
	}{
		{"oapi 90018", func(s *dt.Server) { s.FailNext(dt.APIListSubDept, dt.CodeAppQPS, 3) }, departmentsCall},
		{"oapi 90002", func(s *dt.Server) { s.FailNext(dt.APIListSubDept, dt.CodeGlobalQPS, 3) }, departmentsCall},
		{"v1.0 QpsLimitForAppkeyAndApi", func(s *dt.Server) { s.FailNext(dt.APIInstanceIDs, dt.CodeAppQPS, 3) }, instanceIDsCall},
		{"v1.0 QpsLimitForApi", func(s *dt.Server) {
			s.FailNextV1(dt.APIInstanceIDs, http.StatusForbidden, "Forbidden.AccessDenied.QpsLimitForApi", 3)
		}, instanceIDsCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, smallCompany(), nil, func(c *Config) { approvalsConfig(c); c.RetryWait = time.Second })
			tc.fail(e.srv)
			if err := tc.call(e.conn); err != nil {
				t.Fatal(err)
			}
			if n, sum := e.sleeps.total(); n != 3 || sum != 3*time.Second {
				t.Errorf("waits = %d totalling %s, want 3 of 1s (the platform's QPS window)", n, sum)
			}
		})
	}
}

func TestBusyRetriesAtMostThreeTimesWithBackoff(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, func(c *Config) { c.RetryWait = time.Second })
	e.srv.FailNext(dt.APIListSubDept, dt.CodeBusy, 10)
	_, err := e.conn.departments(context.Background())
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if got := e.srv.Calls(dt.APIListSubDept); got != 4 {
		t.Errorf("calls = %d, want 4 (3 retries)", got)
	}
	if n, sum := e.sleeps.total(); n != 3 || sum != 7*time.Second {
		t.Errorf("waits = %d totalling %s, want 1s, 2s, 4s", n, sum)
	}
}

func TestIPBlockWaitsFiveMinutes(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	if _, err := e.conn.departments(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.srv.BlockIP(1)
	before := e.srv.Calls(dt.APIListSubDept)
	if _, err := e.conn.departments(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, sum := e.sleeps.total(); n != 1 || sum != 5*time.Minute {
		t.Errorf("waits = %d totalling %s, want one of 5m", n, sum)
	}
	if got := e.conn.Stats().Codes[apiListSubDept]["1111"]; got != 1 {
		t.Errorf("stats of 1111 = %d, want 1", got)
	}
	if got := e.srv.Calls(dt.APIListSubDept) - before; got < 2 {
		t.Errorf("calls after the block = %d, want the blocked one and its retry", got)
	}

	e.srv.BlockIP(10)
	_, err := e.conn.departments(context.Background())
	if !errors.Is(err, ErrIPBlocked) || !strings.Contains(err.Error(), "1111") {
		t.Fatalf("err = %v, want ErrIPBlocked after %d waits", err, maxBlockWaits)
	}
}

func TestV1InvalidAuthenticationRefreshesOnce(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, approvalsConfig)
	if _, err := instanceIDs(e); err != nil {
		t.Fatal(err)
	}
	e.srv.FailNextV1(dt.APIInstanceIDs, http.StatusBadRequest, dt.V1InvalidAuth, 1)
	tokens := e.srv.Calls(dt.APIGetToken)
	if _, err := instanceIDs(e); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Calls(dt.APIGetToken) - tokens; got != 1 {
		t.Errorf("gettoken calls = %d, want 1 refresh", got)
	}
	e.srv.FailNextV1(dt.APIInstanceIDs, http.StatusBadRequest, dt.V1InvalidAuth, 2)
	if _, err := instanceIDs(e); !errors.Is(err, ErrTokenRejected) {
		t.Fatalf("err = %v, want ErrTokenRejected after one refresh", err)
	}
	// A revoked token is refused by the v1.0 APIs too, and replaced.
	e.srv.RevokeTokens()
	if _, err := instanceIDs(e); err != nil {
		t.Fatal(err)
	}
	st := e.conn.Stats()
	if st.Codes[apiInstanceIDs][dt.V1InvalidAuth] != 4 || st.Codes[apiInstanceIDs]["0"] == 0 {
		t.Errorf("stats = %v, want 4 InvalidAuthentication answers counted", st.Codes[apiInstanceIDs])
	}
}

func TestClientSideLimiterPacesEachAPI(t *testing.T) {
	l := newLimiters(50)
	ctx := context.Background()
	start := time.Now()
	for range 6 {
		if err := l.wait(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	// Five gaps of 21 ms at 50 QPS with the 5% margin; another API has
	// its own budget and does not wait.
	if got := time.Since(start); got < 100*time.Millisecond {
		t.Errorf("6 calls at 50 QPS took %s, want at least 100ms", got)
	}
	start = time.Now()
	if err := l.wait(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := time.Since(start); got > 15*time.Millisecond {
		t.Errorf("the first call of another API waited %s", got)
	}
}

func TestStatsCountEveryAPIAndCode(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, approvalsConfig)
	e.srv.FailNext(dt.APIListSubDept, dt.CodeBusy, 1)
	e.srv.FailNext(dt.APIListSubDept, dt.CodeAppQPS, 1)
	e.srv.FailNext(dt.APIInstanceIDs, dt.CodeAppQPS, 1)
	if err := departmentsCall(e.conn); err != nil {
		t.Fatal(err)
	}
	if err := instanceIDsCall(e.conn); err != nil {
		t.Fatal(err)
	}
	st := e.conn.Stats()
	want := map[string]map[string]int{
		apiListSubDept: {"-1": 1, "90018": 1, "0": st.Calls[apiListSubDept] - 2},
		apiInstanceIDs: {dt.V1QPSLimit: 1, "0": 1},
		apiGetToken:    {"0": 1},
	}
	for api, codes := range want {
		for code, n := range codes {
			if st.Codes[api][code] != n {
				t.Errorf("stats[%s][%s] = %d, want %d (%v)", api, code, st.Codes[api][code], n, st.Codes)
			}
		}
	}
}

func departmentsCall(c *Connector) error {
	_, err := c.departments(context.Background())
	return err
}

func instanceIDsCall(c *Connector) error {
	_, err := c.instanceIDs(context.Background(), dt.ProcLeave, monday, monday.AddDate(0, 0, 7))
	return err
}

func instanceIDs(e *env) ([]string, error) {
	return e.conn.instanceIDs(context.Background(), dt.ProcLeave, monday, monday.AddDate(0, 0, 7))
}

// approvalsConfig configures the process codes of the generated company.
func approvalsConfig(c *Config) {
	c.Approvals = ApprovalCodes{
		Leave: []string{dt.ProcLeave}, Overtime: []string{dt.ProcOvertime}, Trip: []string{dt.ProcTrip},
		Out: []string{dt.ProcOut}, Makeup: []string{dt.ProcMakeup},
	}
}
