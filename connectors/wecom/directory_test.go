package wecom

import (
	"context"
	"testing"

	wt "github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/identity"
)

func TestUsersFromExtattr(t *testing.T) {
	company := wt.GenerateCompany(51, 45, monday, 0, wt.WithUnmappedUsers(3))
	e := newEnv(t, company, nil, nil)
	users, err := e.conn.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(company.Users) {
		t.Fatalf("users = %d, want %d", len(users), len(company.Users))
	}
	for i, u := range users {
		want := company.Users[i]
		if u.UserID != want.UserID || u.Name != want.Name || u.JobNumber != want.JobNumber || len(u.Departments) != len(want.Departments) {
			t.Errorf("user %d = %+v, want %+v", i, u, want)
		}
		if identity.Field("job_number").Of(u) != want.JobNumber || u.Attrs["岗位级别"] != "P5" {
			t.Errorf("user %s: identity %q, attrs %v", u.UserID, identity.Field("job_number").Of(u), u.Attrs)
		}
		if _, ok := u.Attrs["个人主页"]; ok {
			t.Errorf("user %s: a web attribute became an attr", u.UserID)
		}
	}
	if users[44].JobNumber != "" || users[41].JobNumber == "" {
		t.Error("unmapped users are not the last three")
	}
	if got := e.srv.Calls(wt.APIUserGet); got != 45 {
		t.Errorf("user/get calls = %d, want one per member", got)
	}
}

func TestUsersFromRoster(t *testing.T) {
	company := wt.GenerateCompany(52, 12, monday, 0, wt.WithUnmappedUsers(1))
	e := newEnv(t, company, nil, func(c *Config) { c.EmployeeField = "hr:12024" })
	users, err := e.conn.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		if u.JobNumber != company.Users[i].JobNumber || u.Attrs["hr:12024"] != company.Users[i].JobNumber {
			t.Errorf("user %s: %q %v, want %q", u.UserID, u.JobNumber, u.Attrs, company.Users[i].JobNumber)
		}
	}
	if e.srv.Calls(wt.APIStaffInfo) != 12 || e.srv.Calls(wt.APIUserGet) != 0 {
		t.Errorf("calls: roster %d, user/get %d", e.srv.Calls(wt.APIStaffInfo), e.srv.Calls(wt.APIUserGet))
	}
	// A roster field the corp does not have leaves the number empty.
	e = newEnv(t, company, nil, func(c *Config) { c.EmployeeField = "hr:99999" })
	users, err = e.conn.Users(context.Background())
	if err != nil || users[0].JobNumber != "" {
		t.Fatalf("unknown field: %v %+v", err, users[0])
	}
}

func TestListUserIDsPages(t *testing.T) {
	company := wt.GenerateCompany(53, 10_050, monday, 0)
	e := newEnv(t, company, nil, nil)
	ids, depts, err := e.conn.listUserIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 10_050 || e.srv.Calls(wt.APIUserListID) != 2 {
		t.Fatalf("ids %d in %d calls, want 10050 in 2 (a user per department row, 10000 rows a page)", len(ids), e.srv.Calls(wt.APIUserListID))
	}
	if len(depts["user00040"]) != 2 {
		t.Errorf("user00040 departments = %v, want two", depts["user00040"])
	}
}
