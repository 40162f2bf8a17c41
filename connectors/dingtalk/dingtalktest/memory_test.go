package dingtalktest

import (
	"reflect"
	"runtime"
	"testing"
	"time"
	"weak"
)

// listAll asks listRecord for every user of users over [from, to), a week
// and MaxUsersPerCall users at a time, and returns the answers in order.
func listAll(t *testing.T, s *Server, users []User, from, to time.Time) []answer {
	t.Helper()
	tok := token(t, s)
	var out []answer
	for day := from; day.Before(to); day = day.AddDate(0, 0, 7) {
		for i := 0; i < len(users); i += MaxUsersPerCall {
			var ids []string
			for _, u := range users[i:min(i+MaxUsersPerCall, len(users))] {
				ids = append(ids, u.UserID)
			}
			out = append(out, post(t, s, APIListRecord, tok, map[string]any{
				"userIds":       ids,
				"checkDateFrom": day.Format(dateTimeLayout),
				"checkDateTo":   day.AddDate(0, 0, 7).Format(dateTimeLayout),
			}))
		}
	}
	return out
}

func TestWithGeneratedCompanyServesTheSame(t *testing.T) {
	for name, tc := range map[string]struct {
		seed      int64
		employees int
		from      time.Time
		days      int
		opts      []GenOption
	}{
		"one user, one week":    {seed: 1, employees: 1, from: monday, days: 7},
		"two pages of users":    {seed: 2, employees: 60, from: monday, days: 10},
		"month with options":    {seed: 3, employees: 25, from: monday, days: 28, opts: []GenOption{WithCorpID("dingother"), WithUnmappedUsers(2)}},
		"starts on a weekend":   {seed: 4, employees: 8, from: monday.AddDate(0, 0, -2), days: 9},
		"no work day generated": {seed: 5, employees: 3, from: monday, days: 0},
	} {
		t.Run(name, func(t *testing.T) {
			c := GenerateCompany(tc.seed, tc.employees, tc.from, tc.days, tc.opts...)
			want, _ := newTestServer(t, WithCompany(c))
			got, _ := newTestServer(t, WithGeneratedCompany(tc.seed, tc.employees, tc.from, tc.days, tc.opts...))

			a, b := listAll(t, want, c.Users, c.From, c.To), listAll(t, got, c.Users, c.From, c.To)
			served := 0
			for _, ans := range a {
				if ans.code() != 0 {
					t.Fatalf("WithCompany server: %v", ans)
				}
				recs, _ := ans["recordresult"].([]any)
				served += len(recs)
			}
			if served < len(c.Records) {
				t.Fatalf("WithCompany server served %d records, want all %d", served, len(c.Records))
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("WithGeneratedCompany answers differ from WithCompany(GenerateCompany(...)):\ngot  %v\nwant %v", b, a)
			}
			if !reflect.DeepEqual(got.Users(), c.Users) {
				t.Errorf("Users() = %v, want %v", got.Users(), c.Users)
			}
			if !reflect.DeepEqual(got.WorkDays(), c.WorkDays) {
				t.Errorf("WorkDays() = %v, want %v", got.WorkDays(), c.WorkDays)
			}
			if got.RecordCount() != len(c.Records) {
				t.Errorf("RecordCount() = %d, want %d", got.RecordCount(), len(c.Records))
			}
			if got.CorpID() != c.CorpID {
				t.Errorf("CorpID() = %q, want %q", got.CorpID(), c.CorpID)
			}
		})
	}
}

func TestUsersAndWorkDaysAreCopies(t *testing.T) {
	s, _ := newTestServer(t, WithGeneratedCompany(1, 3, monday, 7))
	users, days := s.Users(), s.WorkDays()
	if len(users) != 3 || len(days) != 5 {
		t.Fatalf("Users() has %d, WorkDays() %d; want 3 and 5", len(users), len(days))
	}
	users[0].Name, users[0].Depts[0], days[0] = "changed", -1, "changed"
	if u := s.Users()[0]; u.Name == "changed" || u.Depts[0] == -1 {
		t.Errorf("changing Users()'s result changed the server's user: %+v", u)
	}
	if d := s.WorkDays()[0]; d == "changed" {
		t.Errorf("changing WorkDays()'s result changed the server's work days")
	}
}

