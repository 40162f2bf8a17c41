package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/mapping"
)

const testRules = `timezone: Asia/Shanghai
shifts:
  standard:
    start: "09:00"
    end: "18:00"
    checkin_opens_before: 60m
    checkout_closes_after: 60m
    late_grace: 10m
    early_exit_grace: 10m
    half_day_below: 4h
    absent_below: 2h
    directions: strict
    working_hours: first_last
    overtime: {after: 30m, requires_approval: true}
assign:
  default: standard
  rest_days: [sat, sun]
`

func punchLine(emp, id, at, dir string) string {
	return `{"schema":"punchbridge.event/v1","id":"dingtalk/c1/punch/` + id + `","kind":"punch","platform":"dingtalk","connector":"hq","tenant":"c1","user_id":"u` + emp +
		`","employee_id":"` + emp + `","time":"` + at + `","received_at":"` + at + `","via":"pull","punch":{"direction":"` + dir + `","method":"app","field":false}}`
}

func TestReconcileCommand(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rules, []byte(testRules), 0o600)
	events := filepath.Join(dir, "events.jsonl")
	lines := []string{
		punchLine("E2", "2", "2026-11-20T09:20:00+08:00", "in"),
		punchLine("E1", "1", "2026-11-20T08:58:00+08:00", "in"),
		punchLine("E1", "1b", "2026-11-20T18:02:00+08:00", "out"),
		punchLine("E1", "1", "2026-11-20T08:58:00+08:00", "in"), // a second copy changes nothing
		punchLine("E2", "3", "2026-11-20T18:30:00+08:00", "out"),
	}
	os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	roster := filepath.Join(dir, "roster.txt")
	os.WriteFile(roster, []byte("# everyone on payroll\nE1\nE2\nE3\n"), 0o600)
	out := filepath.Join(dir, "days.jsonl")

	code, stdout, stderr := runCmd(t, nil, "reconcile", "--rules", rules, "--events", events, "--employees", roster,
		"--as-of", "2026-11-21T02:00:00+08:00", "--from", "2026-11-20", "--to", "2026-11-20", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d mapping.DayRecord
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, d.EmployeeID+" "+d.Date+" "+string(d.Status)+fmt.Sprintf(" late=%t v%d", d.Late, d.Version))
	}
	want := []string{
		"E1 2026-11-20 present late=false v1",
		"E2 2026-11-20 present late=true v1",
		"E3 2026-11-20 absent late=false v1", // on the roster, no punches
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A bad line names its line number and field, exits 1 and leaves no
	// partial output behind.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(lines[0]+"\n"+strings.Replace(lines[1], `"direction":"in"`, `"direction":"sideways"`, 1)+"\n"), 0o600)
	badOut := filepath.Join(dir, "bad-days.jsonl")
	code, _, stderr = runCmd(t, nil, "reconcile", "--rules", rules, "--events", bad, "--as-of", "2026-11-21", "--out", badOut)
	if code != exitFailure || !strings.Contains(stderr, "bad.jsonl:2") || !strings.Contains(stderr, "punch.direction") {
		t.Fatalf("bad input: exit %d, stderr %q; want 1 naming bad.jsonl:2 and punch.direction", code, stderr)
	}
	if _, err := os.Stat(badOut); !os.IsNotExist(err) {
		t.Fatalf("a partial output file was left: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "bad-days") {
			t.Fatalf("temporary output left behind: %s", e.Name())
		}
	}

	// A mistake in the rules is reported at its line.
	os.WriteFile(rules, []byte(strings.Replace(testRules, `start: "09:00"`, `start: "25:00"`, 1)), 0o600)
	code, _, stderr = runCmd(t, nil, "reconcile", "--rules", rules, "--events", events)
	if code != exitFailure || !strings.Contains(stderr, "rules.yaml:4") {
		t.Fatalf("bad rules: exit %d, stderr %q; want rules.yaml:4", code, stderr)
	}
}
