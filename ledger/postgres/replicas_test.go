package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/postgres"
	"github.com/punchbridge/punchbridge/mapping"
)

// replicas is how many Ledgers, each with its own connections, stand in for
// the processes of a deployment.
const replicas = 3

// openReplicas opens replicas Ledgers on one fresh schema.
func openReplicas(t *testing.T) (dsn, schema string, ls []*postgres.Ledger) {
	t.Helper()
	dsn, schema = freshSchema(t)
	for range replicas {
		l := open(t, dsn, schema, postgres.WithMaxConns(2))
		t.Cleanup(func() { l.Close() })
		ls = append(ls, l)
	}
	return dsn, schema, ls
}

// each runs fn once per replica, all at once, and fails the test on the
// first error.
func each(t *testing.T, ls []*postgres.Ledger, fn func(i int, l *postgres.Ledger) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(ls))
	for i, l := range ls {
		wg.Go(func() {
			<-start
			errs[i] = fn(i, l)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
}

// replicaPunch is the nth punch of the shared stream; moved shifts its
// time, making a revision.
func replicaPunch(n int, moved bool) mapping.Event {
	tm := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)).Add(time.Duration(n) * time.Minute)
	if moved {
		tm = tm.Add(30 * time.Second)
	}
	return mapping.Event{
		Schema: mapping.EventSchema, ID: fmt.Sprintf("dingtalk/ding5f3a/punch/%d", n), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a",
		UserID: fmt.Sprintf("u%d", n%3), EmployeeID: fmt.Sprintf("E%d", n%3),
		Time: tm, ReceivedAt: tm.Add(time.Second), Via: mapping.ViaPull,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, PlatformResult: "normal"},
	}
}

// appendInBatches appends events in batches of size, starting at an offset
// so that replicas overlap on different events at any moment.
func appendInBatches(t *testing.T, l *postgres.Ledger, events []mapping.Event, offset, size int) (ledger.AppendResult, error) {
	var total ledger.AppendResult
	for start := 0; start < len(events); start += size {
		batch := make([]mapping.Event, 0, size)
		for j := start; j < min(start+size, len(events)); j++ {
			batch = append(batch, events[(j+offset)%len(events)])
		}
		res, err := l.Append(t.Context(), batch)
		if err != nil {
			return total, err
		}
		total.Stored, total.Revisions, total.Duplicates = total.Stored+res.Stored, total.Revisions+res.Revisions, total.Duplicates+res.Duplicates
	}
	return total, nil
}

