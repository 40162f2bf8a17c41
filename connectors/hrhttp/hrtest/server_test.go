package hrtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/mapping"
)

func dayJSON(t *testing.T, employee string, version int) string {
	t.Helper()
	b, err := json.Marshal(mapping.DayRecord{
		EmployeeID: employee, Date: "2026-11-20", Shift: "standard",
		Status: mapping.DayPresent, Version: version,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type reply struct {
	status     int
	body       string
	retryAfter string
}

// post sends one request to the fake and returns its answer.
func post(t *testing.T, srv *hrtest.Server, method, url, contentType, key, auth, body string) reply {
	t.Helper()
	r, err := send(t, srv, method, url, contentType, key, auth, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send is post for goroutines other than the test's.
func send(t *testing.T, srv *hrtest.Server, method, url, contentType, key, auth, body string) (reply, error) {
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, body: string(bytes.TrimSpace(b)), retryAfter: resp.Header.Get("Retry-After")}, nil
}

func TestServerValidatesRequests(t *testing.T) {
	const ct = "application/json"
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		key         string
		body        string
		wantStatus  int
		wantBody    string // substring
		wantOutcome string
	}{
		{"applied", "POST", hrtest.Path, ct, "k1", "", http.StatusCreated, `"status":"applied"`, "applied"},
		{"charset parameter accepted", "POST", hrtest.Path, ct + "; charset=utf-8", "k1", "", http.StatusCreated, "applied", "applied"},
		{"wrong path", "POST", "/other", ct, "k1", "", http.StatusNotFound, "day records go to " + hrtest.Path, "invalid"},
		{"wrong method", "PUT", hrtest.Path, ct, "k1", "", http.StatusMethodNotAllowed, "use POST", "invalid"},
		{"not json", "POST", hrtest.Path, "text/plain", "k1", "", http.StatusUnsupportedMediaType, "application/json", "invalid"},
		{"no idempotency key", "POST", hrtest.Path, ct, "", "", http.StatusBadRequest, "Idempotency-Key", "invalid"},
		{"malformed body", "POST", hrtest.Path, ct, "k1", `{"employee_id":`, http.StatusBadRequest, "not a day record", "invalid"},
		{"unknown field", "POST", hrtest.Path, ct, "k1", `{"schema":"punchbridge.day/v1","employee":"E1"}`, http.StatusBadRequest, "unknown field", "invalid"},
		{"no employee", "POST", hrtest.Path, ct, "k1", "EMPTY_EMPLOYEE", http.StatusUnprocessableEntity, "employee_id is required", "invalid"},
		{"version 0", "POST", hrtest.Path, ct, "k1", "VERSION_0", http.StatusUnprocessableEntity, "version 0", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			body := tt.body
			switch body {
			case "":
				body = dayJSON(t, "E1", 1)
			case "EMPTY_EMPLOYEE":
				body = dayJSON(t, "", 1)
			case "VERSION_0":
				body = dayJSON(t, "E1", 0)
			}
			base := strings.TrimSuffix(srv.URL(), hrtest.Path)
			got := post(t, srv, tt.method, base+tt.path, tt.contentType, tt.key, "", body)
			if got.status != tt.wantStatus || !strings.Contains(got.body, tt.wantBody) {
				t.Fatalf("answer = %d %s, want %d containing %q", got.status, got.body, tt.wantStatus, tt.wantBody)
			}
			recv := srv.Received()
			if len(recv) != 1 || recv[0].Outcome != tt.wantOutcome || recv[0].Status != tt.wantStatus {
				t.Fatalf("Received() = %+v, want one request with outcome %q", recv, tt.wantOutcome)
			}
			wantApplied := 0
			if tt.wantOutcome == "applied" {
				wantApplied = 1
				if recv[0].Record.EmployeeID != "E1" || recv[0].IdempotencyKey != "k1" {
					t.Errorf("recorded %+v, want E1 under key k1", recv[0])
				}
			}
			if srv.AppliedCount() != wantApplied {
				t.Errorf("AppliedCount() = %d, want %d", srv.AppliedCount(), wantApplied)
			}
		})
	}
}

func TestServerFailureInjection(t *testing.T) {
	type step struct {
		key        string
		wantStatus int
		wantRA     string
	}
	tests := []struct {
		name          string
		setup         func(*hrtest.Server)
		steps         []step
		wantApplied   int
		wantDuplicate int
	}{
		{
			name:  "fail first 2 with 503 per key",
			setup: func(s *hrtest.Server) { s.FailFirst(2, http.StatusServiceUnavailable) },
			steps: []step{
				{"a", 503, "0"}, {"b", 503, "0"}, {"a", 503, "0"}, {"a", 201, ""}, {"b", 503, "0"}, {"b", 201, ""}, {"a", 200, ""},
			},
			wantApplied: 2, wantDuplicate: 1,
		},
		{
			name:        "500 carries no Retry-After",
			setup:       func(s *hrtest.Server) { s.FailFirst(1, http.StatusInternalServerError) },
			steps:       []step{{"a", 500, ""}, {"a", 201, ""}},
			wantApplied: 1,
		},
		{
			name: "custom Retry-After on 429",
			setup: func(s *hrtest.Server) {
				s.FailFirst(1, http.StatusTooManyRequests)
				s.SetRetryAfter("7")
			},
			steps:       []step{{"a", 429, "7"}, {"a", 201, ""}},
			wantApplied: 1,
		},
		{
			name:        "apply then fail: the retry is a duplicate",
			setup:       func(s *hrtest.Server) { s.ApplyThenFailFirst(1, http.StatusBadGateway) },
			steps:       []step{{"a", 502, ""}, {"a", 200, ""}},
			wantApplied: 1, wantDuplicate: 1,
		},
		{
			name:        "fail always until healed",
			setup:       func(s *hrtest.Server) { s.FailAlways(http.StatusServiceUnavailable) },
			steps:       []step{{"a", 503, "0"}, {"a", 503, "0"}, {"HEAL", 0, ""}, {"a", 201, ""}},
			wantApplied: 1,
		},
		{
			name:        "token required",
			setup:       func(s *hrtest.Server) { s.RequireToken("tok") },
			steps:       []step{{"NOAUTH", 401, ""}, {"a", 201, ""}},
			wantApplied: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer()
			defer srv.Close()
			tt.setup(srv)
			for i, st := range tt.steps {
				if st.key == "HEAL" {
					srv.Heal()
					continue
				}
				key, auth := st.key, "Bearer tok"
				if key == "NOAUTH" {
					key, auth = "a", ""
				}
				got := post(t, srv, "POST", srv.URL(), "application/json", key, auth, dayJSON(t, "E-"+key, 1))
				if got.status != st.wantStatus || got.retryAfter != st.wantRA {
					t.Fatalf("step %d (%s): answer %d Retry-After %q, want %d %q", i, st.key, got.status, got.retryAfter, st.wantStatus, st.wantRA)
				}
			}
			if got := srv.AppliedCount(); got != tt.wantApplied {
				t.Errorf("AppliedCount() = %d, want %d", got, tt.wantApplied)
			}
			if got := srv.Duplicates(); got != tt.wantDuplicate {
				t.Errorf("Duplicates() = %d, want %d", got, tt.wantDuplicate)
			}
		})
	}
}

// TestServerConcurrentAttemptsApplyOnce races many attempts with one key:
// exactly one applies.
func TestServerConcurrentAttemptsApplyOnce(t *testing.T) {
	srv := hrtest.NewServer()
	defer srv.Close()
	body := dayJSON(t, "E1", 1)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := send(t, srv, "POST", srv.URL(), "application/json", "same", "", body)
			if err != nil || (r.status != http.StatusCreated && r.status != http.StatusOK) {
				t.Errorf("answer %d, %v; want 201 or 200", r.status, err)
			}
		})
	}
	wg.Wait()
	if srv.AppliedCount() != 1 || srv.Duplicates() != 19 || srv.Requests() != 20 || srv.Attempts("same") != 20 {
		t.Fatalf("applied %d, duplicates %d, requests %d, attempts %d; want 1, 19, 20, 20",
			srv.AppliedCount(), srv.Duplicates(), srv.Requests(), srv.Attempts("same"))
	}
	if got := srv.Applied(); len(got) != 1 || got[0].EmployeeID != "E1" {
		t.Fatalf("Applied() = %+v", got)
	}
	if got := srv.AppliedKeys(); len(got) != 1 || got[0] != "same" {
		t.Fatalf("AppliedKeys() = %v", got)
	}
}

