// Package groupcommit coalesces the ledger writes of concurrent callers into
// shared transactions. A webhook that carries one punch costs its caller one
// ledger commit; a thousand of them a second are a thousand commits, each
// paying the fixed price of a transaction (a WAL append on SQLite, a round
// trip and a commit record on PostgreSQL). Group commit lets them share one.
//
// Ledger wraps a ledger.Ledger. Its Append, MarkDirty, StoreRaw and
// EnqueueEvents hand their work to one writer goroutine, which commits a
// batch as soon as it holds Options.BatchSize items or Options.BatchWait has
// passed since the first of them arrived at an idle writer, whichever comes
// first; while a commit runs, the next callers queue up and go together in
// the following one. Every caller returns only after the commit that holds
// its items, so durability is what the wrapped ledger gives; throughput is
// that of batches.
//
// Appends of several callers go to the wrapped ledger in one transaction
// when it implements BatchAppender (the SQLite and PostgreSQL ledgers do),
// each caller getting the AppendResult its own events would have had if
// the callers had appended one after another in queue order. A ledger
// without it gets one Append per caller, still from the one writer. When a
// commit fails, every caller in it gets the error and none of their items is
// stored; input that would fail a whole batch (an event without an id, an
// employee-day without an employee) is refused to its own caller before it
// joins one.
//
// Every other method goes straight to the wrapped ledger. Ledger also
// implements ledger.RawStore and ledger.EventOutbox by forwarding, because
// the ingest path asks for them; the other optional interfaces
// (ledger.RunLog, ledger.DeadLetters, ...) are the wrapped ledger's, which
// Unwrap returns: give Ledger to the ingester and the ledger itself to
// everything else.
//
// Claims does the same for the Redis claims that precede the ledger write
// (coord.Dedupe): the claims, commits and releases of concurrent callers
// go to Redis in one pipelined round trip per batch instead of one or two
// per webhook request.
package groupcommit
