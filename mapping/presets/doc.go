// Package presets holds the mapping files Punchbridge ships: outbound
// presets for real HR systems (Frappe HR Employee Checkin, a
// Personio-style attendance-periods API, a generic JSON day record, a
// payroll CSV), and the built-in inbound mappings that read DingTalk's and
// WeCom's standard approval forms. Each file is plain YAML that IT can
// copy and change; examples/ has a config using each, and testdata/ an
// input and its expected output for each.
//
// A config names a preset as preset:NAME wherever it takes a mapping
// file; Resolve turns such a reference (or a file path, or an inline
// mapping) into a compiled mapping.
package presets
