package sqlite_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
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

func mustPrepare(t *testing.T, events ...mapping.Event) []ledger.PreparedEvent {
	t.Helper()
	p, err := ledger.PrepareEvents(events, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