// fullDay is a day record with most fields set, so that tests see what a
// mode keeps of it.
func fullDay(employee string, version int) mapping.DayRecord {
	in := time.Date(2026, 11, 20, 9, 2, 0, 0, time.UTC)
	out := in.Add(9 * time.Hour)
	return mapping.DayRecord{
		Schema: mapping.DaySchema, EmployeeID: employee, Date: "2026-11-20", Shift: "standard",
		Status: mapping.DayPresent, FirstIn: &in, LastOut: &out, WorkedMinutes: 540, Late: true, LateMinutes: 2,
		Missing: []string{}, Anomalies: []mapping.Anomaly{}, Events: []string{"dingtalk/punch/" + employee}, Version: version,
	}
}

// jsonOf is v as JSON: a record's body, or with a slice of records a
// batch's as an hrhttp sink sends it.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func arrayJSON(t *testing.T, recs ...mapping.DayRecord) string {
	t.Helper()
	return jsonOf(t, recs)
}

func employees(recs []mapping.DayRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.EmployeeID
	}
	return out
}

func TestServerBatches(t *testing.T) {
	const ct = "application/json"
	e1, e2, e3 := fullDay("E1", 1), fullDay("E2", 1), fullDay("E3", 1)
	batch := arrayJSON(t, e1, e2, e3)
	noEmployee := arrayJSON(t, e1, fullDay("", 1), e3)
	version0 := arrayJSON(t, e1, e2, fullDay("E3", 0))
	type call struct {
		key        string
		body       string
		wantStatus int
		wantBody   string // substring
	}
	tests := []struct {
		name        string
		opts        []hrtest.Option
		setup       func(*hrtest.Server)
		calls       []call
		wantApplied []string // employee ids, in order
		wantKeys    []string
		wantDup     int
	}{
		{
			name: "applied once, the retry with the same key a duplicate",
			calls: []call{
				{"b", batch, 201, `{"idempotency_key":"b","status":"applied"}`},
				{"b", batch, 200, `{"idempotency_key":"b","status":"duplicate"}`},
			},
			wantApplied: []string{"E1", "E2", "E3"}, wantKeys: []string{"b"}, wantDup: 1,
		},
		{
			name: "one bad record refuses the whole batch, naming its index",
			calls: []call{
				{"b", noEmployee, 422, "record 1: employee_id is required"},
				{"c", version0, 422, "record 2: version 0: must be 1 or more"},
				{"b", batch, 201, "applied"}, // the refusal did not use up the key
			},
			wantApplied: []string{"E1", "E2", "E3"}, wantKeys: []string{"b"},
		},
		{
			name: "empty array",
			calls: []call{
				{"b", "[]", 400, "empty batch"},
				{"b", " \n\t[ ]", 400, "empty batch"},
			},
		},
		{
			name:  "unknown field in a record",
			calls: []call{{"b", `[{"schema":"punchbridge.day/v1","employee":"E1"}]`, 400, `unknown field \"employee\"`}},
		},
		{
			name:  "not an array of records",
			calls: []call{{"b", `[1, 2]`, 400, "not an array of day records"}},
		},
		{
			name:  "fail first per batch key",
			setup: func(s *hrtest.Server) { s.FailFirst(1, http.StatusServiceUnavailable) },
			calls: []call{
				{"a", batch, 503, "injected"},
				{"b", arrayJSON(t, fullDay("E4", 1), fullDay("E5", 1)), 503, "injected"},
				{"a", batch, 201, "applied"},
				{"b", arrayJSON(t, fullDay("E4", 1), fullDay("E5", 1)), 201, "applied"},
				{"a", batch, 200, "duplicate"},
			},
			wantApplied: []string{"E1", "E2", "E3", "E4", "E5"}, wantKeys: []string{"a", "b"}, wantDup: 1,
		},
		{
			name:  "apply then fail: the retry is a duplicate",
			setup: func(s *hrtest.Server) { s.ApplyThenFailFirst(1, http.StatusBadGateway) },
			calls: []call{
				{"b", batch, 502, "injected"},
				{"b", batch, 200, "duplicate"},
			},
			wantApplied: []string{"E1", "E2", "E3"}, wantKeys: []string{"b"}, wantDup: 1,
		},
		{
			name:  "fail always applies nothing",
			setup: func(s *hrtest.Server) { s.FailAlways(http.StatusServiceUnavailable) },
			calls: []call{{"b", batch, 503, "injected"}},
		},
		{
			name: "single record then batch, in order",
			calls: []call{
				{"s", dayJSON(t, "E0", 1), 201, "applied"},
				{"b", batch, 201, "applied"},
			},
			wantApplied: []string{"E0", "E1", "E2", "E3"}, wantKeys: []string{"s", "b"},
		},
		{
			name:        "JSON bodies mode counts the batch as one body",
			opts:        []hrtest.Option{hrtest.WithJSONBodies()},
			calls:       []call{{"b", batch, 201, "applied"}},
			wantApplied: []string{""}, wantKeys: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer(tt.opts...)
			defer srv.Close()
			if tt.setup != nil {
				tt.setup(srv)
			}
			for i, c := range tt.calls {
				got := post(t, srv, "POST", srv.URL(), ct, c.key, "", c.body)
				if got.status != c.wantStatus || !strings.Contains(got.body, c.wantBody) {
					t.Fatalf("call %d: answer %d %s, want %d containing %q", i, got.status, got.body, c.wantStatus, c.wantBody)
				}
			}
			if got := employees(srv.Applied()); !slices.Equal(got, tt.wantApplied) {
				t.Errorf("Applied() employees = %q, want %q", got, tt.wantApplied)
			}
			if got := srv.AppliedCount(); got != len(tt.wantApplied) {
				t.Errorf("AppliedCount() = %d, want %d", got, len(tt.wantApplied))
			}
			if got := srv.AppliedKeys(); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("AppliedKeys() = %q, want %q", got, tt.wantKeys)
			}
			if got := srv.AppliedBodies(); len(got) != len(tt.wantKeys) {
				t.Errorf("AppliedBodies() has %d bodies, want one per applied key %q", len(got), tt.wantKeys)
			}
			if got := srv.Duplicates(); got != tt.wantDup {
				t.Errorf("Duplicates() = %d, want %d", got, tt.wantDup)
			}
			if got := srv.Requests(); got != len(tt.calls) {
				t.Errorf("Requests() = %d, want %d", got, len(tt.calls))
			}
		})
	}
}

