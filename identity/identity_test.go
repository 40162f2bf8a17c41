package identity_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/frappetest"
	"github.com/punchbridge/punchbridge/identity"
	"github.com/punchbridge/punchbridge/ingest"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

var cst = time.FixedZone("CST", 8*3600)

// directory is a fake platform directory.
type directory struct {
	mu    sync.Mutex
	users []connectors.User
	fail  error
}

func (d *directory) Name() string     { return "dingtalk-hq" }
func (d *directory) Platform() string { return "dingtalk" }
func (d *directory) Tenant() string   { return "ding5f3a" }
func (d *directory) Users(context.Context) ([]connectors.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]connectors.User(nil), d.users...), d.fail
}

// dayCalendar says an instant affects its own UTC+8 date.
type dayCalendar struct{}

func (dayCalendar) DatesFor(_ string, t time.Time) []string {
	return []string{t.In(cst).Format(time.DateOnly)}
}
func (c dayCalendar) DatesBetween(emp string, start, _ time.Time) []string {
	return c.DatesFor(emp, start)
}

// recorder wraps a Remapper and records whom it was asked to re-map.
type recorder struct {
	identity.Remapper
	users []string
}

func (r *recorder) Remap(ctx context.Context, platform, tenant, user string) (int, error) {
	r.users = append(r.users, user)
	return r.Remapper.Remap(ctx, platform, tenant, user)
}

func writeTable(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func punch(user string, hour int) mapping.Event {
	at := time.Date(2026, 11, 20, hour, 0, 0, 0, cst)
	return mapping.Event{
		Schema: mapping.EventSchema, ID: "dingtalk/ding5f3a/punch/" + user + "-" + at.Format("15"), Kind: mapping.KindPunch,
		Platform: "dingtalk", Connector: "dingtalk-hq", Tenant: "ding5f3a", UserID: user, Time: at, ReceivedAt: at, Via: mapping.ViaPull,
		Punch: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp},
	}
}

