package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

const mappingUsage = `usage: punchbridge mapping try --mapping FILE --input FILE [--template ID] [--platform NAME]
       punchbridge mapping check --config FILE
       punchbridge mapping presets [NAME]

try applies a field mapping to payloads and prints the output JSON on
stdout, one per input; a payload the mapping fails on is reported on
stderr with each field, the value it met and the reason, and the exit code
is 1. --input holds one JSON object, a JSON array of objects, or JSON
Lines. --mapping is a mapping file or preset:NAME. An inbound mapping (one
with templates:, leave_types: or template:) prints what a connector reads
from the approval: --template passes the template id (process code) the
payload belongs to, and --platform lays the file over that platform's
built-in inbound mapping (dingtalk, wecom), as a connector's inbound:
override is.

check compiles every mapping a config file names (the sinks' mapping:, the
connectors' inbound:) and prints every problem as file:line: message; the
exit code is 1 if there is any. Secrets need not be set.

presets lists the built-in mappings, or prints one to copy and change.

Example (see docs/MAPPINGS.md):
  punchbridge mapping try --mapping leave.yaml --input approval.json \
      --platform dingtalk --template PROC-8F2A41C7
  punchbridge mapping check --config punchbridge.yaml
  punchbridge mapping presets frappe-checkin > checkin.yaml
`

// maxMappingInput bounds a --input file.
const maxMappingInput = 64 << 20

func runMapping(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.stderr, mappingUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "try":
		return runMappingTry(ctx, env, args[1:])
	case "check":
		return runMappingCheck(env, args[1:])
	case "presets":
		return runMappingPresets(env, args[1:])
	}
	fmt.Fprintf(env.stderr, "mapping: unknown subcommand %q; use try, check or presets\n\n%s", args[0], mappingUsage)
	return exitUsage
}

func mappingFlags(name string, env *cmdEnv) *flag.FlagSet {
	fs := flag.NewFlagSet("mapping "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, mappingUsage); fs.PrintDefaults() }
	return fs
}

func runMappingTry(_ context.Context, env *cmdEnv, args []string) int {
	fs := mappingFlags("try", env)
	mapPath := fs.String("mapping", "", "mapping file, or preset:NAME (required)")
	inPath := fs.String("input", "", "payload file: a JSON object, an array of them, or JSON Lines (required)")
	template := fs.String("template", "", "inbound: the template id (process code) of the payload")
	platform := fs.String("platform", "", "inbound: lay the file over this platform's built-in mapping (dingtalk, wecom)")
	zone := fs.String("timezone", "", "write local times in this IANA zone, as a sink's timezone: does")
	compact := fs.Bool("compact", false, "print each output on one line")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *mapPath == "" || *inPath == "" {
		fmt.Fprintln(env.stderr, "mapping try: --mapping and --input are required")
		fs.Usage()
		return exitUsage
	}
	var opts []mapping.Option
	if *zone != "" {
		loc, err := time.LoadLocation(*zone)
		if err != nil {
			fmt.Fprintf(env.stderr, "mapping try: --timezone %q: use an IANA zone such as Asia/Shanghai\n", *zone)
			return exitUsage
		}
		opts = append(opts, mapping.WithTimezone(loc))
	}
	inputs, err := readInputs(*inPath)
	if err != nil {
		fmt.Fprintf(env.stderr, "mapping try: %v\n", err)
		return exitFailure
	}
	apply, err := loadApplier(*mapPath, *platform, *template, opts)
	if err != nil {
		printProblems(env.stderr, presets.ConfigErrors(err))
		return exitFailure
	}
	code := exitOK
	for i, in := range inputs {
		label := fmt.Sprintf("input %d", i+1)
		if len(inputs) == 1 {
			label = "input"
		}
		out, err := apply(in)
		switch {
		case errors.Is(err, mapping.ErrSkip):
			fmt.Fprintf(env.stderr, "%s: skipped: the mapping leaves it out (its when:, or not an attendance approval)\n", label)
			continue
		case err != nil:
			printApplyError(env.stderr, label, err)
			code = exitFailure
			continue
		}
		if !*compact {
			var b bytes.Buffer
			if json.Indent(&b, out, "", "  ") == nil {
				out = b.Bytes()
			}
		}
		fmt.Fprintf(env.stdout, "%s\n", out)
	}
	return code
}

// loadApplier compiles the mapping at ref as an outbound or an inbound
// mapping and returns a function applying it to one payload.
func loadApplier(ref, platform, template string, opts []mapping.Option) (func([]byte) ([]byte, error), error) {
	if name, ok := strings.CutPrefix(ref, presets.Prefix); ok {
		src, err := presets.Source(name)
		if err != nil {
			return nil, err
		}
		return applier(src, ref, platform, template, opts)
	}
	src, err := os.ReadFile(ref)
	if err != nil {
		return nil, err
	}
	return applier(src, ref, platform, template, opts)
}

func applier(src []byte, file, platform, template string, opts []mapping.Option) (func([]byte) ([]byte, error), error) {
	if platform == "" && !mapping.IsInbound(src) {
		if template != "" {
			return nil, fmt.Errorf("%s: --template is for inbound mappings (with templates:, leave_types: or template:)", file)
		}
		m, err := mapping.Parse(src, file, opts...)
		if err != nil {
			return nil, err
		}
		return m.Apply, nil
	}
	var in *mapping.Inbound
	var err error
	if platform != "" {
		in, err = presets.Inbound(platform, mapping.Layer{File: file, Data: src})
	} else {
		in, err = mapping.CompileInbound([]mapping.Layer{{File: file, Data: src}}, opts...)
	}
	if err != nil {
		return nil, err
	}
	return func(raw []byte) ([]byte, error) {
		a, err := in.Apply(template, raw)
		if err != nil {
			return nil, err
		}
		return json.Marshal(a)
	}, nil
}