// TestServerBatchRequestLog: a batch is logged with its records in
// Records, Record zero, and Received hands out copies.
func TestServerBatchRequestLog(t *testing.T) {
	srv := hrtest.NewServer()
	defer srv.Close()
	want := []mapping.DayRecord{fullDay("E1", 1), fullDay("E2", 2)}
	post(t, srv, "POST", srv.URL(), "application/json", "b", "", arrayJSON(t, want...))
	recv := srv.Received()
	if len(recv) != 1 || !reflect.DeepEqual(recv[0].Records, want) || !reflect.DeepEqual(recv[0].Record, mapping.DayRecord{}) {
		t.Fatalf("Received() = %+v, want one request with Records %+v and Record zero", recv, want)
	}
	recv[0].Records[0].EmployeeID = "changed"
	if got := srv.Received()[0].Records[0].EmployeeID; got != "E1" {
		t.Fatalf("changing Received()'s copy changed the log: %q", got)
	}
	if got := srv.Applied(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Applied() = %+v, want %+v", got, want)
	}
}

func TestServerDayKeysOnly(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithDayKeysOnly())
	defer srv.Close()
	srv.FailFirst(1, http.StatusServiceUnavailable)
	single := fullDay("E0", 1)
	batch := []mapping.DayRecord{fullDay("E1", 1), fullDay("E2", 2), fullDay("E3", 1)}
	batch[1].Shift = "night"
	calls := []struct {
		key, body  string
		wantStatus int
	}{
		{"s", jsonOf(t, single), 503},
		{"s", jsonOf(t, single), 201},
		{"b", arrayJSON(t, batch...), 503},
		{"b", arrayJSON(t, batch...), 201},
		{"b", arrayJSON(t, batch...), 200},
		{"bad", arrayJSON(t, fullDay("", 1)), 422},
	}
	for i, c := range calls {
		if got := post(t, srv, "POST", srv.URL(), "application/json", c.key, "", c.body); got.status != c.wantStatus {
			t.Fatalf("call %d: answer %d %s, want %d", i, got.status, got.body, c.wantStatus)
		}
	}
	var want []mapping.DayRecord
	for _, d := range append([]mapping.DayRecord{single}, batch...) {
		want = append(want, mapping.DayRecord{EmployeeID: d.EmployeeID, Date: d.Date, Shift: d.Shift, Version: d.Version})
	}
	if got := srv.Applied(); !reflect.DeepEqual(got, want) {
		t.Errorf("Applied() = %+v, want only the day keys %+v", got, want)
	}
	if got := srv.AppliedCount(); got != 4 {
		t.Errorf("AppliedCount() = %d, want 4", got)
	}
	if got := srv.AppliedKeys(); !slices.Equal(got, []string{"s", "b"}) {
		t.Errorf("AppliedKeys() = %q, want [s b]", got)
	}
	if got := srv.Received(); got != nil {
		t.Errorf("Received() = %+v, want nil: the lean mode keeps no log", got)
	}
	if got := srv.AppliedBodies(); got != nil {
		t.Errorf("AppliedBodies() = %q, want nil: the lean mode keeps no bodies", got)
	}
	if srv.Requests() != len(calls) || srv.Duplicates() != 1 || srv.Attempts("b") != 3 {
		t.Errorf("requests %d, duplicates %d, attempts of b %d; want %d, 1, 3", srv.Requests(), srv.Duplicates(), srv.Attempts("b"), len(calls))
	}
}

