package hrhttp_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// mapped returns a sink with the mapping in src, pointed at srv.
func mapped(t *testing.T, srv *hrtest.Server, src string, mutate func(*hrhttp.Config)) *hrhttp.Sink {
	t.Helper()
	m, err := mapping.Parse([]byte(src), "test-mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(srv.URL())
	cfg.Mapping = presets.Use(m)
	if mutate != nil {
		mutate(&cfg)
	}
	return newSink(t, cfg, connectors.Deps{})
}

const badgeMapping = `input: punchbridge.day/v1
fields:
  badge:
    from: employee_id
    transforms:
      - replace: {E: ""}
      - number
  day: date
  hours:
    from: worked_minutes
    transforms:
      - unit: {from: minutes, to: hours, round: half_up, places: 2}
`

func TestMappedBody(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	s := mapped(t, srv, badgeMapping, nil)
	if err := s.Deliver(t.Context(), delivery(day("E1001", 1))); err != nil {
		t.Fatal(err)
	}
	got := srv.AppliedBodies()
	if len(got) != 1 || string(got[0]) != `{"badge":1001,"day":"2026-11-20","hours":9.00}` {
		t.Fatalf("bodies %q", got)
	}
}

// TestMappingErrorFailsOneRecord: a record the mapping cannot encode fails
// alone and permanently, naming the field, the value and the reason; the
// records around it are delivered.
func TestMappingErrorFailsOneRecord(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	for _, size := range []int{0, 10} {
		s := mapped(t, srv, badgeMapping, func(c *hrhttp.Config) { c.Batch.Size = size })
		ds := []connectors.Delivery{delivery(day("E1", size+1)), delivery(day("CONTRACTOR-7", size+1)), delivery(day("E3", size+1))}
		errs := s.DeliverBatch(t.Context(), ds)
		if errs[0] != nil || errs[2] != nil {
			t.Fatalf("batch %d: good records failed: %v", size, errs)
		}
		err := errs[1]
		if !errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, mapping.ErrMapping) {
			t.Fatalf("batch %d: bad record error %v, want permanent and a mapping error", size, err)
		}
		if !strings.Contains(err.Error(), `badge="CONTRACTOR-7": number (line 7) is not a number`) {
			t.Fatalf("error %q does not name field, value and reason", err)
		}
	}
	if srv.AppliedCount() != 3 {
		t.Fatalf("applied %d requests, want 2 single ones and 1 batch", srv.AppliedCount())
	}
}

func TestBatchBody(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	s := mapped(t, srv, "input: punchbridge.day/v1\nfields: {id: employee_id, v: version}\n", func(c *hrhttp.Config) {
		c.Batch = hrhttp.Batch{Size: 2, Path: "data.records"}
	})
	var ds []connectors.Delivery
	for _, e := range []string{"E1", "E2", "E3"} {
		ds = append(ds, delivery(day(e, 1)))
	}
	for i, err := range s.DeliverBatch(t.Context(), ds) {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	got := srv.AppliedBodies()
	want := []string{`{"data":{"records":[{"id":"E1","v":1},{"id":"E2","v":1}]}}`, `{"data":{"records":[{"id":"E3","v":1}]}}`}
	if len(got) != 2 || string(got[0]) != want[0] || string(got[1]) != want[1] {
		t.Fatalf("bodies %q, want %q", got, want)
	}
	keys := srv.AppliedKeys()
	if !strings.HasPrefix(keys[0], "payroll:batch:") || keys[1] != ds[2].IdempotencyKey {
		t.Fatalf("keys %v: a batch has one key for its records, a batch of one the record's", keys)
	}
	// The same batch again is the same key: a duplicate, applied once.
	s.DeliverBatch(t.Context(), ds[:2])
	if srv.Duplicates() != 1 {
		t.Fatalf("duplicates %d, want the repeated batch recognised", srv.Duplicates())
	}
}

func TestSkippedRecordSendsNothing(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	s := mapped(t, srv, "input: punchbridge.day/v1\nwhen: {path: status, equals: absent}\nfields: {id: employee_id}\n", nil)
	if err := s.Deliver(t.Context(), delivery(day("E1", 1))); err != nil {
		t.Fatal(err)
	}
	if srv.Requests() != 0 || s.Stats().Successes != 1 {
		t.Fatalf("requests %d, stats %+v; want nothing sent and the delivery done", srv.Requests(), s.Stats())
	}
}

func TestSuccessFromBody(t *testing.T) {
	tests := []struct {
		name      string
		server    func(*hrtest.Server)
		wantErr   string
		permanent bool
	}{
		{name: "code 0"},
		{name: "duplicate is code 0", server: func(s *hrtest.Server) { s.ApplyThenFailFirst(1, http.StatusBadGateway) }},
		{name: "refused inside a 200", server: func(s *hrtest.Server) { s.FailAlways(http.StatusBadRequest) },
			wantErr: `HR system answered 200 OK with code = "400": Bad Request (injected) (the record was refused`, permanent: true},
		{name: "busy inside a 200 is not permanent", server: func(s *hrtest.Server) { s.FailAlways(http.StatusServiceUnavailable) },
			wantErr: `code = "503"`, permanent: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hrtest.NewServer(hrtest.WithCodeEnvelope())
			defer srv.Close()
			if tt.server != nil {
				tt.server(srv)
			}
			cfg := fastConfig(srv.URL())
			cfg.MaxRetries = 0
			cfg.Success = hrhttp.Success{Path: "code", Equals: []string{"0"}, Retry: []string{"503"}, Message: "msg"}
			s := newSink(t, cfg, connectors.Deps{})
			err := s.Deliver(t.Context(), delivery(day("E1", 1)))
			if tt.name == "duplicate is code 0" {
				// The first answer was lost; the next push's attempt meets
				// the applied key and succeeds.
				err = s.Deliver(t.Context(), delivery(day("E1", 1)))
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			case err != nil && errors.Is(err, connectors.ErrPermanent) != tt.permanent:
				t.Fatalf("permanent = %v, want %v", !tt.permanent, tt.permanent)
			}
		})
	}
}

