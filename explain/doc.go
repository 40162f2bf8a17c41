// Package explain answers payroll's question "how was this day record
// computed?" for one employee and date. Day loads the employee's events
// from the ledger over the span the rules engine needs, takes the
// watermark, has the engine explain the day through the very code that
// computes day records (reconcile.Engine.Explain), and adds the versions
// the ledger has stored, each with the fields that changed.
//
// The command line (punchbridge explain) and the admin API
// (GET /api/v1/days/{employee}/{date}/explain) both call Day and render its
// Report, as text or as JSON.
package explain
