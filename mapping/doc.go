// Package mapping holds Punchbridge's common schema: the attendance event
// (punchbridge.event/v1) that every connector normalizes into, the day record
// (punchbridge.day/v1) that reconciliation produces, and the validation rules
// that decide whether an event may enter the ledger.
//
// The JSON field names of both types are a contract with HR systems and with
// files on disk; they must not change within a schema version.
//
// It also holds the declarative field-mapping engine: a Mapping, compiled
// from a small YAML file, turns one JSON input (an event, a day record or
// a platform payload) into the JSON an HR system wants, with gjson source
// paths and transforms (map, format, unit, ...); an Inbound mapping reads
// what a platform approval means. docs/MAPPINGS.md is the user's guide.
package mapping
