package ledger_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/punchbridge/punchbridge/ledger"
)

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name     string
		files    fstest.MapFS
		versions []int
		wantErr  string
	}{
		{
			name: "sorted by version",
			files: fstest.MapFS{
				"m/0002_more.sql":   {Data: []byte("B")},
				"m/0001_init.sql":   {Data: []byte("A")},
				"m/README.md":       {Data: []byte("not a migration")},
				"m/0003_latest.sql": {Data: []byte("C")},
			},
			versions: []int{1, 2, 3},
		},
		{name: "empty dir", files: fstest.MapFS{"m/x.txt": {}}, versions: nil},
		{
			name:    "gap",
			files:   fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}},
			wantErr: "0003_c.sql has version 3, want 2",
		},
		{
			name:    "repeat",
			files:   fstest.MapFS{"m/0001_a.sql": {}, "m/0001_b.sql": {}},
			wantErr: "has version 1, want 2",
		},
		{
			name:    "bad name",
			files:   fstest.MapFS{"m/init.sql": {}},
			wantErr: `"init.sql": name must be NNNN_description.sql`,
		},
		{
			name:    "version zero",
			files:   fstest.MapFS{"m/0000_a.sql": {}},
			wantErr: "NNNN >= 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := ledger.LoadMigrations(tt.files, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
				if m.SQL != string(tt.files["m/"+m.Name].Data) {
					t.Errorf("%s: SQL = %q", m.Name, m.SQL)
				}
			}
			if !slices.Equal(got, tt.versions) {
				t.Errorf("versions = %v, want %v", got, tt.versions)
			}
		})
	}
}

// memTarget records migrations in memory.
type memTarget struct {
	applied []int
	failAt  int
}

func (m *memTarget) AppliedVersions(context.Context) ([]int, error) { return m.applied, nil }

func (m *memTarget) Apply(_ context.Context, mig ledger.Migration) error {
	if mig.Version == m.failAt {
		return errors.New("syntax error")
	}
	m.applied = append(m.applied, mig.Version)
	return nil
}

func TestMigrate(t *testing.T) {
	known := []ledger.Migration{{Version: 1, Name: "0001_a.sql"}, {Version: 2, Name: "0002_b.sql"}, {Version: 3, Name: "0003_c.sql"}}
	tests := []struct {
		name    string
		applied []int
		failAt  int
		n       int
		want    []int
		wantErr error
		errText string
	}{
		{name: "new database", n: 3, want: []int{1, 2, 3}},
		{name: "only new ones", applied: []int{1, 2}, n: 1, want: []int{1, 2, 3}},
		{name: "up to date", applied: []int{1, 2, 3}, n: 0, want: []int{1, 2, 3}},
		{name: "newer binary wrote it", applied: []int{1, 2, 3, 4}, want: []int{1, 2, 3, 4}, wantErr: ledger.ErrSchemaTooNew, errText: "schema version 4, this binary knows versions up to 3"},
		{name: "failure stops", failAt: 2, n: 1, want: []int{1}, errText: "apply migration 0002_b.sql: syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := &memTarget{applied: slices.Clone(tt.applied), failAt: tt.failAt}
			n, err := ledger.Migrate(t.Context(), target, known)
			if tt.errText == "" && err != nil {
				t.Fatal(err)
			}
			if tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errText)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.wantErr)
			}
			if n != tt.n {
				t.Errorf("applied %d, want %d", n, tt.n)
			}
			if !slices.Equal(target.applied, tt.want) {
				t.Errorf("versions = %v, want %v", target.applied, tt.want)
			}
		})
	}
}
