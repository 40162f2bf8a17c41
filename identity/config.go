package identity

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/punchbridge/punchbridge/connectors"
)

// Config is the identity section of the config file:
//
//	identity:
//	  field: job_number          # the directory field that identifies a user
//	  table: identities.csv      # optional: a CSV of <field>,employee_id
//	  lookup:                    # optional: ask the HR system, cached
//	    url: https://erp.example.com/api/resource/Employee?filters=[["attendance_device_id","=","{value}"]]
//	    path: data.0.name
//	    token: ${ERPNEXT_API_KEY}:${ERPNEXT_API_SECRET}
//	    auth_scheme: token
//
// With neither table nor lookup, the field's value is the employee id.
// Lookup settings start from DefaultLookupConfig.
// With both, a table row wins and the lookup answers for the rest.
type Config struct {
	Field  string        `yaml:"field"`
	Table  string        `yaml:"table"`
	Lookup *LookupConfig `yaml:"lookup"`
}

// New builds the resolver cfg describes; a relative table path is read
// from baseDir (the config file's directory).
func New(cfg Config, baseDir string, deps connectors.Deps) (Resolver, error) {
	field, err := ParseField(cfg.Field)
	if err != nil {
		return nil, err
	}
	var chain Chain
	if cfg.Table != "" {
		path := cfg.Table
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		t, err := LoadTable(path, field)
		if err != nil {
			return nil, err
		}
		chain = append(chain, t)
	}
	if cfg.Lookup != nil {
		l, err := NewLookup(*cfg.Lookup, field, deps)
		if err != nil {
			return nil, fmt.Errorf("identity lookup: %w", err)
		}
		chain = append(chain, l)
	}
	switch len(chain) {
	case 0:
		return DirectoryField{Field: field}, nil
	case 1:
		return chain[0], nil
	}
	return chain, nil
}

// Chain asks each resolver in turn; the first employee id wins. An error
// stops the chain: a later resolver must not answer for a user an
// earlier one could not look at.
type Chain []Resolver

// Resolve implements Resolver.
func (c Chain) Resolve(ctx context.Context, platform, tenant string, u connectors.User) (string, error) {
	for _, r := range c {
		id, err := r.Resolve(ctx, platform, tenant, u)
		if err != nil || id != "" {
			return id, err
		}
	}
	return "", nil
}