// TestListRecordOrder checks that the per-user index serves each user's
// records by CheckTime, then ID, whatever their order in Company.Records or
// AddRecords.
func TestListRecordOrder(t *testing.T) {
	at := func(h int) time.Time { return monday.Add(time.Duration(h) * time.Hour) }
	c := Company{CorpID: "dingx", Depts: []Dept{{ID: RootDept}}, Users: []User{{UserID: "u1", Depts: []int64{RootDept}}, {UserID: "u2", Depts: []int64{RootDept}}}}
	c.Records = []Record{
		{ID: 30, UserID: "u1", CheckTime: at(18)},
		{ID: 31, UserID: "u2", CheckTime: at(10)},
		{ID: 22, UserID: "u1", CheckTime: at(9)},
		{ID: 20, UserID: "u1", CheckTime: at(9)},
		{ID: 32, UserID: "u2", CheckTime: at(8)},
	}
	s, _ := newTestServer(t, WithCompany(c))
	ids := func() []any {
		a := post(t, s, APIListRecord, token(t, s), map[string]any{"userIds": []string{"u1", "u2"}, "checkDateFrom": "2026-03-02 00:00:00", "checkDateTo": "2026-03-03 00:00:00"})
		var out []any
		recs, _ := a["recordresult"].([]any)
		for _, r := range recs {
			out = append(out, r.(map[string]any)["id"])
		}
		return out
	}
	for _, step := range []struct {
		add  []Record
		want []any
	}{
		{want: []any{float64(20), float64(22), float64(30), float64(32), "31"}},
		{add: []Record{{ID: 21, UserID: "u1", CheckTime: at(9)}, {ID: 40, UserID: "u2", CheckTime: at(7)}},
			want: []any{float64(20), "21", float64(22), float64(30), float64(40), float64(32), "31"}},
	} {
		s.AddRecords(step.add...)
		if got := ids(); !reflect.DeepEqual(got, step.want) {
			t.Errorf("after adding %d records: ids = %v, want %v", len(step.add), got, step.want)
		}
	}
}

func TestGenerateCompanySizesRecordsOnce(t *testing.T) {
	for _, tc := range []struct{ employees, days int }{{1, 7}, {40, 31}, {500, 31}} {
		c := GenerateCompany(1, tc.employees, monday, tc.days)
		if want := recordsCap(tc.employees * len(c.WorkDays)); cap(c.Records) != want || len(c.Records) > want {
			t.Errorf("%d employees × %d days: %d records in capacity %d, want capacity %d (sized once, never grown)",
				tc.employees, tc.days, len(c.Records), cap(c.Records), want)
		}
	}
}

// liveHeap is the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapPerRecord is the live heap start adds, per record served. Before it
// returns it waits until the closed server is collected (httptest's serve
// goroutine lets go of it shortly after Close), so that the next
// measurement starts from the same heap.
func heapPerRecord(start func() (*Server, any)) float64 {
	before := liveHeap()
	s, callers := start()
	grown := liveHeap() - before
	runtime.KeepAlive(callers)
	perRecord := float64(grown) / float64(s.RecordCount())
	gone := weak.Make(s)
	s.Close()
	for deadline := time.Now().Add(5 * time.Second); gone.Value() != nil && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		runtime.GC()
	}
	return perRecord
}

// BenchmarkServerMemory reports the live heap a served generated company
// takes per record: with WithCompany, the caller's company (which it keeps,
// as `punchbridge demo` did) included.
func BenchmarkServerMemory(b *testing.B) {
	const employees, days = 1000, 31
	for name, start := range map[string]func() (*Server, any){
		"WithCompany": func() (*Server, any) {
			c := GenerateCompany(1, employees, monday, days)
			return NewServer(WithCompany(c)), c
		},
		"WithGeneratedCompany": func() (*Server, any) {
			return NewServer(WithGeneratedCompany(1, employees, monday, days)), nil
		},
	} {
		b.Run(name, func(b *testing.B) {
			var perRecord float64
			for range b.N {
				perRecord = heapPerRecord(start)
			}
			b.ReportMetric(perRecord, "bytes/record")
		})
	}
}
