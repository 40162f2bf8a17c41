// Package mapping holds Punchbridge's common schema: the attendance event
// (punchbridge.event/v1) that every connector normalizes into, the day record
// (punchbridge.day/v1) that reconciliation produces, and the validation rules
// that decide whether an event may enter the ledger.
//
// The JSON field names of both types are a contract with HR systems and with
// files on disk; they must not change within a schema version.
package mapping
