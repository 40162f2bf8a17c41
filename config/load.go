package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/reconcile"
)

// Size limits of the files Load reads; real ones are a few kilobytes.
const (
	maxConfigFile = 4 << 20
	maxRulesFile  = 16 << 20
)

// Load reads and validates the config file at path. getenv supplies the
// ${NAME} references (pass os.Getenv; tests pass a map lookup). On any
// problem it returns a nil Config and Errors listing every problem, each
// with file:line; an unreadable file is a plain error.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := readSmallFile(path, maxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path, getenv)
}

// Parse is Load for a config already in memory. file names it in messages,
// and relative paths in it (ledger.path, rules_file, *_file secrets) are
// resolved against file's directory.
//
// The order is: parse the YAML, expand ${NAME} in every value, check the
// document strictly against the Config types and decode it, load the rules
// file if one is named, apply defaults, then validate what needs more than
// one key (names, references, schedules, time zones).
func Parse(data []byte, file string, getenv func(string) string) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxErrors(file, err)
	}
	root := resolve(&doc)
	if root == nil {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
	}
	d := newDecoder(file, "", nil)
	if root.Kind != yaml.MappingNode {
		d.errorf(root.Line, "top level: want a mapping of sections (ledger, server, identity, rules, connectors, sinks, jobs), found %s", d.describe(root))
		return nil, d.errs.err()
	}
	raw := copyTree(root, map[*yaml.Node]*yaml.Node{})
	expandEnv(root, "", getenv, d)

	cfg := &Config{File: file}
	d.decode(root, cfg, "")
	attachComponents(cfg, root, raw, d)
	loadRules(cfg, root, d)
	v := validator{cfg: cfg, root: root, d: d}
	v.ledger()
	v.redis()
	v.server()
	v.identity()
	v.privacy()
	v.ledgerBatch()
	v.components("connectors", "connector", cfg.Connectors)
	v.components("sinks", "sink", cfg.Sinks)
	v.jobs()
	v.admin()
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// syntaxErrors turns a yaml.v3 parse error into Errors.
func syntaxErrors(file string, err error) Errors {
	var errs Errors
	for _, m := range yamlMessages(err) {
		line, msg := splitYAMLLine(m)
		errs = append(errs, &Error{File: file, Line: line, Msg: "YAML syntax: " + msg + "; check the indentation and quoting here or on the line before"})
	}
	return errs.sorted()
}

// attachComponents records, for each connector and sink, its file and the
// entry as written (for printing without secrets).
func attachComponents(cfg *Config, root, raw *yaml.Node, d *decoder) {
	for _, sec := range []struct {
		key, kind string
		list      []Component
	}{{"connectors", "connector", cfg.Connectors}, {"sinks", "sink", cfg.Sinks}} {
		_, seq := lookup(root, sec.key)
		_, rawSeq := lookup(raw, sec.key)
		seq, rawSeq = resolve(seq), resolve(rawSeq)
		for i := range sec.list {
			c := &sec.list[i]
			c.File = d.file
			c.meta = &componentMeta{kind: sec.kind, written: d.written}
			if seq == nil || rawSeq == nil || len(seq.Content) != len(rawSeq.Content) {
				continue
			}
			for j, item := range seq.Content {
				if resolve(item) == c.Node {
					c.meta.raw = rawSeq.Content[j]
				}
			}
		}
	}
	for i := range cfg.Sinks {
		decodeDelivery(&cfg.Sinks[i], d)
		decodeSinkPrivacy(&cfg.Sinks[i], d)
	}
}

// decodeSinkPrivacy reads a sink's privacy: block.
func decodeSinkPrivacy(c *Component, d *decoder) {
	c.Privacy = SinkPrivacy{Location: "keep"}
	_, n := lookup(resolve(c.Node), "privacy")
	if n == nil || isNull(resolve(n)) {
		return
	}
	path := fmt.Sprintf("sinks[%s].privacy", c.Name)
	d.decode(resolve(n), &c.Privacy, path)
	switch c.Privacy.Location {
	case "":
		c.Privacy.Location = "keep"
	case "keep", "drop", "coarse":
	default:
		d.errorf(resolve(n).Line, "%s.location %q: use keep, drop or coarse (about 100 m)", path, c.Privacy.Location)
	}
}

