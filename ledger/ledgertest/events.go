package ledgertest

import (
	"slices"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/mapping"
)

var eventTests = []test{
	{"new events are stored and round-trip byte for byte", func(t *testing.T, l ledger.Ledger) {
		in := punch(1, "u1", "E1", at(20, 9, 2))
		out := punch(2, "u1", "E1", at(20, 18, 5))
		out.Punch.Direction, out.Punch.Lat, out.Punch.Lng = mapping.DirOut, nil, nil
		leave := approval(3, "u1", "E1", mapping.StatusApproved, at(19, 17, 0), at(20, 13, 0), at(20, 15, 0))
		res := mustAppend(t, l, out, in, leave)
		checkCounts(t, res, 3, 0, 0, 0)
		sameEventSet(t, "Changed", res.Changed, []mapping.Event{out, in, leave})
		got, err := l.Events(t.Context(), "E1", at(20, 0, 0), at(21, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		// The leave was decided the day before; it is listed by its time.
		sameEvents(t, "Events", got, []mapping.Event{leave, in, out})
	}},
	{"an empty batch changes nothing", func(t *testing.T, l ledger.Ledger) {
		res, err := l.Append(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkCounts(t, res, 0, 0, 0, 0)
		if len(res.Changed) != 0 {
			t.Errorf("Changed = %d events, want none", len(res.Changed))
		}
	}},
	{"a second copy is a duplicate, however it arrived", func(t *testing.T, l ledger.Ledger) {
		first := punch(1, "u1", "E1", at(20, 9, 0))
		mustAppend(t, l, first)
		again := first
		again.Via, again.Connector, again.ReceivedAt = mapping.ViaWebhook, "dingtalk-hook", first.ReceivedAt.Add(time.Hour)
		res := mustAppend(t, l, first, again)
		checkCounts(t, res, 0, 0, 2, 0)
		if len(res.Changed) != 0 {
			t.Errorf("Changed = %d events, want none for duplicates", len(res.Changed))
		}
		got, err := l.Events(t.Context(), "E1", at(20, 0, 0), at(21, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "Events keeps the first copy", got, []mapping.Event{first})
	}},
	{"new content under a known id is a revision and the latest wins", func(t *testing.T, l ledger.Ledger) {
		pending := approval(7, "u1", "E1", mapping.StatusPending, at(18, 10, 0), at(20, 9, 0), at(20, 18, 0))
		approved := approval(7, "u1", "E1", mapping.StatusApproved, at(19, 11, 0), at(20, 9, 0), at(20, 18, 0))
		checkCounts(t, mustAppend(t, l, pending), 1, 0, 0, 0)
		res := mustAppend(t, l, approved)
		checkCounts(t, res, 0, 1, 0, 0)
		sameEvents(t, "Changed", res.Changed, []mapping.Event{approved})
		// A stale copy of the first revision is a duplicate, not a rollback.
		checkCounts(t, mustAppend(t, l, pending), 0, 0, 1, 0)
		got, err := l.Events(t.Context(), "E1", at(18, 0, 0), at(21, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "Events", got, []mapping.Event{approved})
	}},
	{"one batch can hold a copy and a revision of its own events", func(t *testing.T, l ledger.Ledger) {
		p := punch(1, "u1", "E1", at(20, 9, 0))
		moved := p
		moved.Time = at(20, 9, 1)
		res := mustAppend(t, l, p, p, moved)
		checkCounts(t, res, 1, 1, 1, 0)
		got, err := l.Events(t.Context(), "E1", at(20, 0, 0), at(21, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "Events", got, []mapping.Event{moved})
	}},
	{"a revision moved out of the range leaves it", func(t *testing.T, l ledger.Ledger) {
		p := punch(1, "u1", "E1", at(20, 23, 59))
		moved := p
		moved.Time, moved.ReceivedAt = at(21, 0, 1), at(21, 0, 2)
		mustAppend(t, l, p)
		mustAppend(t, l, moved)
		for _, tc := range []struct {
			from, to time.Time
			want     []mapping.Event
		}{
			{at(20, 0, 0), at(21, 0, 0), nil},
			{at(21, 0, 0), at(22, 0, 0), []mapping.Event{moved}},
		} {
			got, err := l.Events(t.Context(), "E1", tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			sameEvents(t, "Events from "+tc.from.String(), got, tc.want)
		}
	}},
	{"Events takes [from, to) in time then id order, for one employee", func(t *testing.T, l ledger.Ledger) {
		atFrom := punch(10, "u1", "E1", at(20, 0, 0))
		sameTimeB := punch(12, "u1", "E1", at(20, 9, 0))
		sameTimeA := punch(11, "u1", "E1", at(20, 9, 0))
		atTo := punch(13, "u1", "E1", at(21, 0, 0))
		before := punch(14, "u1", "E1", at(19, 23, 59))
		other := punch(15, "u2", "E2", at(20, 10, 0))
		mustAppend(t, l, sameTimeB, atTo, other, atFrom, before, sameTimeA)
		got, err := l.Events(t.Context(), "E1", at(20, 0, 0), at(21, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "Events", got, []mapping.Event{atFrom, sameTimeA, sameTimeB})
		none, err := l.Events(t.Context(), "E404", at(1, 0, 0), at(30, 0, 0))
		if err != nil || len(none) != 0 {
			t.Errorf("Events of an unknown employee = %d events, %v; want none, nil", len(none), err)
		}
	}},
	{"Events finds every day of a long or open range", func(t *testing.T, l ledger.Ledger) {
		// Days apart, across a month's end, and at both ends of a day in
		// the employee's zone (a UTC day apart), with an approval decided
		// long before.
		var punches []mapping.Event
		for i, tm := range []time.Time{at(2, 0, 0), at(2, 23, 59), at(30, 12, 0), at(30, 0, 0).AddDate(0, 1, 5), at(30, 0, 0).AddDate(1, 0, 0)} {
			punches = append(punches, punch(i+1, "u1", "E1", tm))
		}
		leave := approval(9, "u1", "E1", mapping.StatusApproved, at(1, 9, 0).AddDate(-1, 0, 0), at(29, 9, 0), at(29, 18, 0))
		mustAppend(t, l, append([]mapping.Event{leave}, punches...)...)
		for _, tc := range []struct {
			name     string
			from, to time.Time
			want     []mapping.Event
		}{
			{"open", time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), append([]mapping.Event{leave}, punches...)},
			{"one day", at(2, 0, 0), at(3, 0, 0), punches[:2]},
			{"weeks", at(2, 0, 1), at(30, 0, 0).AddDate(0, 2, 0), []mapping.Event{leave, punches[1], punches[2], punches[3]}},
			{"before every event", at(1, 0, 0).AddDate(-2, 0, 0), at(1, 0, 0).AddDate(-1, 0, 0), nil},
			{"after every event", at(1, 0, 0).AddDate(2, 0, 0), at(1, 0, 0).AddDate(3, 0, 0), nil},
		} {
			got, err := l.Events(t.Context(), "E1", tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			sameEvents(t, "Events over "+tc.name, got, tc.want)
		}
	}},
	{"approvals overlapping the range are returned wherever their time lies", func(t *testing.T, l ledger.Ledger) {
		from, to := at(20, 0, 0), at(21, 0, 0)
		spanning := approval(1, "u1", "E1", mapping.StatusApproved, at(10, 9, 0), at(19, 0, 0), at(23, 0, 0))
		endsAtFrom := approval(2, "u1", "E1", mapping.StatusApproved, at(10, 9, 1), at(19, 9, 0), from)
		startsAtTo := approval(3, "u1", "E1", mapping.StatusApproved, at(10, 9, 2), to, at(21, 18, 0))
		before := approval(4, "u1", "E1", mapping.StatusApproved, at(10, 9, 3), at(18, 9, 0), at(19, 18, 0))
		decidedInside := approval(5, "u1", "E1", mapping.StatusApproved, at(20, 12, 0), at(25, 9, 0), at(25, 18, 0))
		p := punch(6, "u1", "E1", at(20, 9, 0))
		mustAppend(t, l, spanning, endsAtFrom, startsAtTo, before, decidedInside, p)
		got, err := l.Events(t.Context(), "E1", from, to)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "Events", got, []mapping.Event{spanning, endsAtFrom, p, decidedInside})
	}},
	{"Employees lists each employee with events once, sorted", func(t *testing.T, l ledger.Ledger) {
		mustAppend(t, l, punch(1, "u2", "E2", at(20, 9, 0)), punch(2, "u1", "E1", at(20, 9, 0)),
			punch(3, "u2", "E2", at(20, 18, 0)), punch(4, "u9", "", at(20, 9, 0)))
		got, err := l.Employees(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"E1", "E2"}; !slices.Equal(got, want) {
			t.Errorf("Employees = %v, want %v", got, want)
		}
	}},
}

var rejectionTests = []test{
	{"rejections keep their reason and raw bytes, listed from since", func(t *testing.T, l ledger.Ledger) {
		rs := []ledger.Rejection{
			{ID: "dingtalk/ding5f3a/punch/1", Connector: "dingtalk-hq", Reason: `punch.lat="91": must be within [-90, 90]`, Raw: []byte(`{"id":"x","lat":91}`), ReceivedAt: at(20, 9, 0)},
			{ID: "", Connector: "wecom-sh", Reason: "(event): is not a JSON object", Raw: []byte("\x00not json"), ReceivedAt: at(20, 10, 0)},
			{ID: "dingtalk/ding5f3a/punch/3", Connector: "dingtalk-hq", Reason: "via: is required", Raw: []byte(`{}`), ReceivedAt: at(20, 11, 0)},
		}
		if err := l.Reject(t.Context(), rs[1:]); err != nil {
			t.Fatal(err)
		}
		if err := l.Reject(t.Context(), rs[:1]); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			since time.Time
			limit int
			want  []ledger.Rejection
		}{
			{time.Time{}, 0, rs},
			{at(20, 10, 0), 0, rs[1:]},
			{at(20, 10, 0), 1, rs[1:2]},
			{at(20, 11, 1), 10, nil},
		} {
			got, err := l.Rejections(t.Context(), tc.since, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Rejections(%v, %d) = %d, want %d", tc.since, tc.limit, len(got), len(tc.want))
			}
			for i, r := range got {
				w := tc.want[i]
				if r.ID != w.ID || r.Connector != w.Connector || r.Reason != w.Reason || string(r.Raw) != string(w.Raw) || !r.ReceivedAt.Equal(w.ReceivedAt) {
					t.Errorf("Rejections(%v, %d)[%d] = %+v, want %+v", tc.since, tc.limit, i, r, w)
				}
			}
		}
	}},
}
