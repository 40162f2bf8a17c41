package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

func rawPunch(n int, at time.Time) mapping.Event {
	return mapping.Event{
		Schema: mapping.EventSchema, ID: "dingtalk/t/punch/" + string(rune('a'+n)), Kind: mapping.KindPunch,
		Platform: "dingtalk", Tenant: "t", UserID: "u1", EmployeeID: "E1", Time: at,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp},
	}
}

// TestStoreRawNeedsTheRevision checks that a payload is kept with the
// stored revision it names, and that one naming no stored revision is
// reported with ledger.ErrRawNotKept while the others are kept.
func TestStoreRawNeedsTheRevision(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	defer l.Close()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	e := rawPunch(0, at)
	if _, err := l.Append(t.Context(), []mapping.Event{e}); err != nil {
		t.Fatal(err)
	}
	kept := ledger.RawPayload{EventID: e.ID, Fingerprint: mapping.Fingerprint(e), Connector: "hq", ReceivedAt: at, Body: json.RawMessage(`{"n":1}`)}
	tests := []struct {
		name string
		p    ledger.RawPayload
	}{
		{"unknown event", ledger.RawPayload{EventID: "dingtalk/t/punch/none", Fingerprint: kept.Fingerprint, Connector: "hq", ReceivedAt: at, Body: json.RawMessage(`{}`)}},
		{"unknown revision", ledger.RawPayload{EventID: e.ID, Fingerprint: "0123", Connector: "hq", ReceivedAt: at, Body: json.RawMessage(`{}`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := l.StoreRaw(t.Context(), []ledger.RawPayload{tc.p, kept})
			if !errors.Is(err, ledger.ErrRawNotKept) {
				t.Fatalf("StoreRaw = %v, want ErrRawNotKept", err)
			}
			got, err := l.RawFor(t.Context(), e.ID)
			if err != nil || len(got) != 1 || string(got[0].Body) != `{"n":1}` || got[0].Fingerprint != kept.Fingerprint {
				t.Fatalf("RawFor = %+v, %v; want the kept payload alone", got, err)
			}
		})
	}
}

// TestMigrationBindsRawPayloads builds a database as the binary before
// migration 8 left it (events unique by id and revision, payloads keyed
// by event id and fingerprint) and checks that opening it keeps every
// event, binds each payload to its revision and drops the payload of no
// stored revision, and that new revisions continue the rows.
func TestMigrationBindsRawPayloads(t *testing.T) {
	known, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range known {
		if m.Version >= 8 {
			break
		}
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	e := rawPunch(0, at)
	rev2 := e
	rev2.Time = at.Add(time.Minute)
	for i, ev := range []mapping.Event{e, rev2} {
		body, _ := json.Marshal(ev)
		if _, err := db.Exec(`INSERT INTO events (seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
			employee_id, time_ms, body, created_ms) VALUES (?, ?, ?, ?, ?, 'punch', 'dingtalk', 't', 'u1', 'E1', ?, ?, 0)`,
			10+i, ev.ID, mapping.Fingerprint(ev), i+1, i, ev.Time.UnixMilli(), string(body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct{ fp, body string }{{mapping.Fingerprint(rev2), `{"rev":2}`}, {"gone", `{"orphan":true}`}} {
		if _, err := db.Exec(`INSERT INTO raw_payloads VALUES (?, ?, 'hq', ?, ?)`, e.ID, r.fp, at.UnixMilli(), r.body); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l := open(t, path)
	defer l.Close()
	got, err := l.RawFor(t.Context(), e.ID)
	if err != nil || len(got) != 1 || string(got[0].Body) != `{"rev":2}` || got[0].Fingerprint != mapping.Fingerprint(rev2) {
		t.Fatalf("RawFor after migrating = %+v, %v; want the second revision's payload alone", got, err)
	}
	events, err := l.Events(t.Context(), "E1", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil || len(events) != 1 || !events[0].Time.Equal(rev2.Time) {
		t.Fatalf("Events after migrating = %+v, %v; want the latest revision", events, err)
	}
	rev3 := e
	rev3.Time = at.Add(2 * time.Minute)
	other := rawPunch(1, at)
	res, err := l.IngestBatch(t.Context(), ledger.IngestBatch{
		Events: mustPrepare(t, rev3, other),
		Raw: []ledger.RawPayload{
			{EventID: rev3.ID, Fingerprint: mapping.Fingerprint(rev3), Connector: "hq", ReceivedAt: at, Body: json.RawMessage(`{"rev":3}`)},
			{EventID: other.ID, Fingerprint: mapping.Fingerprint(other), Connector: "hq", ReceivedAt: at, Body: json.RawMessage(`{"other":1}`)},
		},
	})
	if err != nil || res.Revisions != 1 || res.Stored != 1 {
		t.Fatalf("IngestBatch = %+v, %v; want one revision and one new event", res, err)
	}
	for id, want := range map[string]int{e.ID: 2, other.ID: 1} {
		if got, err := l.RawFor(t.Context(), id); err != nil || len(got) != want {
			t.Errorf("RawFor(%s) = %d payloads, %v; want %d", id, len(got), err, want)
		}
	}
}

func mustPrepare(t *testing.T, events ...mapping.Event) []ledger.PreparedEvent {
	t.Helper()
	p, err := ledger.PrepareEvents(events, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
