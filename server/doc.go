// Package server is Punchbridge's HTTP face, the handler of `punchbridge
// serve`:
//
//   - webhook routes that hand platform callbacks to their connector's
//     receiver; the tenant of a webhook is chosen by its path
//     (/hooks/<platform>/<connector>), never by trying each connector's keys;
//   - /healthz, /readyz and /metrics;
//   - the admin API under /api/v1 (JSON, bearer tokens with roles, every
//     mutating call written to the ledger's audit log);
//   - the status page at /, rendered on the server from html/template with
//     a few lines of vanilla JavaScript, behind a cookie session opened
//     with an admin token.
//
// The server depends on no command: what it needs from the running
// service (jobs, pulls, pushes, explanations) it takes as functions in
// Options. docs/OPERATIONS.md describes every endpoint.
package server
