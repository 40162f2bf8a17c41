// Package revisions works out what a batch of events does to the stored
// revisions of their ids: which events are duplicates, which add a
// revision (and take the latest flag from the one before), and which
// quarantined copies a duplicate remaps to the employee it brings. The
// SQLite and PostgreSQL ledgers read the stored revisions of a batch's ids,
// apply the batch here, in memory, and write what changed.
package revisions

import (
	"fmt"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

// Revision is one stored or new revision of an event id, as the batch
// leaves it.
type Revision struct {
	Seq         int64 // the stored row; for a new one, whatever the backend assigns
	Fingerprint string
	Number      int
	Employee    string
	Latest      bool
	WasLatest   bool           // stored: the flag as stored
	Body        string         // stored without an employee: the stored JSON, for a remap
	Event       *mapping.Event // new, and stored once remapped
	JSON        []byte         // new: the event's JSON as its caller prepared it, if it did
	New         bool           // added by this batch
	Remapped    bool           // given an employee by this batch
}

// History is every revision of one id.
type History struct{ Revs []*Revision }

// Add applies one event with fingerprint fp (and, if prepared, its JSON)
// to the id's history, counts it in res, and returns the revision it adds,
// or nil for a duplicate.
//
// A duplicate normally changes nothing. One exception: when the stored
// copies of an id have no employee id and the new copy has one (the user
// was mapped since the first copy arrived), they are remapped to it, and if
// that takes the latest revision out of quarantine it is listed in
// res.Changed. A duplicate naming another employee than a mapped copy does
// not move it. A copy identical to an older revision is a duplicate too.
func (h *History) Add(e mapping.Event, fp string, js []byte, res *ledger.AppendResult) (*Revision, error) {
	for _, r := range h.Revs {
		if r.Fingerprint == fp {
			res.Duplicates++
			return nil, h.remap(e.EmployeeID, res)
		}
	}
	maxRev := 0
	for _, r := range h.Revs {
		maxRev = max(maxRev, r.Number)
		r.Latest = false
	}
	if maxRev > 0 {
		res.Revisions++
	} else {
		res.Stored++
	}
	ev := e // a remap must not change the caller's event
	r := &Revision{Fingerprint: fp, Number: maxRev + 1, Employee: e.EmployeeID, Latest: true, Event: &ev, JSON: js, New: true}
	h.Revs = append(h.Revs, r)
	if e.EmployeeID == "" {
		res.Quarantined++
	} else {
		res.Changed = append(res.Changed, e)
	}
	return r, nil
}

// remap gives the quarantined revisions the employee id a duplicate
// brought, listing the latest revision in Changed if it was among them.
func (h *History) remap(employee string, res *ledger.AppendResult) error {
	if employee == "" {
		return nil
	}
	for _, r := range h.Revs {
		if r.Employee != "" {
			continue
		}
		if r.Event == nil {
			var e mapping.Event
			if err := mapping.UnmarshalEvent([]byte(r.Body), &e); err != nil {
				return fmt.Errorf("decode stored revision %d (row %d): %w", r.Number, r.Seq, err)
			}
			r.Event = &e
		}
		r.Event.EmployeeID, r.Employee, r.Remapped = employee, employee, true
		r.JSON = nil // the prepared JSON names no employee
		if r.Latest {
			res.Changed = append(res.Changed, *r.Event)
		}
	}
	return nil
}

// SeqOf returns the row of the revision with fingerprint fp, 0 if there is
// none.
func (h *History) SeqOf(fp string) int64 {
	for _, r := range h.Revs {
		if r.Fingerprint == fp {
			return r.Seq
		}
	}
	return 0
}