// TestServerDayKeysOnlyIsLean bounds what the lean mode holds per applied
// record, the point of the mode: the default mode holds about a kilobyte.
func TestServerDayKeysOnlyIsLean(t *testing.T) {
	const people, days, perRequest = 500, 20, 100
	srv := hrtest.NewServer(hrtest.WithDayKeysOnly())
	defer srv.Close()
	var recs []mapping.DayRecord
	for e := range people {
		for d := range days {
			r := fullDay(fmt.Sprintf("E%05d", e), 1)
			r.Date = fmt.Sprintf("2026-10-%02d", d+1)
			recs = append(recs, r)
		}
	}
	push := func(from, to int) {
		for i := from; i < to; i += perRequest {
			key := fmt.Sprintf("batch-%d", i)
			if got := post(t, srv, "POST", srv.URL(), "application/json", key, "", arrayJSON(t, recs[i:i+perRequest]...)); got.status != http.StatusCreated {
				t.Fatalf("batch %s: answer %d %s", key, got.status, got.body)
			}
		}
	}
	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	push(0, perRequest) // the connection and its buffers are not per record
	before := heap()
	push(perRequest, len(recs))
	grown := heap() - before
	runtime.KeepAlive(recs)
	n := int64(len(recs) - perRequest)
	if srv.AppliedCount() != len(recs) {
		t.Fatalf("AppliedCount() = %d, want %d", srv.AppliedCount(), len(recs))
	}
	if perRecord := grown / n; perRecord > 128 {
		t.Fatalf("the lean mode holds %d bytes per applied record (%d bytes for %d), want at most 128", perRecord, grown, n)
	}
}