// Three replicas receive the same events (as webhooks and pulls do) and
// compute the same day records: every event is stored once, every distinct
// content of a day once.
func TestReplicasShareOneLedger(t *testing.T) {
	dsn, schema, ls := openReplicas(t)
	c := sqlConn(t, dsn, schema)
	const n = 60

	var originals, revised []mapping.Event
	for i := range n {
		originals = append(originals, replicaPunch(i, false))
	}
	for i := range n / 3 {
		revised = append(revised, replicaPunch(i*3, true))
	}
	for _, step := range []struct {
		name                 string
		events               []mapping.Event
		stored, revisions    int
		wantRows, wantLatest int
	}{
		{"originals", originals, n, 0, n, n},
		{"revisions", revised, 0, n / 3, n + n/3, n},
	} {
		results := make([]ledger.AppendResult, replicas)
		each(t, ls, func(i int, l *postgres.Ledger) error {
			var err error
			results[i], err = appendInBatches(t, l, step.events, i*17, 20)
			return err
		})
		var stored, revisions, dups int
		for _, r := range results {
			stored, revisions, dups = stored+r.Stored, revisions+r.Revisions, dups+r.Duplicates
		}
		if stored != step.stored || revisions != step.revisions || dups != (replicas-1)*len(step.events) {
			t.Errorf("%s: stored %d, revisions %d, duplicates %d; want %d, %d, %d",
				step.name, stored, revisions, dups, step.stored, step.revisions, (replicas-1)*len(step.events))
		}
		if got := count(t, c, `SELECT count(*) FROM events`); got != step.wantRows {
			t.Errorf("%s: %d event rows, want %d", step.name, got, step.wantRows)
		}
		if got := count(t, c, `SELECT count(DISTINCT id) FROM events WHERE latest`); got != step.wantLatest {
			t.Errorf("%s: %d ids with a latest revision, want %d", step.name, got, step.wantLatest)
		}
	}
	got, err := ls[0].Events(t.Context(), "E0", time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	if err != nil || len(got) != n/3 {
		t.Fatalf("Events(E0) = %d events, %v; want %d", len(got), err, n/3)
	}
	for _, e := range got {
		if e.Time.Second() != 30 {
			t.Errorf("Events(E0) lists %s at %v, not its revision", e.ID, e.Time)
		}
	}

	// Day records: each replica puts every record, in its own order; first
	// one content, then (after all are done) another.
	const days = 10
	for version, worked := range []int{540, 545} {
		changed := make([]int, replicas)
		each(t, ls, func(i int, l *postgres.Ledger) error {
			for j := range days {
				rec := dayRecord((j+i*3)%days, worked)
				got, ch, err := l.PutDay(t.Context(), rec)
				if err != nil {
					return err
				}
				if got.Version != version+1 {
					return fmt.Errorf("PutDay(%v) = version %d, want %d", rec.Key(), got.Version, version+1)
				}
				if ch {
					changed[i]++
				}
			}
			return nil
		})
		if sum := changed[0] + changed[1] + changed[2]; sum != days {
			t.Errorf("content %d: %d PutDay calls stored a version, want %d", version+1, sum, days)
		}
	}
	for j := range days {
		hist, err := ls[1].DayHistory(t.Context(), dayRecord(j, 0).Key())
		if err != nil || len(hist) != 2 || hist[0].WorkedMinutes != 540 || hist[1].WorkedMinutes != 545 {
			t.Errorf("DayHistory(day %d) = %+v, %v; want versions of 540 then 545 minutes", j, hist, err)
		}
	}
	if got := count(t, c, `SELECT count(*) FROM days WHERE latest`); got != days {
		t.Errorf("%d latest day versions, want %d", got, days)
	}
}

func dayRecord(n, worked int) mapping.DayRecord {
	return mapping.DayRecord{
		EmployeeID: fmt.Sprintf("E%d", n%3), Date: time.Date(2026, 11, 1+n, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
		Shift: "standard", Status: mapping.DayPresent, WorkedMinutes: worked,
	}
}

// Replicas that race to report one delivery (one acknowledged, the others
// timed out) end with the entry delivered and logged once.
func TestReplicasRaceOnOneDelivery(t *testing.T) {
	dsn, schema, ls := openReplicas(t)
	c := sqlConn(t, dsn, schema)
	rec := dayRecord(0, 540)
	rec.Version = 1
	each(t, ls, func(_ int, l *postgres.Ledger) error { return l.Enqueue(t.Context(), "hr", rec) })
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	due, err := ls[0].Due(t.Context(), "hr", now, 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("Due = %d entries, %v; want 1", len(due), err)
	}
	id := due[0].ID
	for range 5 {
		each(t, ls, func(i int, l *postgres.Ledger) error {
			if i == 0 {
				return l.MarkDelivered(t.Context(), id, now)
			}
			return l.MarkFailed(t.Context(), id, "hr: timeout", now.Add(time.Minute), i == 2)
		})
	}
	es, err := ls[2].Outbox(t.Context(), "hr", "", 0)
	if err != nil || len(es) != 1 || es[0].State != ledger.DeliveryDelivered {
		t.Fatalf("Outbox = %+v, %v; want the one entry delivered", es, err)
	}
	if got := count(t, c, `SELECT count(*) FROM deliveries`); got != 1 {
		t.Errorf("%d delivery log rows, want 1", got)
	}
	var at time.Time
	if err := c.QueryRow(t.Context(), `SELECT delivered_at FROM deliveries`).Scan(&at); err != nil || !at.Equal(now) {
		t.Errorf("delivered_at = %v, %v; want %v", at, err, now)
	}
	// A later acknowledgement keeps the first delivery time.
	if err := ls[1].MarkDelivered(t.Context(), id, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(t.Context(), `SELECT delivered_at FROM deliveries`).Scan(&at); err != nil || !at.Equal(now) {
		t.Errorf("delivered_at after a second MarkDelivered = %v, %v; want %v", at, err, now)
	}
}

// A remap racing appends of the same user's events (duplicates that bring
// the employee id, and new revisions) neither deadlocks nor leaves the
// latest revisions quarantined.
func TestReplicasRemapWhileAppending(t *testing.T) {
	_, _, ls := openReplicas(t)
	var lost, found, revised []mapping.Event
	for i := range 30 {
		e := replicaPunch(i, false)
		e.UserID, e.EmployeeID = "u9", ""
		lost = append(lost, e)
		e.EmployeeID = "E9"
		found = append(found, e)
		r := replicaPunch(i, true)
		r.UserID, r.EmployeeID = "u9", "E9"
		revised = append(revised, r)
	}
	if _, err := ls[0].Append(t.Context(), lost); err != nil {
		t.Fatal(err)
	}
	each(t, ls, func(i int, l *postgres.Ledger) error {
		switch i {
		case 0:
			_, err := l.Remap(t.Context(), "dingtalk", "ding5f3a", "u9", "E9")
			return err
		case 1:
			_, err := appendInBatches(t, l, found, 7, 5)
			return err
		default:
			_, err := appendInBatches(t, l, revised, 19, 5)
			return err
		}
	})
	q, err := ls[1].Quarantined(t.Context(), 0)
	if err != nil || len(q) != 0 {
		t.Errorf("Quarantined = %d events, %v; want none", len(q), err)
	}
	got, err := ls[2].Events(t.Context(), "E9", time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	if err != nil || len(got) != len(revised) {
		t.Fatalf("Events(E9) = %d, %v; want %d", len(got), err, len(revised))
	}
}

// Replicas that store different contents of one event at once number the
// revisions 1, 2, 3 and leave exactly one latest.
func TestReplicasReviseOneEvent(t *testing.T) {
	dsn, schema, ls := openReplicas(t)
	c := sqlConn(t, dsn, schema)
	for round := range 5 {
		each(t, ls, func(i int, l *postgres.Ledger) error {
			e := replicaPunch(round, false)
			e.Time = e.Time.Add(time.Duration(i+1) * time.Second)
			_, err := l.Append(t.Context(), []mapping.Event{e})
			return err
		})
		id := replicaPunch(round, false).ID
		if got := count(t, c, `SELECT count(*) FROM events WHERE id = $1`, id); got != replicas {
			t.Errorf("%s: %d revisions, want %d", id, got, replicas)
		}
		if got := count(t, c, `SELECT max(revision) FROM events WHERE id = $1`, id); got != replicas {
			t.Errorf("%s: highest revision %d, want %d", id, got, replicas)
		}
		if got := count(t, c, `SELECT revision FROM events WHERE id = $1 AND latest`, id); got != replicas {
			t.Errorf("%s: revision %d is latest, want %d", id, got, replicas)
		}
	}
}

// A batch too large to lock id by id (a backfill) races replicas writing
// other contents of the same events in small batches: every id still ends
// with its revisions numbered 1, 2, 3 and one latest.
func TestReplicasBulkAppendRacesSmallBatches(t *testing.T) {
	dsn, schema, ls := openReplicas(t)
	c := sqlConn(t, dsn, schema)
	const n = 600 // above the per-id lock bound
	each(t, ls, func(i int, l *postgres.Ledger) error {
		events := make([]mapping.Event, n)
		for j := range events {
			events[j] = replicaPunch(j, false)
			events[j].Time = events[j].Time.Add(time.Duration(i+1) * time.Second)
		}
		size := 50
		if i == 0 {
			size = n
		}
		_, err := appendInBatches(t, l, events, i*101, size)
		return err
	})
	if got := count(t, c, `SELECT count(*) FROM events`); got != replicas*n {
		t.Errorf("%d event rows, want %d", got, replicas*n)
	}
	if got := count(t, c, `SELECT count(*) FROM events WHERE latest AND revision = $1`, replicas); got != n {
		t.Errorf("%d ids whose latest is revision %d, want %d", got, replicas, n)
	}
}

// Replicas store the same day records at once, two of them in batches and
// one a record at a time: every distinct content of a day is stored once,
// and queued once for the sink. Twice: with fewer employees than one
// transaction locks one by one, and with more (so under the lock on every
// day).
func TestReplicasRaceToPutDays(t *testing.T) {
	for _, size := range []struct{ emps, dates int }{{60, 10}, {600, 2}} {
		t.Run(fmt.Sprintf("%d employees", size.emps), func(t *testing.T) {
			raceToPutDays(t, size.emps, size.dates)
		})
	}
}

func raceToPutDays(t *testing.T, emps, dates int) {
	dsn, schema, ls := openReplicas(t)
	c := sqlConn(t, dsn, schema)
	for version, worked := range []int{540, 545} {
		var recs []mapping.DayRecord
		for e := range emps {
			for d := range dates {
				recs = append(recs, mapping.DayRecord{EmployeeID: fmt.Sprintf("E%03d", e), Shift: "standard", Status: mapping.DayPresent,
					Date: time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), WorkedMinutes: worked})
			}
		}
		changed := make([]int, replicas)
		each(t, ls, func(i int, l *postgres.Ledger) error {
			mine := slices.Clone(recs)
			rand.New(rand.NewPCG(uint64(i), uint64(version))).Shuffle(len(mine), func(a, b int) { mine[a], mine[b] = mine[b], mine[a] })
			if i == 0 {
				for _, rec := range mine {
					stored, ch, err := l.PutDay(t.Context(), rec)
					if err != nil {
						return err
					}
					if ch {
						changed[i]++
						if err := l.Enqueue(t.Context(), "hr", stored); err != nil {
							return err
						}
					}
				}
				return nil
			}
			got, err := l.PutDays(t.Context(), ledger.PrepareDays(mine), []string{"hr"})
			for _, ch := range got {
				if ch {
					changed[i]++
				}
			}
			return err
		})
		if sum := changed[0] + changed[1] + changed[2]; sum != len(recs) {
			t.Errorf("content %d: %d days stored a version (%v by replica), want %d", version+1, sum, changed, len(recs))
		}
	}
	if got := count(t, c, `SELECT count(*) FROM days WHERE latest`); got != emps*dates {
		t.Errorf("%d latest day versions, want %d", got, emps*dates)
	}
	if got := count(t, c, `SELECT count(*) FROM days`); got != 2*emps*dates {
		t.Errorf("%d day versions, want %d", got, 2*emps*dates)
	}
	if got := count(t, c, `SELECT count(*) FROM outbox WHERE sink = 'hr'`); got != 2*emps*dates {
		t.Errorf("%d outbox entries, want one a version: %d", got, 2*emps*dates)
	}
}
