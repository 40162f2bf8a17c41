package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/reconcile"
)

// TestRulesDocExample keeps the example in docs/RULES.md a working rules
// file.
func TestRulesDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/RULES.md has no yaml block")
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := config.LoadRules(path)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if _, err := reconcile.Compile(rules); err != nil {
		t.Fatalf("the example does not compile: %v", err)
	}
}
