package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// adminEnv holds tokens long enough to be accepted, and one that is not.
var adminEnv = map[string]string{
	"ALICE": "alice-0123456789abcdef",
	"BOB":   "bob-0123456789abcdef",
	"SHORT": "tiny",
}

func TestAdminTokens(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "carol.token"), []byte("carol-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := minimal + `admin:
  tokens:
    - {name: alice, token: "${ALICE}", role: admin}
    - {name: bob, token: "${BOB}", role: viewer}
    - {name: carol, token_file: carol.token, role: operator}
`
	cfg, err := Parse([]byte(doc), filepath.Join(dir, "punchbridge.yaml"), envOf(adminEnv))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range cfg.Admin.Tokens {
		got = append(got, tok.Name+":"+tok.Role+":"+tok.Token.Reveal())
	}
	want := "alice:admin:alice-0123456789abcdef bob:viewer:bob-0123456789abcdef carol:operator:carol-0123456789abcdef"
	if strings.Join(got, " ") != want {
		t.Errorf("tokens %v, want %s", got, want)
	}
	if s := fmt.Sprintf("%v %+v", cfg.Admin, cfg.Admin); strings.Contains(s, "0123456789") {
		t.Errorf("printing the admin config shows a token: %s", s)
	}
}

func TestAdminTokenErrors(t *testing.T) {
	head := minimal + "admin:\n  tokens:\n"
	tests := []struct {
		name  string
		items string
		line  int
		msg   string
	}{
		{"unknown role", "    - {name: a, token: '${ALICE}', role: root}\n",
			4, `admin.tokens[0].role "root": unknown role; use viewer, operator or admin`},
		{"missing role", "    - {name: a, token: '${ALICE}'}\n",
			4, `admin.tokens[0].role: missing; add role: viewer, operator or admin`},
		{"missing name", "    - {token: '${ALICE}', role: viewer}\n",
			4, `admin.tokens[0].name: missing; add name: <who holds the token>, e.g. payroll-ops`},
		{"bad name", "    - {name: 'pay roll', token: '${ALICE}', role: viewer}\n",
			4, `admin.tokens[0].name "pay roll": use letters, digits, '.', '_' and '-', starting with a letter or digit`},
		{"duplicate name", "    - {name: a, token: '${ALICE}', role: viewer}\n    - name: a\n      token: ${BOB}\n      role: admin\n",
			5, `admin.tokens[1].name "a": already used by admin.tokens[0] (line 4); give each token its own name`},
		{"empty token", "    - name: a\n      token: ''\n      role: viewer\n",
			5, `admin.tokens[0].token: missing or empty; add token: ${PUNCHBRIDGE_ADMIN_TOKEN} or token_file: <path>`},
		{"no token", "    - {name: a, role: viewer}\n",
			4, `admin.tokens[0].token: missing or empty; add token: ${PUNCHBRIDGE_ADMIN_TOKEN} or token_file: <path>`},
		{"short token", "    - name: a\n      token: ${SHORT}\n      role: viewer\n",
			5, `admin.tokens[0].token: shorter than 16 characters; use a long random value, e.g. from openssl rand -hex 32 (the value is not shown)`},
		{"shared token", "    - {name: a, token: '${ALICE}', role: viewer}\n    - name: b\n      token: ${ALICE}\n      role: admin\n",
			6, `admin.tokens[1].token: the same value as admin.tokens[0]; give each name its own token (the value is not shown)`},
		{"unset variable", "    - name: a\n      token: ${NOPE}\n      role: viewer\n",
			5, `admin.tokens[0].token: environment variable NOPE is not set; export NOPE=... before running punchbridge`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tt.items), "punchbridge.yaml", envOf(adminEnv))
			errs := asErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), err)
			}
			want := &Error{File: "punchbridge.yaml", Line: tt.line, Msg: tt.msg}
			if *errs[0] != *want {
				t.Errorf("got  %s\nwant %s", errs[0], want)
			}
			for _, v := range adminEnv {
				if len(v) >= 4 && strings.Contains(err.Error(), v) {
					t.Errorf("the error shows a token value: %v", err)
				}
			}
		})
	}
}
