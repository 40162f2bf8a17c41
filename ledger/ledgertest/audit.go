package ledgertest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

// RunAudit checks a backend's audit log (ledger.AuditLog), which every
// backend implements beside ledger.Ledger, each test on a fresh ledger.
func RunAudit(t *testing.T, open Open) {
	t.Helper()
	for _, tt := range auditTests {
		t.Run(tt.name, func(t *testing.T) {
			l := open(t)
			t.Cleanup(func() { l.Close() })
			al, ok := l.(ledger.AuditLog)
			if !ok {
				t.Fatalf("%T does not implement ledger.AuditLog", l)
			}
			tt.run(t, al)
		})
	}
}

type auditTest struct {
	name string
	run  func(t *testing.T, al ledger.AuditLog)
}

// entry returns a complete audit entry at the given time.
func entry(tm time.Time, who, action, result string) ledger.AuditEntry {
	return ledger.AuditEntry{At: tm, Who: who, Role: "operator", Action: action, Target: "nightly", Result: result,
		Detail: `{"ids":[3,4]} requeued 2, delivered 1`}
}

func mustAudit(t *testing.T, al ledger.AuditLog, es ...ledger.AuditEntry) {
	t.Helper()
	for _, e := range es {
		if err := al.Audit(t.Context(), e); err != nil {
			t.Fatalf("Audit(%+v): %v", e, err)
		}
	}
}

func auditEntries(t *testing.T, al ledger.AuditLog, since time.Time, limit int) []ledger.AuditEntry {
	t.Helper()
	got, err := al.AuditEntries(t.Context(), since, limit)
	if err != nil {
		t.Fatalf("AuditEntries: %v", err)
	}
	return got
}

// actions lists the entries' actions, for comparing orders.
func actions(es []ledger.AuditEntry) string {
	out := ""
	for i, e := range es {
		if i > 0 {
			out += ","
		}
		out += e.Action
	}
	return out
}

var auditTests = []auditTest{
	{"an entry is read back whole", func(t *testing.T, al ledger.AuditLog) {
		want := entry(at(21, 10, 30), "ops-alice", "dlq.replay", ledger.AuditOK)
		mustAudit(t, al, want)
		got := auditEntries(t, al, time.Time{}, 0)
		if len(got) != 1 {
			t.Fatalf("%d entries, want 1", len(got))
		}
		g := got[0]
		if g.ID == 0 {
			t.Error("the ledger assigned no ID")
		}
		want.ID = g.ID
		if !g.At.Equal(want.At) {
			t.Errorf("At = %v, want %v", g.At, want.At)
		}
		g.At, want.At = time.Time{}, time.Time{}
		if g != want {
			t.Errorf("entry\n got %+v\nwant %+v", g, want)
		}
	}},
	{"entries are listed newest first, from since on, up to limit", func(t *testing.T, al ledger.AuditLog) {
		mustAudit(t, al,
			entry(at(21, 10, 0), "a", "first", ledger.AuditOK),
			entry(at(21, 12, 0), "a", "third", ledger.AuditFailed),
			entry(at(21, 11, 0), "b", "second", ledger.AuditForbidden),
			entry(at(21, 12, 0), "c", "fourth", ledger.AuditOK), // same time as third, written later
		)
		for _, tc := range []struct {
			since time.Time
			limit int
			want  string
		}{
			{time.Time{}, 0, "fourth,third,second,first"},
			{at(21, 11, 0), 0, "fourth,third,second"}, // since is inclusive
			{at(21, 11, 1), 0, "fourth,third"},
			{time.Time{}, 2, "fourth,third"},
			{time.Time{}, -1, "fourth,third,second,first"},
			{at(22, 0, 0), 0, ""},
		} {
			if got := actions(auditEntries(t, al, tc.since, tc.limit)); got != tc.want {
				t.Errorf("AuditEntries(since %v, limit %d) = %q, want %q", tc.since, tc.limit, got, tc.want)
			}
		}
	}},
	{"an entry without a time, action or result is refused", func(t *testing.T, al ledger.AuditLog) {
		for _, e := range []ledger.AuditEntry{
			{Action: "job.run", Result: ledger.AuditOK},
			{At: at(21, 9, 0), Result: ledger.AuditOK},
			{At: at(21, 9, 0), Action: "job.run"},
		} {
			if err := al.Audit(t.Context(), e); err == nil {
				t.Errorf("Audit(%+v) succeeded", e)
			}
		}
		if got := auditEntries(t, al, time.Time{}, 0); len(got) != 0 {
			t.Errorf("refused entries were stored: %+v", got)
		}
	}},
	{"concurrent writers lose nothing", func(t *testing.T, al ledger.AuditLog) {
		const writers, each = 4, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					errs <- al.Audit(t.Context(), entry(at(21, 10, w*each+i), fmt.Sprintf("w%d", w), "job.run", ledger.AuditOK))
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := auditEntries(t, al, time.Time{}, 0)
		if len(got) != writers*each {
			t.Fatalf("%d entries, want %d", len(got), writers*each)
		}
		seen := map[int64]bool{}
		for _, e := range got {
			if seen[e.ID] {
				t.Fatalf("ID %d given twice", e.ID)
			}
			seen[e.ID] = true
		}
	}},
}
