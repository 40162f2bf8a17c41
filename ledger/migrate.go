package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ErrSchemaTooNew is returned when a database carries a schema version this
// binary does not know: it was migrated by a newer Punchbridge, and an older
// one must not write to it.
var ErrSchemaTooNew = errors.New("ledger: database schema is newer than this binary")

// Migration is one numbered schema change, read from a file named
// NNNN_description.sql (for example 0001_init.sql).
type Migration struct {
	Version int
	Name    string // the file name
	SQL     string
}

// MigrationTarget is a backend's side of migrating: it knows where the
// applied versions are recorded and how to run one migration atomically.
type MigrationTarget interface {
	// AppliedVersions lists the versions recorded as applied, creating the
	// record table if the database is new.
	AppliedVersions(ctx context.Context) ([]int, error)
	// Apply runs m and records its version in one transaction. It must
	// skip m, without error, if another process recorded it meanwhile.
	Apply(ctx context.Context, m Migration) error
}

// LoadMigrations reads every *.sql file in dir of fsys. Versions must run
// 1, 2, 3, ... without gaps or repeats, so that a missing or misnamed file
// is caught when the binary starts rather than when a database misses it.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("ledger: read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("ledger: migration file %q: name must be NNNN_description.sql with NNNN >= 1", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("ledger: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("ledger: migration %s has version %d, want %d (versions must run 1, 2, 3, ... without gaps or repeats)", m.Name, m.Version, i+1)
		}
	}
	return ms, nil
}

// PendingMigrations returns the migrations of known that are not in
// applied, in order. A version in applied that known does not hold means the
// database was written by a newer binary: the error wraps ErrSchemaTooNew.
func PendingMigrations(known []Migration, applied []int) ([]Migration, error) {
	have := make(map[int]bool, len(applied))
	latest := 0
	for _, m := range known {
		latest = max(latest, m.Version)
	}
	for _, v := range applied {
		if !slices.ContainsFunc(known, func(m Migration) bool { return m.Version == v }) {
			return nil, fmt.Errorf("%w: the database has schema version %d, this binary knows versions up to %d; upgrade Punchbridge or point it at another database", ErrSchemaTooNew, v, latest)
		}
		have[v] = true
	}
	var pending []Migration
	for _, m := range known {
		if !have[m.Version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

// Migrate brings target up to date with known, applying each pending
// migration in its own transaction, in version order. It returns how many
// were pending.
func Migrate(ctx context.Context, target MigrationTarget, known []Migration) (int, error) {
	applied, err := target.AppliedVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("ledger: read applied migrations: %w", err)
	}
	pending, err := PendingMigrations(known, applied)
	if err != nil {
		return 0, err
	}
	for i, m := range pending {
		if err := target.Apply(ctx, m); err != nil {
			return i, fmt.Errorf("ledger: apply migration %s: %w", m.Name, err)
		}
	}
	return len(pending), nil
}