// TestServerThroughSink drives the server with a real hrhttp sink that
// batches 3 records per request.
func TestServerThroughSink(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []hrtest.Option
	}{{"default", nil}, {"day keys only", []hrtest.Option{hrtest.WithDayKeysOnly()}}} {
		t.Run(mode.name, func(t *testing.T) {
			srv := hrtest.NewServer(mode.opts...)
			defer srv.Close()
			srv.FailFirst(1, http.StatusServiceUnavailable)
			cfg := hrhttp.DefaultConfig()
			cfg.URL = srv.URL()
			cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, 5*time.Millisecond
			cfg.Batch.Size = 3
			sink, err := hrhttp.NewSink("payroll", cfg, connectors.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			var ds []connectors.Delivery
			var want []string
			for i := range 7 {
				rec := fullDay(fmt.Sprintf("E%d", i), 1)
				ds = append(ds, connectors.Delivery{Record: rec, IdempotencyKey: connectors.IdempotencyKey("payroll", rec)})
				want = append(want, rec.EmployeeID)
			}
			for round := range 2 {
				for i, err := range sink.DeliverBatch(t.Context(), ds) {
					if err != nil {
						t.Fatalf("round %d, delivery %d: %v", round, i, err)
					}
				}
			}
			if got := employees(srv.Applied()); !slices.Equal(got, want) || srv.AppliedCount() != 7 {
				t.Errorf("Applied() employees = %q (count %d), want %q", got, srv.AppliedCount(), want)
			}
			keys := srv.AppliedKeys()
			if len(keys) != 3 || !strings.HasPrefix(keys[0], "payroll:batch:") || !strings.HasPrefix(keys[1], "payroll:batch:") || keys[2] != ds[6].IdempotencyKey {
				t.Errorf("AppliedKeys() = %q, want two batch keys and the last record's own", keys)
			}
			// Round 1: 3 requests each failed once; round 2: 3 duplicates.
			if srv.Requests() != 9 || srv.Duplicates() != 3 {
				t.Errorf("requests %d, duplicates %d; want 9, 3", srv.Requests(), srv.Duplicates())
			}
		})
	}
}
