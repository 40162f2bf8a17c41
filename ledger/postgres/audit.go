package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/punchbridge/punchbridge/ledger"
)

var _ ledger.AuditLog = (*Ledger)(nil)

// Audit implements ledger.AuditLog.
func (l *Ledger) Audit(ctx context.Context, e ledger.AuditEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	_, err := l.exec(ctx, `INSERT INTO audit_log (at, who, role, action, target, result, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		ms(e.At), e.Who, e.Role, e.Action, e.Target, e.Result, e.Detail)
	if err != nil {
		return fmt.Errorf("postgres ledger: audit %s by %q: %w", e.Action, e.Who, err)
	}
	return nil
}

type auditRow struct {
	ID     int64
	At     time.Time
	Who    string
	Role   string
	Action string
	Target string
	Result string
	Detail string
}

// AuditEntries implements ledger.AuditLog.
func (l *Ledger) AuditEntries(ctx context.Context, since time.Time, limit int) ([]ledger.AuditEntry, error) {
	rows, err := query(ctx, l, pgx.RowToStructByPos[auditRow], `SELECT id, at, who, role, action, target, result, detail FROM audit_log
		WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2`, ms(since), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres ledger: audit entries: %w", err)
	}
	out := make([]ledger.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = ledger.AuditEntry{ID: r.ID, At: r.At.UTC(), Who: r.Who, Role: r.Role, Action: r.Action, Target: r.Target, Result: r.Result, Detail: r.Detail}
	}
	return out, nil
}
