package dingtalk

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	dt "github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
)

func TestUsersWalksTheTreeAndMergesDepartments(t *testing.T) {
	// 1 → 2 → 3 → 4 and 1 → 5; "twice" sits in 4 and 5; department 3 has
	// 230 members, three pages of 100.
	c := dt.Company{
		CorpID: "dingx",
		Depts:  []dt.Dept{{ID: 1}, {ID: 2, Parent: 1}, {ID: 3, Parent: 2}, {ID: 4, Parent: 3}, {ID: 5, Parent: 1}},
		Users: []dt.User{
			{UserID: "boss", Name: "王总", JobNumber: "E0001", Depts: []int64{1}},
			{UserID: "twice", Name: "李四", JobNumber: "E0002", Depts: []int64{4, 5}},
			{UserID: "nojob", Name: "张三", Depts: []int64{4}},
		},
	}
	for i := 0; i < 230; i++ {
		c.Users = append(c.Users, dt.User{UserID: fmt.Sprintf("m%03d", i), JobNumber: fmt.Sprintf("E%04d", 100+i), Depts: []int64{3}})
	}
	e := newEnv(t, c, nil, nil)
	users, err := e.conn.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(c.Users) {
		t.Fatalf("users = %d, want %d", len(users), len(c.Users))
	}
	byID := map[string]int{}
	for i, u := range users {
		if _, dup := byID[u.UserID]; dup {
			t.Fatalf("user %s reported twice", u.UserID)
		}
		byID[u.UserID] = i
	}
	twice := users[byID["twice"]]
	if !reflect.DeepEqual(twice.Departments, []string{"4", "5"}) || twice.JobNumber != "E0002" || twice.Name != "李四" {
		t.Errorf("twice = %+v, want departments [4 5] and job number E0002", twice)
	}
	if u := users[byID["nojob"]]; u.JobNumber != "" {
		t.Errorf("nojob has job number %q", u.JobNumber)
	}
	if u := users[byID["m229"]]; u.JobNumber != "E0329" {
		t.Errorf("m229 = %+v", u)
	}
	if got := e.srv.Calls(dt.APIListSubDept); got != 5 {
		t.Errorf("listsubid calls = %d, want 5 (one per department)", got)
	}
	// One page for departments 1, 2, 4 and 5, three for department 3.
	if got := e.srv.Calls(dt.APIUserList); got != 7 {
		t.Errorf("user/list calls = %d, want 7", got)
	}
}

func TestUsersFromAConfiguredRoot(t *testing.T) {
	c := dt.Company{
		CorpID: "dingx",
		Depts:  []dt.Dept{{ID: 1}, {ID: 2, Parent: 1}, {ID: 3, Parent: 2}, {ID: 5, Parent: 1}},
		Users: []dt.User{
			{UserID: "a", Depts: []int64{3}},
			{UserID: "b", Depts: []int64{5}},
		},
	}
	e := newEnv(t, c, nil, func(cfg *Config) { cfg.RootDept = 2 })
	users, err := e.conn.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].UserID != "a" {
		t.Errorf("users under department 2 = %+v, want only a", users)
	}
}

// TestUsersReusesAWalk: a run maps identities and then pulls; the second
// listing within directory_ttl costs no call, a later one walks again.
func TestUsersReusesAWalk(t *testing.T) {
	c := dt.Company{
		CorpID: "dingx",
		Depts:  []dt.Dept{{ID: 1}, {ID: 2, Parent: 1}},
		Users:  []dt.User{{UserID: "a", JobNumber: "E1", Depts: []int64{1}}, {UserID: "b", JobNumber: "E2", Depts: []int64{2}}},
	}
	e := newEnv(t, c, nil, nil)
	walk := func() int {
		return e.srv.Calls(dt.APIUserList) + e.srv.Calls(dt.APIListSubDept)
	}
	if _, err := e.conn.Users(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := walk()
	users, err := e.conn.Users(context.Background())
	if err != nil || len(users) != 2 || walk() != first {
		t.Fatalf("second listing: %d users, %v, %d calls (first walk %d); want the walk reused", len(users), err, walk(), first)
	}
	users[0].UserID = "changed by the caller"
	if again, _ := e.conn.Users(context.Background()); again[0].UserID == "changed by the caller" {
		t.Fatal("callers share the cached slice")
	}
	e.clock.Set(e.clock.Now().Add(DefaultDirectoryTTL))
	if _, err := e.conn.Users(context.Background()); err != nil || walk() != 2*first {
		t.Fatalf("after directory_ttl: %v, %d calls; want a new walk (%d)", err, walk(), 2*first)
	}
}
