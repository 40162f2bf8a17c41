package dingtalk

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/mapping"
)

func TestWebhookAnswersCheckURLWithEitherParameterSpelling(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, withCallback)
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	for _, legacy := range []bool{false, true} {
		cfg := e.pushConfig()
		cfg.Legacy = legacy
		res, err := dt.Push(context.Background(), nil, url, cfg, []byte(`{"EventType":"check_url"}`))
		if err != nil {
			t.Fatalf("legacy %v: %v (%+v)", legacy, err, res)
		}
		if res.Reply != "success" || len(res.Checks) != 5 {
			t.Errorf("legacy %v: reply %q, checks %v", legacy, res.Reply, res.Checks)
		}
	}
	if st := e.conn.CallbackStats(); st["check_url"] != 2 || st["accepted"] != 2 {
		t.Errorf("stats = %v", st)
	}
	if rec.calls() != 0 {
		t.Error("check_url stored something")
	}
}

func TestWebhookOwnerKeyIsTheCorpIDForOrgSubscriptions(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, func(c *Config) { withCallback(c); c.OwnerKey = c.CorpID })
	url := e.hookServer(t, newRecorder().emit)
	if _, err := e.push(t, url, dt.CheckURLEvent()); err != nil {
		t.Fatal(err)
	}
	cfg := e.pushConfig()
	cfg.OwnerKey = e.conn.cfg.AppKey
	if _, err := dt.Push(context.Background(), nil, url, cfg, []byte(`{"EventType":"check_url"}`)); !errors.Is(err, dt.ErrReplyStatus) {
		t.Fatalf("app key as owner key of an org subscription: %v, want refused", err)
	}
}

func TestWebhookStoresPunchesBeforeAnswering(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withCallback)
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	recs := c.Records[:3]
	if _, err := e.push(t, url, dt.CheckRecordEvent(c.CorpID, "evt-1", recs...)); err != nil {
		t.Fatal(err)
	}
	evs := rec.events()
	if rec.calls() != 1 || len(evs) != 3 {
		t.Fatalf("ingest calls %d with %d events, want 1 with 3", rec.calls(), len(evs))
	}
	for i, ev := range evs {
		r := recs[i]
		if ev.ID != PunchID(c.CorpID, r.UserID, r.CheckTime.UnixMilli()) || ev.Via != mapping.ViaWebhook || !ev.Time.Equal(r.CheckTime) {
			t.Errorf("event %d = %s via %s at %s", i, ev.ID, ev.Via, ev.Time)
		}
		if ev.Punch.Direction != mapping.DirUnknown {
			t.Errorf("event %d: direction %s; the push carries no check type", i, ev.Punch.Direction)
		}
		if err := mapping.Validate(ev); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	if got := e.conn.QueueLen(); got != 3 {
		t.Errorf("queued follow-ups = %d, want one per punch", got)
	}
}

func TestWebhookRoutesEvents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event map[string]any
		jobs  int
		stat  string
	}{
		{"instance change of a configured process", map[string]any{"EventType": "bpms_instance_change", "processInstanceId": "i1", "processCode": dt.ProcLeave, "type": "finish", "result": "agree"}, 1, "event:bpms_instance_change"},
		{"task change", map[string]any{"EventType": "bpms_task_change", "processInstanceId": "i1", "processCode": dt.ProcMakeup, "type": "finish"}, 1, "event:bpms_task_change"},
		{"attendance approval status", map[string]any{"EventType": "attendance_approve_status_change", "processInstanceId": "i1", "processCode": dt.ProcLeave, "approveType": "LEAVE", "status": "start"}, 1, "event:attendance_approve_status_change"},
		{"another template", map[string]any{"EventType": "bpms_instance_change", "processInstanceId": "i2", "processCode": "PROC-OTHER"}, 0, "ignored_process"},
		{"daily summary", map[string]any{"EventType": "attend_user_daily_summary_refresh", "userId": "user00001", "workDate": "2026-03-03"}, 1, "event:attend_user_daily_summary_refresh"},
		{"boss check", map[string]any{"EventType": "attend_bossCheck_change", "userId": "user00001", "workDate": "2026-03-03 00:00:00", "action": "attend_bossCheck_update"}, 1, "event:attend_bossCheck_change"},
		{"schedule change", map[string]any{"EventType": "attendance_schedule_change", "userIds": []string{"user00001", "user00002"}, "workDateBegin": "2026-03-03", "workDateEnd": "2026-03-05", "type": "modify"}, 1, "event:attendance_schedule_change"},
		{"unknown event", map[string]any{"EventType": "user_add_org", "UserId": []string{"u1"}}, 0, "unknown_event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, smallCompany(), nil, func(c *Config) { withCallback(c); approvalsConfig(c) })
			rec := newRecorder()
			url := e.hookServer(t, rec.emit)
			if _, err := e.push(t, url, tc.event); err != nil {
				t.Fatal(err)
			}
			if got := e.conn.QueueLen(); got != tc.jobs {
				t.Errorf("queued = %d, want %d", got, tc.jobs)
			}
			if st := e.conn.CallbackStats(); st[tc.stat] != 1 || st["accepted"] != 1 {
				t.Errorf("stats = %v, want %s counted", st, tc.stat)
			}
			if rec.calls() != 0 {
				t.Errorf("ingest called %d times", rec.calls())
			}
		})
	}
}

