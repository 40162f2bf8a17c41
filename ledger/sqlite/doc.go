// Package sqlite is the embedded ledger: ledger.Ledger on one SQLite file
// through modernc.org/sqlite (pure Go, no cgo), the default for a single
// node and for the demo.
//
// The file runs in WAL mode, so readers never wait for the writer. Writes
// go through one connection and begin IMMEDIATE: SQLite admits one writer at
// a time, and taking the lock up front keeps two processes on one file
// from deadlocking. busy_timeout makes a second process wait for the lock
// instead of failing, and foreign keys are enforced. The writer does not
// checkpoint the WAL itself: a goroutine with a connection of its own does,
// beside it (checkpoint.go). An ingest's events, prepared by the caller
// (ledger.PrepareEvents), their raw payloads and their dirty days go in one
// transaction (IngestBatch), and the writer only runs SQL.
//
// What the writer costs is mostly the pages a commit dirties, each written
// to the WAL and again by the checkpoint, so the schema keeps one index
// that finds an event by id, UNIQUE (id_day, id, fingerprint), where id_day
// is the day a punch's id names (eventKeyDay), so that a morning's punches
// share that day's pages; a raw payload is keyed by the row (seq) of the
// revision it belongs to, appended at the table's end, and a revision's
// number comes from the history the writer reads first.
//
// The schema is versioned by the numbered files in migrations/, applied in
// order, each in its own transaction, and recorded in schema_migrations.
// Open applies only the ones a database lacks and refuses a database that
// a newer binary migrated (ledger.ErrSchemaTooNew).
//
// Events are stored as the JSON json.Marshal gives, so they come back byte
// for byte with their offsets; times are also kept as unix milliseconds
// for ordering and range queries, which therefore compare at millisecond
// precision. Times the ledger returns of its own (checkpoints, rejection
// and outbox times) are in UTC.
//
// With synchronous=NORMAL in WAL mode a committed write survives a crash of
// the process; a power loss may undo the last commits, never corrupt the
// file.
package sqlite
