// Package ledgertest is the conformance suite every ledger.Ledger backend
// runs, so that SQLite and PostgreSQL keep one contract.
//
// A backend's test calls Run with a function that opens a fresh, empty
// ledger per test:
//
//	func TestConformance(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T) ledger.Ledger {
//			l, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return l
//		})
//	}
//
// The suite covers every method: duplicates against revisions, quarantine
// and remapping, the latest revision winning in Events, approvals that
// overlap a range, day-record versions, dirty days, checkpoints, the outbox
// and its delivery log, and writers racing on the same data.
//
// Beyond the interface's doc comments it pins these conventions down:
// a limit of 0 or less means no limit; results are ordered as each method
// says (Changed and Remap in any order); a duplicate that brings an employee
// id for a quarantined event remaps it and lists it in Changed; a day marked
// dirty again after DirtyDays listed it survives ClearDirty; MarkFailed on a
// delivered entry leaves it delivered; MarkDelivered and MarkFailed on an
// unknown entry return ledger.ErrNotFound. Times in the suite are whole
// seconds, which every backend stores exactly.
package ledgertest