// TestWebhookBadInput is the rejection matrix: each bad delivery is
// refused (or, for a replay, acknowledged again), nothing is stored, and
// each is counted under its reason.
func TestWebhookBadInput(t *testing.T) {
	c := smallCompany()
	punch := dt.CheckRecordEvent(c.CorpID, "evt-bad", c.Records[0])
	for _, tc := range []struct {
		name   string
		sealed func(e *env) msgcrypt.Sealed
		status int
		reason string
	}{
		{"bad signature", func(e *env) msgcrypt.Sealed {
			s := e.seal(t, punch)
			s.Signature = strings.Repeat("0", 40)
			return s
		}, http.StatusForbidden, "signature"},
		{"signature of another token", func(e *env) msgcrypt.Sealed {
			s := e.seal(t, punch)
			s.Nonce += "x"
			return s
		}, http.StatusForbidden, "signature"},
		{"wrong owner key", func(e *env) msgcrypt.Sealed {
			return sealFor(t, "dingsomeotherapp", e.clock.Now(), punch)
		}, http.StatusForbidden, "owner_key"},
		{"truncated ciphertext", func(e *env) msgcrypt.Sealed {
			s := e.seal(t, punch)
			raw, _ := base64.StdEncoding.DecodeString(s.Encrypt)
			return resign(t, s, base64.StdEncoding.EncodeToString(raw[:len(raw)-5]))
		}, http.StatusBadRequest, "ciphertext"},
		{"ciphertext cut at a block", func(e *env) msgcrypt.Sealed {
			s := e.seal(t, punch)
			raw, _ := base64.StdEncoding.DecodeString(s.Encrypt)
			return resign(t, s, base64.StdEncoding.EncodeToString(raw[:len(raw)-16]))
		}, http.StatusBadRequest, "padding"},
		{"bad padding", func(e *env) msgcrypt.Sealed {
			return badPadding(t, e.conn.cfg.OwnerKey, e.clock.Now(), []byte(`{"EventType":"check_url"}`), 33)
		}, http.StatusBadRequest, "padding"},
		{"stale timestamp", func(e *env) msgcrypt.Sealed {
			return sealFor(t, e.conn.cfg.OwnerKey, e.clock.Now().Add(-11*time.Minute), punch)
		}, http.StatusForbidden, "stale"},
		{"timestamp from the future", func(e *env) msgcrypt.Sealed {
			return sealFor(t, e.conn.cfg.OwnerKey, e.clock.Now().Add(11*time.Minute), punch)
		}, http.StatusForbidden, "stale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, c, nil, withCallback)
			rec := newRecorder()
			url := e.hookServer(t, rec.emit)
			res, err := dt.PushSealed(context.Background(), nil, url, e.pushConfig(), tc.sealed(e))
			if !errors.Is(err, dt.ErrReplyStatus) || res.Status != tc.status {
				t.Fatalf("status %d (%v), want %d", res.Status, err, tc.status)
			}
			if rec.calls() != 0 || e.conn.QueueLen() != 0 {
				t.Errorf("stored %d batches, queued %d", rec.calls(), e.conn.QueueLen())
			}
			if st := e.conn.CallbackStats(); st["rejected:"+tc.reason] != 1 || st["accepted"] != 0 {
				t.Errorf("stats = %v, want rejected:%s once", st, tc.reason)
			}
		})
	}

	t.Run("replayed nonce", func(t *testing.T) {
		e := newEnv(t, c, nil, withCallback)
		rec := newRecorder()
		url := e.hookServer(t, rec.emit)
		s := e.seal(t, punch)
		if _, err := dt.PushSealed(context.Background(), nil, url, e.pushConfig(), s); err != nil {
			t.Fatal(err)
		}
		// The same delivery again, a minute later: acknowledged (it was
		// accepted once), not stored again.
		e.clock.Set(e.clock.Now().Add(time.Minute))
		if _, err := dt.PushSealed(context.Background(), nil, url, e.pushConfig(), s); err != nil {
			t.Fatalf("replay: %v, want the success reply", err)
		}
		if rec.calls() != 1 || e.conn.QueueLen() != 1 {
			t.Errorf("stored %d batches, queued %d; want the first delivery only", rec.calls(), e.conn.QueueLen())
		}
		if st := e.conn.CallbackStats(); st["rejected:replay"] != 1 || st["accepted"] != 1 {
			t.Errorf("stats = %v", st)
		}
	})
}

