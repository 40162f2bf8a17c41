package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// TestMappingTryCustomLeaveForm is IT's path, without Go: a DingTalk leave
// form with a custom 请假类型 drop-down is mapped onto HR leave codes by a
// mapping file alone, and tried on a real payload with mapping try.
func TestMappingTryCustomLeaveForm(t *testing.T) {
	code, stdout, stderr := runMappingArgs(t, "try", "--mapping", "testdata/mapping/leave.yaml", "--input", "testdata/mapping/approval.json",
		"--platform", "dingtalk", "--template", "PROC-8F2A41C7")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want, err := os.ReadFile("testdata/mapping/leave.golden")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestMappingTryReportsEachError(t *testing.T) {
	code, stdout, stderr := runMappingArgs(t, "try", "--mapping", "testdata/mapping/days.yaml", "--input", "testdata/mapping/days.jsonl", "--compact")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if stdout != `{"badge":1001,"day":"2026-11-20","hours":9.05}`+"\n" {
		t.Fatalf("stdout %q: the good input must still be printed", stdout)
	}
	if want := `input 2: field badge: value "CONTRACTOR-7": number (line 7) is not a number` + "\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
}

func TestMappingTryLoadErrors(t *testing.T) {
	code, _, stderr := runMappingArgs(t, "try", "--mapping", "testdata/mapping/bad-leave.yaml", "--input", "testdata/mapping/approval.json", "--platform", "dingtalk")
	if code != exitFailure || !strings.Contains(stderr, `testdata/mapping/bad-leave.yaml:8: fields.start: format: from "YYYY-MM-DD HH:mm" is not a Go layout`) {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runMappingArgs(t, "try", "--mapping", "preset:frappe-checkin")
	if code != exitUsage || !strings.Contains(stderr, "--mapping and --input are required") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runMappingArgs(t, "try", "--mapping", "testdata/mapping/days.yaml", "--input", "testdata/mapping/missing.json")
	if code != exitFailure || !strings.Contains(stderr, "missing.json") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestMappingTryPreset(t *testing.T) {
	code, stdout, stderr := runMappingArgs(t, "try", "--mapping", "preset:generic-json", "--input", "testdata/mapping/days.jsonl", "--compact")
	if code != exitOK || strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, `"worked_hours":9.05`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestMappingCheck(t *testing.T) {
	code, stdout, stderr := runMappingArgs(t, "check", "--config", "testdata/mapping/config.yaml")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"ok: sink erpnext: preset:frappe-checkin (punchbridge.event/v1, 7 fields)", "ok: sink hr: testdata/mapping/days.yaml (punchbridge.day/v1, 3 fields)", "ok: connector dingtalk-hq: inbound built-in"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if want := "testdata/mapping/config.yaml:31: fields.工号: path \"employe_id\": employe_id is not a field of punchbridge.day/v1; did you mean employee_id?\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
}

func TestMappingHelpAndPresets(t *testing.T) {
	code, _, stderr := runMappingArgs(t, "--help")
	if code != exitOK || !strings.Contains(stderr, "Example") {
		t.Fatalf("help: exit %d\n%s", code, stderr)
	}
	code, stdout, _ := runMappingArgs(t, "presets")
	if code != exitOK || !strings.Contains(stdout, "preset:frappe-checkin") || !strings.Contains(stdout, "preset:dingtalk-approval") {
		t.Fatalf("presets: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runMappingArgs(t, "presets", "personio-attendance")
	if code != exitOK || !strings.Contains(stdout, "person.id:") {
		t.Fatalf("preset source: exit %d\n%s", code, stdout)
	}
	if code, _, _ := runMappingArgs(t, "frobnicate"); code != exitUsage {
		t.Fatalf("unknown subcommand: exit %d", code)
	}
}

// runMappingArgs runs `punchbridge mapping ARGS`. It calls runMapping
// directly, so that the test does not depend on the command table.
func runMappingArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	code := runMapping(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestMappingsDoc keeps the mapping files in docs/MAPPINGS.md working:
// every yaml block that is a mapping compiles, the walkthrough's leave
// mapping over the built-in DingTalk one.
func TestMappingsDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/MAPPINGS.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	rest := string(doc)
	for {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, tail, _ := strings.Cut(after, "```")
		rest = tail
		block = dedent(block)
		switch {
		case strings.HasPrefix(block, "sinks:"), strings.HasPrefix(block, "identity:"), strings.HasPrefix(block, "when:"):
			continue // config excerpts
		case mapping.IsInbound([]byte(block)):
			if _, err := presets.Inbound("dingtalk", mapping.Layer{File: "MAPPINGS.md", Data: []byte(block)}); err != nil {
				t.Errorf("inbound block does not compile: %v\n%s", err, block)
			}
		default:
			if _, err := mapping.Parse([]byte(block), "MAPPINGS.md"); err != nil {
				t.Errorf("mapping block does not compile: %v\n%s", err, block)
			}
		}
		blocks++
	}
	if blocks < 2 {
		t.Fatalf("found %d mapping blocks in docs/MAPPINGS.md", blocks)
	}
}

// dedent removes the indentation of a block nested in a list item.
func dedent(block string) string {
	lines := strings.Split(block, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}