// TestChangeRemapsExactlyTheAffectedUsers: HR's table first maps only
// u1; the other users' punches wait in quarantine. A new table maps u2 and
// u3: exactly their quarantined events are re-mapped and their days
// marked for reconciliation; u4 stays in quarantine, u1 is not touched,
// and a refresh without change re-maps nothing.
func TestChangeRemapsExactlyTheAffectedUsers(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	l, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ids := mapping.NewIdentities()
	in := ingest.New(l, ids, dayCalendar{}, nil)
	d := &directory{users: []connectors.User{
		{UserID: "u1", Mobile: "138 0000 0001"}, {UserID: "u2", Mobile: "13800000002"},
		{UserID: "u3", Mobile: "138-0000-0003"}, {UserID: "u4", Mobile: "13800000004"},
	}}
	table := filepath.Join(dir, "identities.csv")
	resolve := func() identity.Resolver {
		r, err := identity.New(identity.Config{Field: "mobile", Table: "identities.csv"}, dir, connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	writeTable(t, table, "\ufeffmobile,employee_id\n13800000001,E1\n")
	changes, err := identity.Refresh(ctx, []connectors.Directory{d}, resolve(), ids)
	if err != nil || len(changes) != 1 || changes[0] != (identity.Change{Platform: "dingtalk", Tenant: "ding5f3a", UserID: "u1", New: "E1"}) {
		t.Fatalf("first refresh: %+v, %v", changes, err)
	}
	var events []mapping.Event
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		events = append(events, punch(u, 9), punch(u, 18))
	}
	c, err := in.Ingest(ctx, events)
	if err != nil || c.Quarantined != 6 {
		t.Fatalf("ingest: %+v, %v; want u2..u4's six punches quarantined", c, err)
	}
	if err := l.ClearDirty(ctx, []ledger.DirtyDay{{EmployeeDay: mapping.EmployeeDay{EmployeeID: "E1", Date: "2026-11-20"}}}); err != nil {
		t.Fatal(err)
	}

	writeTable(t, table, "mobile,employee_id\n13800000001,E1\n13800000002,E2\n138 0000 0003,E3\n")
	changes, err = identity.Refresh(ctx, []connectors.Directory{d}, resolve(), ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []identity.Change{
		{Platform: "dingtalk", Tenant: "ding5f3a", UserID: "u2", New: "E2"},
		{Platform: "dingtalk", Tenant: "ding5f3a", UserID: "u3", New: "E3"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes %+v, want %+v", changes, want)
	}
	rec := &recorder{Remapper: in}
	n, err := identity.Remap(ctx, rec, changes)
	if err != nil || n != 4 {
		t.Fatalf("Remap = %d, %v; want u2's and u3's four events", n, err)
	}
	if !reflect.DeepEqual(rec.users, []string{"u2", "u3"}) {
		t.Fatalf("re-mapped users %v, want exactly u2 and u3", rec.users)
	}
	q, err := l.Quarantined(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range q {
		left = append(left, e.ID)
	}
	sort.Strings(left)
	if want := []string{"dingtalk/ding5f3a/punch/u4-09", "dingtalk/ding5f3a/punch/u4-18"}; !reflect.DeepEqual(left, want) {
		t.Fatalf("quarantine holds %v, want only u4's %v", left, want)
	}
	for _, emp := range []string{"E2", "E3"} {
		got, err := l.Events(ctx, emp, time.Date(2026, 11, 20, 0, 0, 0, 0, cst), time.Date(2026, 11, 21, 0, 0, 0, 0, cst))
		if err != nil || len(got) != 2 {
			t.Fatalf("%s has %d events (%v), want its two punches", emp, len(got), err)
		}
	}
	dirty, err := l.DirtyDays(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []mapping.EmployeeDay{{EmployeeID: "E2", Date: "2026-11-20"}, {EmployeeID: "E3", Date: "2026-11-20"}}; !reflect.DeepEqual(dirty, want) {
		t.Fatalf("dirty days %v, want exactly E2's and E3's", dirty)
	}

	// Nothing changed: nothing is re-mapped, nothing is resynced.
	changes, err = identity.Refresh(ctx, []connectors.Directory{d}, resolve(), ids)
	if err != nil || len(changes) != 0 {
		t.Fatalf("refresh without change: %+v, %v", changes, err)
	}
	rec.users = nil
	if n, err := identity.Remap(ctx, rec, changes); n != 0 || err != nil || len(rec.users) != 0 {
		t.Fatalf("remap without change: %d, %v, %v", n, err, rec.users)
	}
}

func TestRefreshKeepsMappingsItCannotCheck(t *testing.T) {
	ctx := t.Context()
	ids := mapping.NewIdentities()
	ids.Set("dingtalk", "ding5f3a", "u1", "E1")
	d := &directory{users: []connectors.User{{UserID: "u1", JobNumber: "E1"}}, fail: errors.New("directory busy")}
	changes, err := identity.Refresh(ctx, []connectors.Directory{d}, identity.DirectoryField{Field: identity.FieldJobNumber}, ids)
	if err == nil || !strings.Contains(err.Error(), "directory busy") || len(changes) != 0 {
		t.Fatalf("Refresh = %v, %v; want the directory's error and no change", changes, err)
	}
	d.fail = nil
	d.users[0].JobNumber = ""
	changes, err = identity.Refresh(ctx, []connectors.Directory{d}, identity.DirectoryField{Field: identity.FieldJobNumber}, ids)
	if err != nil || len(changes) != 1 || changes[0].Old != "E1" || changes[0].New != "" {
		t.Fatalf("Refresh = %+v, %v; want u1 unmapped", changes, err)
	}
	if _, ok := ids.Lookup("dingtalk", "ding5f3a", "u1"); ok {
		t.Fatal("u1 is still mapped")
	}
	if n, err := identity.Remap(ctx, &recorder{}, changes); n != 0 || err != nil {
		t.Fatalf("an unmapped user is not re-mapped: %d %v", n, err)
	}
}

func TestField(t *testing.T) {
	u := connectors.User{UserID: "u1", JobNumber: " 1001 ", Mobile: "+86 138-0000-0001", Email: "Zhang.Wei@Example.COM", Attrs: map[string]string{"工号": "A7"}}
	for field, want := range map[string]string{"": "1001", "job_number": "1001", "mobile": "+8613800000001", "email": "zhang.wei@example.com", "user_id": "u1", "attr:工号": "A7", "attr:none": ""} {
		f, err := identity.ParseField(field)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Of(u); got != want {
			t.Errorf("%q: got %q, want %q", field, got, want)
		}
	}
	for _, bad := range []string{"phone", "attr:", "jobnumber"} {
		if _, err := identity.ParseField(bad); err == nil {
			t.Errorf("ParseField(%q) accepted", bad)
		}
	}
}

func TestTable(t *testing.T) {
	ctx := t.Context()
	tab, err := identity.ParseTable(strings.NewReader("platform,tenant,job_number,employee_id\n,,1001,E1\ndingtalk,,1001,E1-DT\ndingtalk,ding5f3a,1001,E1-HQ\n,,1002,E2\n\n"), "ids.csv", identity.FieldJobNumber)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ platform, tenant, job, want string }{
		{"dingtalk", "ding5f3a", "1001", "E1-HQ"}, {"dingtalk", "other", "1001", "E1-DT"}, {"wecom", "ww1", "1001", "E1"},
		{"wecom", "ww1", "1002", "E2"}, {"wecom", "ww1", "1003", ""}, {"wecom", "ww1", "", ""},
	} {
		got, err := tab.Resolve(ctx, tc.platform, tc.tenant, connectors.User{UserID: "x", JobNumber: tc.job})
		if err != nil || got != tc.want {
			t.Errorf("%+v: got %q, %v", tc, got, err)
		}
	}
	for name, text := range map[string]string{
		"no key column":      "mobile,employee_id\n1,E1\n",
		"no employee column": "job_number,emp\n1,E1\n",
		"duplicate":          "job_number,employee_id\n1,E1\n1,E2\n",
		"empty employee":     "job_number,employee_id\n1,\n",
	} {
		if _, err := identity.ParseTable(strings.NewReader(text), "ids.csv", identity.FieldJobNumber); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err = identity.ParseTable(strings.NewReader("job_number,employee_id\n1,E1\n2,E2\n1,E3\n"), "ids.csv", identity.FieldJobNumber)
	if err == nil || !strings.Contains(err.Error(), "ids.csv:4: job_number \"1\" is already mapped on line 2") {
		t.Fatalf("duplicate error %v does not name the lines", err)
	}
}

// TestLookupAgainstFrappe looks employees up in a fake Frappe site by
// attendance_device_id, as the Frappe preset's docs suggest.
func TestLookupAgainstFrappe(t *testing.T) {
	ctx := t.Context()
	site := frappetest.NewServer("key", "secret")
	defer site.Close()
	site.AddEmployee("HR-EMP-00001", "张伟", map[string]string{"attendance_device_id": "1001"})
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := identity.DefaultLookupConfig()
	cfg.URL = site.URL() + `/api/resource/Employee?filters=[["attendance_device_id","=","{value}"]]&fields=["name"]`
	cfg.Path, cfg.Token, cfg.AuthScheme, cfg.MissTTL, cfg.RetryWait = "data.0.name", "key:secret", "token", time.Minute, time.Millisecond
	l, err := identity.NewLookup(cfg, identity.FieldJobNumber, connectors.Deps{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	u1 := connectors.User{UserID: "u1", JobNumber: "1001"}
	u9 := connectors.User{UserID: "u9", JobNumber: "9 & 9"}
	for i := 0; i < 2; i++ {
		if got, err := l.Resolve(ctx, "dingtalk", "ding5f3a", u1); err != nil || got != "HR-EMP-00001" {
			t.Fatalf("u1: %q, %v", got, err)
		}
		if got, err := l.Resolve(ctx, "dingtalk", "ding5f3a", u9); err != nil || got != "" {
			t.Fatalf("u9: %q, %v", got, err)
		}
	}
	if l.Calls() != 2 {
		t.Fatalf("calls %d: the second round must come from the cache", l.Calls())
	}
	// HR adds the employee; once the miss expires, the lookup finds them.
	site.AddEmployee("HR-EMP-00009", "王芳", map[string]string{"attendance_device_id": "9 & 9"})
	now = now.Add(2 * time.Minute)
	if got, _ := l.Resolve(ctx, "dingtalk", "ding5f3a", u9); got != "HR-EMP-00009" {
		t.Fatalf("u9 after the miss expired: %q", got)
	}
	if got, _ := l.Resolve(ctx, "dingtalk", "ding5f3a", u1); got != "HR-EMP-00001" || l.Calls() != 3 {
		t.Fatalf("u1 is still cached: %q after %d calls", got, l.Calls())
	}
	// The site fails: the error is returned, and Refresh keeps the mapping.
	now = now.Add(2 * time.Hour)
	site.FailNext(10, http.StatusInternalServerError)
	ids := mapping.NewIdentities()
	ids.Set("dingtalk", "ding5f3a", "u1", "HR-EMP-00001")
	l2, err := identity.NewLookup(cfg, identity.FieldJobNumber, connectors.Deps{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := identity.Refresh(ctx, []connectors.Directory{&directory{users: []connectors.User{u1}}}, l2, ids)
	if err == nil || !strings.Contains(err.Error(), "answered 500") || len(changes) != 0 {
		t.Fatalf("Refresh = %+v, %v; want the site's error and the mapping kept", changes, err)
	}
}

func TestLookupConfig(t *testing.T) {
	for name, mutate := range map[string]func(*identity.LookupConfig){
		"no url":         func(c *identity.LookupConfig) { c.URL = "" },
		"no placeholder": func(c *identity.LookupConfig) { c.URL = "https://hr.example.com/employees" },
		"relative":       func(c *identity.LookupConfig) { c.URL = "/employees?q={value}" },
		"no path":        func(c *identity.LookupConfig) { c.Path = "" },
		"no timeout":     func(c *identity.LookupConfig) { c.Timeout = 0 },
		"two words":      func(c *identity.LookupConfig) { c.AuthScheme = "token x" },
		"retries":        func(c *identity.LookupConfig) { c.MaxRetries = 11 },
	} {
		cfg := identity.DefaultLookupConfig()
		cfg.URL, cfg.Path = "https://hr.example.com/employees?email={value}", "data.0.id"
		if _, err := identity.NewLookup(cfg, identity.FieldEmail, connectors.Deps{}); err != nil {
			t.Fatalf("the base config is refused: %v", err)
		}
		mutate(&cfg)
		if _, err := identity.NewLookup(cfg, identity.FieldEmail, connectors.Deps{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
