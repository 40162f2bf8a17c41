// Package postgres is the shared ledger: ledger.Ledger on PostgreSQL through
// jackc/pgx, for running Punchbridge as several replicas behind a load
// balancer (ledger: {driver: postgres, dsn: ${DATABASE_URL}}).
//
// Several Ledgers, in one process or in many, may use one database at once.
// Every write that reads before it writes runs in one transaction under
// transaction-level advisory locks, released at commit even if the process
// dies:
//
//   - Append locks each event id of the batch (all at once, in key order, so
//     that writers cannot deadlock), reads the ids' stored revisions, and
//     writes the outcome in one round trip with a multi-row INSERT ... ON
//     CONFLICT DO NOTHING on (id, fingerprint). An id is therefore stored
//     once, and its revisions numbered 1, 2, 3 with one latest, however many
//     replicas receive it. A batch of more than a few hundred ids locks every
//     event at once instead, to keep PostgreSQL's lock table small.
//     IngestBatches does the same for events prepared by their callers and
//     writes their raw payloads and dirty days in the same transaction.
//   - Remap locks the ids it moves out of quarantine the same way.
//   - PutDay locks the day's key, so replicas computing the same content
//     store one version.
//   - Migrations run under one lock: replicas starting together apply each
//     one exactly once.
//
// A transaction that meets a deadlock or serialization failure anyway runs
// again, a few times. The outbox needs no lock: Due only lists, a replica
// claims an entry elsewhere (in Redis) before sending it, MarkDelivered
// locks the entry's row and keeps the first delivery time, and MarkFailed
// is one conditional UPDATE that never touches a delivered entry.
//
// The schema is versioned by the numbered files in migrations/, applied in
// order, each in its own transaction, and recorded in schema_migrations.
// Open applies only the ones a database lacks and refuses a database that a
// newer binary migrated (ledger.ErrSchemaTooNew). WithSchema puts the tables
// in a schema of their own, created if missing, by setting search_path on
// every connection; tests use it to run side by side in one database.
//
// Events and day records are stored as the JSON json.Marshal gives, so they
// come back with their offsets; times are also kept as timestamptz at
// millisecond precision for ordering and range queries, which therefore
// compare as on SQLite. Times the ledger returns of its own (checkpoints,
// rejection and outbox times) are in UTC. Text that is ordered uses the "C"
// collation, so results sort byte by byte whatever the database's locale.
//
// Connections come from a small bounded pool of the package's own (see
// WithMaxConns); a connection idle for a while is pinged before reuse, and
// one left broken or inside a transaction is closed rather than reused.
// Statements are prepared and cached per connection, pgx's default; behind
// a transaction-mode pooler such as PgBouncer add
// default_query_exec_mode=exec to the dsn.
package postgres