// readInputs reads one JSON object, an array of objects, or JSON Lines.
func readInputs(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMappingInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxMappingInput {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxMappingInput)
	}
	data = bytes.TrimPrefix(bytes.TrimSpace(data), []byte{0xEF, 0xBB, 0xBF})
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty; give a JSON object", path)
	}
	if data[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of objects: %w", path, err)
		}
		out := make([][]byte, len(items))
		for i, it := range items {
			out[i] = it
		}
		return out, nil
	}
	var out [][]byte
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: payload %d is not JSON: %w", path, len(out)+1, err)
		}
		out = append(out, raw)
	}
	return out, nil
}

// printApplyError prints each failing field on its own line.
func printApplyError(w io.Writer, label string, err error) {
	var ae *mapping.ApplyError
	if !errors.As(err, &ae) {
		fmt.Fprintf(w, "%s: %v\n", label, err)
		return
	}
	for _, f := range ae.Errors {
		if f.Value == "" {
			fmt.Fprintf(w, "%s: field %s: %s\n", label, f.Field, f.Reason)
		} else {
			fmt.Fprintf(w, "%s: field %s: value %q: %s\n", label, f.Field, f.Value, f.Reason)
		}
	}
}

func runMappingCheck(env *cmdEnv, args []string) int {
	fs := mappingFlags("check", env)
	cfgPath := fs.String("config", "", "config file (required)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *cfgPath == "" {
		fmt.Fprintln(env.stderr, "mapping check: --config is required")
		fs.Usage()
		return exitUsage
	}
	data, err := os.ReadFile(*cfgPath)
	if err != nil {
		fmt.Fprintf(env.stderr, "mapping check: %v\n", err)
		return exitFailure
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", *cfgPath, err)
		return exitFailure
	}
	root := yamlValue(&doc)
	var errs []error
	checked := 0
	for _, c := range yamlList(yamlGet(root, "sinks")) {
		name := yamlGet(c, "name").Value
		n := yamlGet(c, "mapping")
		if n.Kind == 0 {
			continue
		}
		var opts []mapping.Option
		if z := yamlGet(c, "timezone").Value; z != "" {
			if loc, err := time.LoadLocation(z); err == nil {
				opts = append(opts, mapping.WithTimezone(loc))
			}
		}
		m, err := presets.Resolve(n, *cfgPath, opts...)
		if err != nil {
			errs = append(errs, presets.ConfigErrors(err))
			continue
		}
		want := mapping.DaySchema
		if yamlGet(c, "records").Value == "events" {
			want = mapping.EventSchema
		}
		if m.Input() != want {
			errs = append(errs, &config.Error{File: *cfgPath, Line: n.Line, Msg: fmt.Sprintf("sink %q: mapping %s reads %s, but the sink carries %s", name, m.Name(), m.Input(), want)})
			continue
		}
		checked++
		fmt.Fprintf(env.stdout, "ok: sink %s: %s (%s, %d fields)\n", name, m.Name(), m.Input(), len(m.Fields()))
	}
	for _, c := range yamlList(yamlGet(root, "connectors")) {
		name, typ := yamlGet(c, "name").Value, yamlGet(c, "type").Value
		if typ != "dingtalk" && typ != "wecom" {
			continue
		}
		var ref presets.InboundRef
		if n := yamlGet(c, "inbound"); n.Kind != 0 {
			if err := ref.UnmarshalYAML(n); err != nil {
				errs = append(errs, &config.Error{File: *cfgPath, Line: n.Line, Msg: fmt.Sprintf("connector %q: inbound: %v", name, err)})
				continue
			}
		}
		layers := ref.Layers(*cfgPath)
		in, err := presets.Inbound(typ, layers...)
		if err != nil {
			errs = append(errs, presets.ConfigErrors(err))
			continue
		}
		checked++
		how := "built-in"
		if len(layers) > 0 {
			how = "built-in with the config's inbound: override"
		}
		fmt.Fprintf(env.stdout, "ok: connector %s: inbound %s (%s)\n", name, how, in.Mapping().Input())
	}
	if len(errs) > 0 {
		printProblems(env.stderr, errs...)
		return exitFailure
	}
	if checked == 0 {
		fmt.Fprintf(env.stdout, "ok: %s names no mapping\n", *cfgPath)
	}
	return exitOK
}

func runMappingPresets(env *cmdEnv, args []string) int {
	switch len(args) {
	case 0:
		for _, name := range presets.Names() {
			desc := ""
			if m, err := presets.Load(name); err == nil {
				desc = m.Description()
			} else if in, err := presets.Inbound(strings.TrimSuffix(name, "-approval")); err == nil {
				desc = "built-in inbound mapping, " + in.Mapping().Input()
			}
			fmt.Fprintf(env.stdout, "%-22s %s\n", presets.Prefix+name, desc)
		}
		return exitOK
	case 1:
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(env.stderr, mappingUsage)
			return exitOK
		}
		src, err := presets.Source(strings.TrimPrefix(args[0], presets.Prefix))
		if err != nil {
			fmt.Fprintf(env.stderr, "mapping presets: %v\n", err)
			return exitFailure
		}
		_, _ = env.stdout.Write(src)
		return exitOK
	}
	fmt.Fprintln(env.stderr, "mapping presets: give at most one preset name")
	return exitUsage
}

// yamlValue steps through a document node.
func yamlValue(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// yamlGet returns the value of key in mapping n, or an empty node.
func yamlGet(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return &yaml.Node{}
}

// yamlList returns the items of a sequence node.
func yamlList(n *yaml.Node) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
