package revisions

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

func punch(employee string, minute int) mapping.Event {
	return mapping.Event{ID: "dingtalk/t/punch/1", Kind: mapping.KindPunch, UserID: "u1", EmployeeID: employee,
		Time: time.Date(2026, 11, 20, 9, minute, 0, 0, time.UTC)}
}

// stored returns a stored revision of e, latest or not.
func stored(t *testing.T, seq int64, number int, e mapping.Event, latest bool) *Revision {
	t.Helper()
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	r := &Revision{Seq: seq, Fingerprint: mapping.Fingerprint(e), Number: number, Employee: e.EmployeeID, Latest: latest, WasLatest: latest}
	if e.EmployeeID == "" {
		r.Body = string(body)
	}
	return r
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name      string
		stored    func(t *testing.T) []*Revision
		add       []mapping.Event
		want      ledger.AppendResult // Changed compared by length
		changed   int
		numbers   []int  // every revision's number afterwards
		latest    []bool // every revision's latest flag afterwards
		employees []string
	}{
		{"new id", func(*testing.T) []*Revision { return nil }, []mapping.Event{punch("E1", 0)},
			ledger.AppendResult{Stored: 1}, 1, []int{1}, []bool{true}, []string{"E1"}},
		{"duplicate of the stored copy", func(t *testing.T) []*Revision { return []*Revision{stored(t, 7, 1, punch("E1", 0), true)} },
			[]mapping.Event{punch("E1", 0)}, ledger.AppendResult{Duplicates: 1}, 0, []int{1}, []bool{true}, []string{"E1"}},
		{"a revision takes the latest flag", func(t *testing.T) []*Revision { return []*Revision{stored(t, 7, 1, punch("E1", 0), true)} },
			[]mapping.Event{punch("E1", 5)}, ledger.AppendResult{Revisions: 1}, 1, []int{1, 2}, []bool{false, true}, []string{"E1", "E1"}},
		{"a copy of an older revision is a duplicate", func(t *testing.T) []*Revision {
			return []*Revision{stored(t, 7, 1, punch("E1", 0), false), stored(t, 8, 2, punch("E1", 5), true)}
		}, []mapping.Event{punch("E1", 0)}, ledger.AppendResult{Duplicates: 1}, 0, []int{1, 2}, []bool{false, true}, []string{"E1", "E1"}},
		{"a mapped duplicate remaps the quarantined copy", func(t *testing.T) []*Revision { return []*Revision{stored(t, 7, 1, punch("", 0), true)} },
			[]mapping.Event{punch("E1", 0)}, ledger.AppendResult{Duplicates: 1}, 1, []int{1}, []bool{true}, []string{"E1"}},
		{"an unmapped duplicate leaves the quarantined copy", func(t *testing.T) []*Revision { return []*Revision{stored(t, 7, 1, punch("", 0), true)} },
			[]mapping.Event{punch("", 0)}, ledger.AppendResult{Duplicates: 1}, 0, []int{1}, []bool{true}, []string{""}},
		{"a duplicate does not move a mapped copy", func(t *testing.T) []*Revision { return []*Revision{stored(t, 7, 1, punch("E1", 0), true)} },
			[]mapping.Event{func() mapping.Event { e := punch("E1", 0); e.EmployeeID = "E2"; return e }()},
			// The fingerprint leaves the employee out: this is a copy.
			ledger.AppendResult{Duplicates: 1}, 0, []int{1}, []bool{true}, []string{"E1"}},
		{"a new unmapped revision is quarantined", func(t *testing.T) []*Revision { return nil },
			[]mapping.Event{punch("", 0)}, ledger.AppendResult{Stored: 1, Quarantined: 1}, 0, []int{1}, []bool{true}, []string{""}},
		{"two revisions in one batch", func(*testing.T) []*Revision { return nil },
			[]mapping.Event{punch("E1", 0), punch("E1", 5), punch("E1", 0)}, ledger.AppendResult{Stored: 1, Revisions: 1, Duplicates: 1}, 2,
			[]int{1, 2}, []bool{false, true}, []string{"E1", "E1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &History{Revs: tc.stored(t)}
			var res ledger.AppendResult
			for _, e := range tc.add {
				r, err := h.Add(e, mapping.Fingerprint(e), nil, &res)
				if err != nil {
					t.Fatal(err)
				}
				if r != nil && (!r.New || r.Event.ID != e.ID) {
					t.Errorf("Add returned %+v, want the new revision", r)
				}
			}
			got := res
			got.Changed = nil
			if !reflect.DeepEqual(got, tc.want) || len(res.Changed) != tc.changed {
				t.Errorf("result %+v with %d changed, want %+v with %d", got, len(res.Changed), tc.want, tc.changed)
			}
			if len(h.Revs) != len(tc.numbers) {
				t.Fatalf("%d revisions, want %d", len(h.Revs), len(tc.numbers))
			}
			for i, r := range h.Revs {
				if r.Number != tc.numbers[i] || r.Latest != tc.latest[i] || r.Employee != tc.employees[i] {
					t.Errorf("revision %d: number %d latest %v employee %q, want %d %v %q", i, r.Number, r.Latest, r.Employee, tc.numbers[i], tc.latest[i], tc.employees[i])
				}
				if r.Remapped && (r.Event == nil || r.Event.EmployeeID != r.Employee || r.JSON != nil) {
					t.Errorf("revision %d remapped to %q but its event is %+v and JSON %q", i, r.Employee, r.Event, r.JSON)
				}
			}
		})
	}
}

// TestAddDoesNotChangeTheCallersEvent: a remap within one batch changes
// the revision's copy, not the event the caller passed.
func TestAddDoesNotChangeTheCallersEvent(t *testing.T) {
	h := &History{}
	var res ledger.AppendResult
	e := punch("", 0)
	if _, err := h.Add(e, mapping.Fingerprint(e), []byte(`{}`), &res); err != nil {
		t.Fatal(err)
	}
	mapped := punch("E1", 0)
	if _, err := h.Add(mapped, mapping.Fingerprint(mapped), nil, &res); err != nil {
		t.Fatal(err)
	}
	if e.EmployeeID != "" || h.Revs[0].Employee != "E1" || h.Revs[0].JSON != nil {
		t.Errorf("caller's event %q, revision %q with JSON %q; want the caller's unchanged and the revision remapped without its prepared JSON",
			e.EmployeeID, h.Revs[0].Employee, h.Revs[0].JSON)
	}
	if h.SeqOf(mapping.Fingerprint(e)) != 0 || h.SeqOf("none") != 0 {
		t.Error("SeqOf of a revision without a row is not 0")
	}
}

func TestRemapOfAnUndecodableBody(t *testing.T) {
	h := &History{Revs: []*Revision{{Seq: 3, Fingerprint: "fp", Number: 1, Latest: true, Body: "{"}}}
	var res ledger.AppendResult
	if _, err := h.Add(punch("E1", 0), "fp", nil, &res); err == nil {
		t.Error("a stored body that is not JSON was remapped without an error")
	}
}
