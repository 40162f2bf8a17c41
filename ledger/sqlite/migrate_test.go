package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// migratedTo returns a new database file with the migrations up to
// version applied, as an older binary left it, and a connection to it
// that the caller closes before opening the ledger.
func migratedTo(t *testing.T, version int) (string, *sql.DB) {
	t.Helper()
	known, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range known {
		if m.Version > version {
			break
		}
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

// TestMigrationBindsRawPayloads builds a database as the binary before
// migration 8 left it (events unique by id and revision, payloads keyed
// by event id and fingerprint) and checks that opening it keeps every
// event, binds each payload to its revision and drops the payload of no
// stored revision, and that new revisions continue the rows.
func TestMigrationBindsRawPayloads(t *testing.T) {
	path, db := migratedTo(t, 7)
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

// TestMigrationLeansTheOutbox builds a database as the binary before
// migration 9 left it (each outbox entry with a copy of its record, a
// deliveries table) and checks that opening it keeps what each entry
// delivers and when each delivered entry was acknowledged.
func TestMigrationLeansTheOutbox(t *testing.T) {
	path, db := migratedTo(t, 8)
	stored := `{"employee_id":"E1","date":"2026-11-20","shift":"standard","status":"present","version":1}`
	given := `{"employee_id":"E1","date":"2026-11-19","shift":"standard","status":"absent","version":1}`
	for _, q := range []string{
		`INSERT INTO days VALUES ('E1', '2026-11-20', 'standard', 1, 1, 'h1', '` + stored + `', 0)`,
		// Entry 1 delivers the stored version, entry 2 a record given to
		// Enqueue whose version the days table does not hold.
		`INSERT INTO outbox (id, sink, employee_id, date, shift, version, body, state, created_ms, updated_ms)
			VALUES (1, 'hr', 'E1', '2026-11-20', 'standard', 1, '` + stored + `', 'delivered', 0, 0)`,
		`INSERT INTO outbox (id, sink, employee_id, date, shift, version, body, state, created_ms, updated_ms)
			VALUES (2, 'hr', 'E1', '2026-11-19', 'standard', 1, '` + given + `', 'pending', 0, 0)`,
		`INSERT INTO deliveries VALUES ('hr', 'E1', '2026-11-20', 'standard', 1, 1, 1795000000000)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l := open(t, path)
	defer l.Close()
	key := mapping.DayKey{EmployeeID: "E1", Date: "2026-11-20", Shift: "standard"}
	if ok, err := l.Delivered(t.Context(), "hr", key, 1); err != nil || !ok {
		t.Errorf("Delivered of the acknowledged entry = %v, %v; want true", ok, err)
	}
	all, err := l.Outbox(t.Context(), "hr", "", 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("Outbox = %+v, %v; want both entries", all, err)
	}
	if all[0].Record.Status != "present" || all[0].Record.Date != "2026-11-20" {
		t.Errorf("entry 1 delivers %+v, want the stored version", all[0].Record)
	}
	due, err := l.Due(t.Context(), "hr", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), 0)
	if err != nil || len(due) != 1 || due[0].ID != 2 || due[0].Record.Status != "absent" {
		t.Fatalf("Due = %+v, %v; want entry 2 with the record given to Enqueue", due, err)
	}
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var left sql.NullString
	if err := check.QueryRow(`SELECT body FROM outbox WHERE id = 1`).Scan(&left); err != nil || left.Valid {
		t.Errorf("entry 1 body = %v, %v; want NULL (the days row holds it)", left, err)
	}
}

// TestMigrationKeepsDirtyDays builds a database as the binary before
// migration 10 left it and checks that its dirty days, generations
// included, survive dirty_days becoming a WITHOUT ROWID table.
func TestMigrationKeepsDirtyDays(t *testing.T) {
	path, db := migratedTo(t, 9)
	if _, err := db.Exec(`INSERT INTO dirty_days VALUES ('E1', '2026-11-19', 1, 0), ('E1', '2026-11-20', 3, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l := open(t, path)
	defer l.Close()
	days := mustDirty(t, l, "E1")
	if len(days) != 2 || days[0].Date != "2026-11-19" || days[1].Date != "2026-11-20" || days[1].Generation != 3 {
		t.Fatalf("DirtyDaysBetween after migrating = %v; want both days, the second at generation 3", days)
	}
	if err := l.MarkDirty(t.Context(), []mapping.EmployeeDay{{EmployeeID: "E1", Date: "2026-11-20"}}); err != nil {
		t.Fatal(err)
	}
	// The day marked again after it was listed stays dirty; the other goes.
	if err := l.ClearDirty(t.Context(), days); err != nil {
		t.Fatal(err)
	}
	if left, err := l.DirtyDays(t.Context()); err != nil || len(left) != 1 || left[0].Date != "2026-11-20" {
		t.Errorf("after clearing = %v, %v; want the day marked again", left, err)
	}
}

// TestMigrationIndexesByDay builds a database as the binary before
// migration 11 left it and checks that opening it keeps every event
// readable by employee (punches through the day index, approvals through
// the span index), lists the employees the events carry (quarantined ones
// aside), and keeps the dirty days with their generations, now listed
// from a table keyed by date.
func TestMigrationIndexesByDay(t *testing.T) {
	path, db := migratedTo(t, 10)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	p1, p2, lost := rawPunch(0, at), rawPunch(1, at.AddDate(0, 0, 1)), rawPunch(2, at)
	p2.EmployeeID, lost.EmployeeID = "E2", ""
	leave := mapping.Event{
		Schema: mapping.EventSchema, ID: "dingtalk/t/approval/1", Kind: mapping.KindApproval,
		Platform: "dingtalk", Tenant: "t", UserID: "u3", EmployeeID: "E3", Time: at.AddDate(0, -1, 0),
		Approval: &mapping.Approval{Type: mapping.ApprovalLeave, Status: mapping.StatusApproved, Start: at, End: at.Add(8 * time.Hour)},
	}
	for i, ev := range []mapping.Event{p1, p2, lost, leave} {
		body, _ := json.Marshal(ev)
		start, end := sql.NullInt64{}, sql.NullInt64{}
		if ev.Approval != nil {
			start = sql.NullInt64{Int64: ev.Approval.Start.UnixMilli(), Valid: true}
			end = sql.NullInt64{Int64: ev.Approval.End.UnixMilli(), Valid: true}
		}
		if _, err := db.Exec(`INSERT INTO events (seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
			employee_id, time_ms, start_ms, end_ms, body, created_ms) VALUES (?, ?, ?, 1, 1, ?, 'dingtalk', 't', ?, ?, ?, ?, ?, ?, 0)`,
			i+1, ev.ID, mapping.Fingerprint(ev), string(ev.Kind), ev.UserID, ev.EmployeeID, ev.Time.UnixMilli(), start, end, string(body)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO dirty_days VALUES ('E2', '2026-11-19', 1, 0), ('E1', '2026-11-20', 3, 0), ('E2', '2026-11-20', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l := open(t, path)
	defer l.Close()
	for emp, want := range map[string][]string{"E1": {p1.ID}, "E2": {p2.ID}, "E3": {leave.ID}} {
		got, err := l.Events(t.Context(), emp, at.Add(-time.Hour), at.AddDate(0, 0, 2))
		if err != nil || len(got) != len(want) || got[0].ID != want[0] {
			t.Errorf("Events(%s) after migrating = %+v, %v; want %v", emp, got, err, want)
		}
	}
	if got, err := l.Employees(t.Context()); err != nil || !slices.Equal(got, []string{"E1", "E2", "E3"}) {
		t.Errorf("Employees after migrating = %v, %v; want E1, E2, E3", got, err)
	}
	days, err := l.DirtyDays(t.Context())
	want := []mapping.EmployeeDay{{EmployeeID: "E1", Date: "2026-11-20"}, {EmployeeID: "E2", Date: "2026-11-19"}, {EmployeeID: "E2", Date: "2026-11-20"}}
	if err != nil || !slices.Equal(days, want) {
		t.Fatalf("DirtyDays after migrating = %v, %v; want %v (by employee, then date)", days, err, want)
	}
	listed := slices.Concat(mustDirty(t, l, "E1"), mustDirty(t, l, "E2"))
	if len(listed) != 3 || listed[0].Generation != 3 {
		t.Fatalf("DirtyDaysBetween after migrating = %v; want three days, E1's at generation 3", listed)
	}
	if err := l.MarkDirty(t.Context(), want[:1]); err != nil {
		t.Fatal(err)
	}
	if err := l.ClearDirty(t.Context(), listed); err != nil {
		t.Fatal(err)
	}
	if left, err := l.DirtyDays(t.Context()); err != nil || !slices.Equal(left, want[:1]) {
		t.Errorf("after clearing = %v, %v; want the day marked again", left, err)
	}
}

// mustDirty lists an employee's dirty days of November 2026 by date.
func mustDirty(t *testing.T, l *sqlite.Ledger, employee string) []ledger.DirtyDay {
	t.Helper()
	days, err := l.DirtyDaysBetween(t.Context(), employee, employee, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(days, func(a, b ledger.DirtyDay) int { return strings.Compare(a.Date, b.Date) })
	return days
}

// TestMigrationDropsTheDaysDateIndex builds a database as the binary
// before migration 12 left it and checks that opening it drops the days'
// index by date and still lists every employee's latest days of a range,
// in order, with a later version stored after migrating among them.
func TestMigrationDropsTheDaysDateIndex(t *testing.T) {
	path, db := migratedTo(t, 11)
	day := func(emp, date string, version int) string {
		return `{"employee_id":"` + emp + `","date":"` + date + `","shift":"standard","status":"present","version":` + strconv.Itoa(version) + `}`
	}
	for _, row := range []struct {
		emp, date       string
		version, latest int
	}{
		{"E2", "2026-11-20", 1, 1},
		{"E1", "2026-11-20", 1, 0},
		{"E1", "2026-11-20", 2, 1},
		{"E1", "2026-11-21", 1, 1},
		{"E3", "2026-10-31", 1, 1},
	} {
		if _, err := db.Exec(`INSERT INTO days VALUES (?, ?, 'standard', ?, ?, 'h', ?, 0)`,
			row.emp, row.date, row.version, row.latest, day(row.emp, row.date, row.version)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l := open(t, path)
	defer l.Close()
	rec := mapping.DayRecord{EmployeeID: "E2", Date: "2026-11-20", Shift: "standard", Status: "absent"}
	if _, changed, err := l.PutDay(t.Context(), rec); err != nil || !changed {
		t.Fatalf("PutDay after migrating: changed %v, %v; want a new version", changed, err)
	}
	got, err := l.Days(t.Context(), "", "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, d := range got {
		listed = append(listed, fmt.Sprintf("%s %s v%d %s", d.EmployeeID, d.Date, d.Version, d.Status))
	}
	want := []string{"E1 2026-11-20 v2 present", "E1 2026-11-21 v1 present", "E2 2026-11-20 v2 absent"}
	if !slices.Equal(listed, want) {
		t.Errorf("Days after migrating = %q; want %q", listed, want)
	}
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var n int
	if err := check.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'days_latest_by_date'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("days_latest_by_date after migrating: %d, %v; want it gone", n, err)
	}
}

// TestMigrationKeysEventsByDay builds a database as the binary before
// migration 13 left it (the events' key by id alone) and checks that
// opening it keys every event by its id's day: a copy of a stored punch is
// a duplicate, new content is its second revision, and its raw payload is
// found, for a punch whose id names its time and for one whose does not.
func TestMigrationKeysEventsByDay(t *testing.T) {
	path, db := migratedTo(t, 12)
	at := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	timed := rawPunch(0, at)
	timed.ID = "dingtalk/t/punch/u1-" + strconv.FormatInt(at.UnixMilli(), 10)
	plain := rawPunch(1, at)
	for i, ev := range []mapping.Event{timed, plain} {
		body, _ := json.Marshal(ev)
		if _, err := db.Exec(`INSERT INTO events (seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
			employee_id, time_ms, body, created_ms) VALUES (?, ?, ?, 1, 1, 'punch', 'dingtalk', 't', 'u1', 'E1', ?, ?, 0)`,
			i+1, ev.ID, mapping.Fingerprint(ev), ev.Time.UnixMilli(), string(body)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO raw_payloads VALUES (?, 'hq', 0, '{"n":1}')`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l := open(t, path)
	defer l.Close()
	for _, ev := range []mapping.Event{timed, plain} {
		if res, err := l.Append(t.Context(), []mapping.Event{ev}); err != nil || res.Duplicates != 1 {
			t.Errorf("Append of a copy of %s after migrating = %+v, %v; want a duplicate", ev.ID, res, err)
		}
		if raw, err := l.RawFor(t.Context(), ev.ID); err != nil || len(raw) != 1 {
			t.Errorf("RawFor(%s) after migrating = %v, %v; want the stored payload", ev.ID, raw, err)
		}
		moved := ev
		moved.Punch = &mapping.Punch{Direction: mapping.DirOut, Method: mapping.MethodApp}
		if res, err := l.Append(t.Context(), []mapping.Event{moved}); err != nil || res.Revisions != 1 {
			t.Errorf("Append of new content for %s after migrating = %+v, %v; want a revision", ev.ID, res, err)
		}
	}
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var day int64
	if err := check.QueryRow(`SELECT id_day FROM events WHERE seq = 1`).Scan(&day); err != nil || day != at.UnixMilli()/86400000 {
		t.Errorf("id_day of the timed punch = %d, %v; want %d", day, err, at.UnixMilli()/86400000)
	}
}