func TestWebhookAsksForARetryWhenNothingCouldBeStored(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withCallback)
	rec := newRecorder()
	rec.setFail(errLedgerDown)
	url := e.hookServer(t, rec.emit)
	s := e.seal(t, dt.CheckRecordEvent(c.CorpID, "evt-retry", c.Records[0]))
	res, err := dt.PushSealed(context.Background(), nil, url, e.pushConfig(), s)
	if !errors.Is(err, dt.ErrReplyStatus) || res.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%v), want 503", res.Status, err)
	}
	if e.conn.QueueLen() != 0 {
		t.Error("follow-up queued for a punch that was not stored")
	}
	// The platform retries the very same request: its nonce was released.
	rec.setFail(nil)
	if _, err := dt.PushSealed(context.Background(), nil, url, e.pushConfig(), s); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(rec.events()) != 1 {
		t.Errorf("stored %d events after the retry, want 1", len(rec.events()))
	}
	if st := e.conn.CallbackStats(); st["ingest_failed"] != 1 || st["accepted"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

func TestWebhookFullQueueAsksForARetry(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, func(cfg *Config) { withCallback(cfg); cfg.QueueSize = 2 })
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	if _, err := e.push(t, url, dt.CheckRecordEvent(c.CorpID, "e1", c.Records[:2]...)); err != nil {
		t.Fatal(err)
	}
	res, err := e.push(t, url, dt.CheckRecordEvent(c.CorpID, "e2", c.Records[2]))
	if !errors.Is(err, dt.ErrReplyStatus) || res.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%v), want 503 with the queue full", res.Status, err)
	}
	if st := e.conn.CallbackStats(); st["queue_full"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

func TestWebhookWithoutSettingsIsNotFound(t *testing.T) {
	e := newEnv(t, smallCompany(), nil, nil)
	url := e.hookServer(t, newRecorder().emit)
	res, err := e.push(t, url, dt.CheckURLEvent())
	if !errors.Is(err, dt.ErrReplyStatus) || res.Status != http.StatusNotFound {
		t.Fatalf("status %d (%v), want 404", res.Status, err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d, want 405", resp.StatusCode)
	}
}

func TestWebhookIgnoresOtherCorps(t *testing.T) {
	c := smallCompany()
	e := newEnv(t, c, nil, withCallback)
	rec := newRecorder()
	url := e.hookServer(t, rec.emit)
	if _, err := e.push(t, url, dt.CheckRecordEvent("dingsomeoneelse", "e1", c.Records[0])); err != nil {
		t.Fatal(err)
	}
	if rec.calls() != 0 || e.conn.CallbackStats()["other_corp"] != 1 {
		t.Errorf("a punch of another corp: %d stored, stats %v", rec.calls(), e.conn.CallbackStats())
	}
}
