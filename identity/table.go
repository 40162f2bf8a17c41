package identity

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/punchbridge/punchbridge/connectors"
)

// maxTable bounds an identity table file.
const maxTable = 64 << 20

// Table maps the value of a directory field to an employee id, from a CSV
// file HR keeps. Its header names the columns:
//
//	job_number,employee_id            (the key column is named after the field,
//	mobile,employee_id                 or "key")
//	platform,tenant,user_id,employee_id
//
// platform and tenant are optional; a row that gives them applies to that
// platform's tenant only, and beats a row that does not. A Table is
// immutable; reload the file to change it.
type Table struct {
	name  string
	field Field
	rows  map[tableKey]string
}

type tableKey struct{ platform, tenant, key string }

// LoadTable reads the CSV file at path, keyed by field. A UTF-8 BOM (as
// Excel writes) is skipped.
func LoadTable(path string, field Field) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity table: %w", err)
	}
	defer f.Close()
	return ParseTable(io.LimitReader(f, maxTable), path, field)
}

// ParseTable reads a CSV table; name names it in errors.
func ParseTable(r io.Reader, name string, field Field) (*Table, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("identity table %s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bytes.NewReader(data))
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("identity table %s: read the header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	keyCol, ok := col[string(field)]
	if !ok {
		keyCol, ok = col["key"]
	}
	empCol, hasEmp := col["employee_id"]
	switch {
	case !ok:
		return nil, fmt.Errorf("identity table %s:1: no %s column (or key); the header must name the key column and employee_id", name, field)
	case !hasEmp:
		return nil, fmt.Errorf("identity table %s:1: no employee_id column", name)
	}
	platCol, hasPlat := col["platform"]
	tenCol, hasTen := col["tenant"]
	t := &Table{name: name, field: field, rows: map[tableKey]string{}}
	first := map[tableKey]int{}
	var errs []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("identity table %s: %w", name, err)
		}
		cell := func(i int, has bool) string {
			if !has || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		k := tableKey{platform: cell(platCol, hasPlat), tenant: cell(tenCol, hasTen), key: field.normalize(cell(keyCol, true))}
		emp := cell(empCol, true)
		switch {
		case k.key == "" && emp == "":
			continue // a blank line
		case k.key == "":
			errs = append(errs, fmt.Errorf("identity table %s:%d: the %s is empty", name, line, field))
			continue
		case emp == "":
			errs = append(errs, fmt.Errorf("identity table %s:%d: %s %q has no employee_id; remove the row to leave the user unmapped", name, line, field, k.key))
			continue
		}
		if prev, dup := first[k]; dup {
			errs = append(errs, fmt.Errorf("identity table %s:%d: %s %q is already mapped on line %d; keep one row", name, line, field, k.key, prev))
			continue
		}
		first[k] = line
		t.rows[k] = emp
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Resolve looks u up by the table's field: a row for u's platform and
// tenant, else for its platform, else for any.
func (t *Table) Resolve(_ context.Context, platform, tenant string, u connectors.User) (string, error) {
	key := t.field.Of(u)
	if key == "" {
		return "", nil
	}
	for _, k := range []tableKey{{platform, tenant, key}, {platform, "", key}, {"", "", key}} {
		if emp, ok := t.rows[k]; ok {
			return emp, nil
		}
	}
	return "", nil
}