// decodeDelivery reads a sink's delivery: block, applying the defaults and
// checking the values; a connector has none.
func decodeDelivery(c *Component, d *decoder) {
	c.Delivery = Delivery{MaxAttempts: 5, Backoff: 30 * time.Second, MaxBackoff: time.Hour, Workers: 4}
	_, n := lookup(resolve(c.Node), "delivery")
	if n == nil || isNull(resolve(n)) {
		return
	}
	path := fmt.Sprintf("sinks[%s].delivery", c.Name)
	d.decode(resolve(n), &c.Delivery, path)
	line := resolve(n).Line
	switch {
	case c.Delivery.MaxAttempts < 1 || c.Delivery.MaxAttempts > 100:
		d.errorf(line, "%s.max_attempts %d: must be 1..100", path, c.Delivery.MaxAttempts)
	case c.Delivery.Backoff <= 0 || c.Delivery.MaxBackoff < c.Delivery.Backoff:
		d.errorf(line, "%s: backoff %s must be positive and at most max_backoff %s", path, c.Delivery.Backoff, c.Delivery.MaxBackoff)
	case c.Delivery.Workers < 1 || c.Delivery.Workers > 64:
		d.errorf(line, "%s.workers %d: must be 1..64", path, c.Delivery.Workers)
	}
}

// loadRules checks that exactly one of rules and rules_file is given, and
// loads the rules file when that is the one.
func loadRules(cfg *Config, root *yaml.Node, d *decoder) {
	fileKey, fileVal := lookup(root, "rules_file")
	rulesKey, rulesVal := lookup(root, "rules")
	hasFile := fileKey != nil && !isEmpty(fileVal)
	hasInline := rulesKey != nil && !isEmpty(rulesVal)
	switch {
	case hasFile && hasInline:
		d.errorf(fileKey.Line, "rules_file: both rules (line %d) and rules_file are set; keep one", rulesKey.Line)
	case !hasFile && !hasInline:
		line := root.Line
		if rulesKey != nil {
			line = rulesKey.Line
		} else if fileKey != nil {
			line = fileKey.Line
		}
		d.errorf(line, "rules: missing; add a rules: section (see config/examples/punchbridge.yaml) or rules_file: <path>")
	case hasInline:
		cfg.RulesNode = resolve(rulesVal)
		cfg.RulesFileName = d.file
		checkRules(d, cfg.RulesNode, cfg.Rules, "rules")
	default:
		fv := resolve(fileVal)
		if fv.Kind != yaml.ScalarNode {
			return // reported by the strict decode
		}
		path := cfg.RulesFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(d.dir, path)
		}
		cfg.RulesFile = path
		data, err := readSmallFile(path, maxRulesFile)
		if err != nil {
			d.errorf(fv.Line, "rules_file %q: cannot read: %v; give a path relative to this file", d.shown(fv), err)
			return
		}
		rules, node, err := ParseRules(data, path)
		var errs Errors
		if errors.As(err, &errs) {
			d.errs = append(d.errs, errs...)
		}
		cfg.Rules, cfg.RulesNode, cfg.RulesFileName = rules, node, path
	}
}

// LoadRules reads an attendance rules file (the rules: block of a config,
// as its own file) strictly: unknown keys, wrong types and bad durations
// are Errors with file:line. It checks the structure and the time zone;
// reconcile.Compile checks the rest.
func LoadRules(path string) (reconcile.Rules, error) {
	r, _, err := LoadRulesNode(path)
	return r, err
}

// LoadRulesNode is LoadRules that also returns the file's root node, so
// that errors found later by reconcile.Compile can be placed with LineOf.
// The node is returned whenever the file parsed, even with Errors.
func LoadRulesNode(path string) (reconcile.Rules, *yaml.Node, error) {
	data, err := readSmallFile(path, maxRulesFile)
	if err != nil {
		return reconcile.Rules{}, nil, fmt.Errorf("config: %w", err)
	}
	return ParseRules(data, path)
}

// ParseRules is LoadRulesNode for rules already in memory; file names them
// in messages.
func ParseRules(data []byte, file string) (reconcile.Rules, *yaml.Node, error) {
	var r reconcile.Rules
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return r, nil, syntaxErrors(file, err)
	}
	d := newDecoder(file, "", nil)
	root := resolve(&doc)
	if root == nil {
		d.errorf(1, "empty rules file; write at least timezone, shifts and assign (see config/examples/punchbridge.yaml)")
		return r, nil, d.errs.err()
	}
	d.decode(root, &r, "")
	checkRules(d, root, r, "")
	return r, root, d.errs.err()
}