func TestAlreadyDelivered(t *testing.T) {
	srv := hrtest.NewServer()
	defer srv.Close()
	srv.FailAlways(http.StatusConflict)
	cfg := fastConfig(srv.URL())
	cfg.AlreadyDelivered = []string{"Conflict (injected)"}
	s := newSink(t, cfg, connectors.Deps{})
	if err := s.Deliver(t.Context(), delivery(day("E1", 1))); err != nil {
		t.Fatalf("a refusal that says the record exists is a delivery: %v", err)
	}
	cfg.AlreadyDelivered = []string{"something else"}
	s = newSink(t, cfg, connectors.Deps{})
	if err := s.Deliver(t.Context(), delivery(day("E1", 1))); !errors.Is(err, connectors.ErrPermanent) {
		t.Fatalf("err %v, want the 409 permanent", err)
	}
}

func TestEventsSink(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	cfg := fastConfig(srv.URL())
	cfg.Records = hrhttp.RecordsEvents
	s := newSink(t, cfg, connectors.Deps{})
	cst := time.FixedZone("CST", 8*3600)
	e := mapping.Event{Schema: mapping.EventSchema, ID: "dingtalk/ding5f3a/punch/1", Kind: mapping.KindPunch, Platform: "dingtalk",
		Connector: "dt", Tenant: "ding5f3a", UserID: "u1", EmployeeID: "E1", Time: time.Date(2026, 11, 20, 9, 0, 0, 0, cst),
		ReceivedAt: time.Date(2026, 11, 20, 9, 0, 1, 0, cst), Via: mapping.ViaWebhook, Punch: &mapping.Punch{Direction: mapping.DirIn, Method: "app"}}
	key := hrhttp.EventIdempotencyKey("payroll", e)
	if err := s.DeliverEvent(t.Context(), hrhttp.EventDelivery{Event: e, IdempotencyKey: key}); err != nil {
		t.Fatal(err)
	}
	var back mapping.Event
	if err := json.Unmarshal(srv.AppliedBodies()[0], &back); err != nil || back.ID != e.ID || srv.AppliedKeys()[0] != key {
		t.Fatalf("without a mapping the body is the event: %s, %v", srv.AppliedBodies()[0], err)
	}
	if err := s.Deliver(t.Context(), delivery(day("E1", 1))); !errors.Is(err, connectors.ErrPermanent) || !strings.Contains(err.Error(), "carries events") {
		t.Fatalf("a day record to an events sink: %v", err)
	}
	// A revised event is a new delivery.
	p := *e.Punch
	p.Direction = mapping.DirOut
	e2 := e
	e2.Punch = &p
	if hrhttp.EventIdempotencyKey("payroll", e2) == key {
		t.Fatal("a revision must have a new key")
	}
}

func TestAuthScheme(t *testing.T) {
	srv := hrtest.NewServer(hrtest.WithJSONBodies())
	defer srv.Close()
	cfg := fastConfig(srv.URL())
	cfg.Token, cfg.AuthScheme = "key:secret", "token"
	s := newSink(t, cfg, connectors.Deps{})
	if err := s.Deliver(t.Context(), delivery(day("E1", 1))); err != nil {
		t.Fatal(err)
	}
	if got := srv.Received()[0].Header.Get("Authorization"); got != "token key:secret" {
		t.Fatalf("Authorization %q", got)
	}
}

// TestMappingConfigErrors: a mapping's mistakes are reported at their line
// of the config file, or of the mapping file it names.
func TestMappingConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "days.yaml"), []byte("input: punchbridge.day/v1\nfields:\n  id: {from: employe_id}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"inline mapping", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nmapping:\n  input: punchbridge.day/v1\n  fields:\n    id:\n      from: status\n      transforms: [requird]\n",
			`punchbridge.yaml:9: fields.id: unknown transform "requird"; did you mean required?`},
		{"file", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nmapping: days.yaml\n",
			"days.yaml:3: fields.id: path \"employe_id\": employe_id is not a field of punchbridge.day/v1; did you mean employee_id?"},
		{"missing file", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\n\nmapping: nodays.yaml\n", "punchbridge.yaml:5: mapping nodays.yaml:"},
		{"unknown preset", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nmapping: preset:sap\n", `punchbridge.yaml:4: mapping: unknown preset "sap"`},
		{"event mapping on a day sink", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nmapping: preset:frappe-checkin\n",
			"punchbridge.yaml:4: sink \"hr\": mapping preset:frappe-checkin reads punchbridge.event/v1, but the sink carries punchbridge.day/v1 (records: days)"},
		{"bad records", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nrecords: punches\n", `punchbridge.yaml:4: component "hr": records "punches": must be days`},
		{"success without equals", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nsuccess: {path: code}\n", "success.equals: is required"},
		{"batch path without size", "name: hr\ntype: hrhttp\nurl: https://hr.example.com/days\nbatch: {path: records}\n", "batch.path \"records\": needs batch.size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := component(t, tt.yaml)
			c.File = filepath.Join(dir, "punchbridge.yaml")
			_, err := hrhttp.New(c, connectors.Deps{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
