package sqlite_test

import (
	"testing"

	"github.com/punchbridge/punchbridge/ledger/sqlite"
)

// keyDays opens a new ledger's file and returns a function that stores a
// row with the given id and reads back the id_day SQLite computed for it.
func keyDays(t testing.TB) func(t testing.TB, id string) int64 {
	t.Helper()
	db := newLedgerDB(t)
	seq := 0
	return func(t testing.TB, id string) int64 {
		seq++
		var day int64
		err := db.QueryRow(`INSERT INTO events (seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
			employee_id, time_ms, body, created_ms) VALUES (?1, ?2, ?1, 1, 1, 'punch', 'p', 't', 'u', 'E1', 0, '{}', 0)
			RETURNING id_day`, seq, id).Scan(&day) // a fingerprint of its own: an id may come again
		if err != nil {
			t.Fatalf("store %q: %v", id, err)
		}
		return day
	}
}

// TestEventKeyDayIsTheColumn holds the day the writer computes for an id
// to the one SQLite stores in the events' key: a difference would make a
// lookup miss an id's stored revisions and store a duplicate.
func TestEventKeyDayIsTheColumn(t *testing.T) {
	stored := keyDays(t)
	for _, tc := range []struct {
		id   string
		want int64
	}{
		{"dingtalk/ding5f3a/punch/user01043-1790124755594", 1790124755594 / 86400000},
		{"dingtalk/ding5f3a/punch/-0000000000000", 0},
		{"dingtalk/ding5f3a/punch/u-9999999999999", 9999999999999 / 86400000},
		{"dingtalk/ding5f3a/punch/王小明-1790124755594", 1790124755594 / 86400000},
		{"wecom/ww1/punch/zhangsan-1790124755-on", 0},
		{"dingtalk/ding5f3a/approval/proc-inst-0001", 0},
		{"x-179012475559", 0},   // 12 digits
		{"x-17901247555941", 0}, // 14 digits
		{"x_1790124755594", 0},  // no '-'
		{"1790124755594", 0},    // nothing before the digits
		{"-1790124755594", 1790124755594 / 86400000},
		{"x-17901247555a4", 0},
		{"x-１７９０１２４７５５５９４", 0},                               // full-width digits are not digits
		{"\x88\x9d-1000000000000", 1000000000000 / 86400000}, // not UTF-8: read byte by byte
		{"", 0},
	} {
		got, col := sqlite.EventKeyDay(tc.id), stored(t, tc.id)
		if got != tc.want || col != tc.want {
			t.Errorf("id %q: eventKeyDay %d, the column %d; want %d", tc.id, got, col, tc.want)
		}
	}
}

// FuzzEventKeyDay holds eventKeyDay to the column's SQL expression for
// any id.
func FuzzEventKeyDay(f *testing.F) {
	for _, id := range []string{"dingtalk/c/punch/u-1790124755594", "a-12", "-0000000000001", "\xff-1790124755594", "x-1790124755594-on"} {
		f.Add(id)
	}
	stored := keyDays(f)
	f.Fuzz(func(t *testing.T, id string) {
		if got, col := sqlite.EventKeyDay(id), stored(t, id); got != col {
			t.Errorf("id %q: eventKeyDay %d, the column %d", id, got, col)
		}
	})
}
