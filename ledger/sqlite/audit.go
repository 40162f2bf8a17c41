package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/ledger"
)

var _ ledger.AuditLog = (*Ledger)(nil)

// Audit implements ledger.AuditLog.
func (l *Ledger) Audit(ctx context.Context, e ledger.AuditEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	err := l.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at_ms, who, role, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			ms(e.At), e.Who, e.Role, e.Action, e.Target, e.Result, e.Detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite ledger: audit %s by %q: %w", e.Action, e.Who, err)
	}
	return nil
}

// AuditEntries implements ledger.AuditLog.
func (l *Ledger) AuditEntries(ctx context.Context, since time.Time, limit int) ([]ledger.AuditEntry, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT id, at_ms, who, role, action, target, result, detail FROM audit_log
		WHERE at_ms >= ? ORDER BY at_ms DESC, id DESC LIMIT ?`, since.UnixMilli(), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite ledger: audit entries: %w", err)
	}
	defer rows.Close()
	var out []ledger.AuditEntry
	for rows.Next() {
		var (
			e  ledger.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Who, &e.Role, &e.Action, &e.Target, &e.Result, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite ledger: audit entries: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite ledger: audit entries: %w", err)
	}
	return out, nil
}
