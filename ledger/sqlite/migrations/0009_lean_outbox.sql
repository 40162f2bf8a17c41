-- A smaller outbox, for the same reason as migration 8: the pages a
-- commit dirties are what the writer pays for, twice (WAL, checkpoint).
--
-- 1. An entry of a stored day-record version keeps no copy of the record
--    (body NULL): reading it joins days. Only an entry whose record is not
--    the stored version's (Enqueue of a record given by the caller) keeps
--    its own body. Marking an entry delivered then rewrites a short row.
-- 2. The entry records when the sink acknowledged it (delivered_ms, 0
--    until then); the deliveries table, one row per delivered entry with
--    the entry's own key, goes.
-- 3. outbox_due (sink, state, next_ms), which every state change moved,
--    gives way to outbox_dead: Due reads outbox_pending, and the only
--    listing by state the product makes is of the dead-letter queue.
CREATE TABLE outbox_lean (
    id           INTEGER PRIMARY KEY,
    sink         TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    date         TEXT    NOT NULL,
    shift        TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    next_ms      INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    delivered_ms INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sink, employee_id, date, shift, version)
);
INSERT INTO outbox_lean (id, sink, employee_id, date, shift, version, body, state, attempts, last_error,
        next_ms, created_ms, updated_ms, delivered_ms)
    SELECT o.id, o.sink, o.employee_id, o.date, o.shift, o.version,
        CASE WHEN d.body = o.body THEN NULL ELSE o.body END,
        o.state, o.attempts, o.last_error, o.next_ms, o.created_ms, o.updated_ms, coalesce(dl.delivered_ms, 0)
    FROM outbox o
    LEFT JOIN days d ON d.employee_id = o.employee_id AND d.date = o.date AND d.shift = o.shift AND d.version = o.version
    LEFT JOIN deliveries dl ON dl.outbox_id = o.id;
DROP TABLE deliveries;
DROP TABLE outbox;
ALTER TABLE outbox_lean RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox (sink, id) WHERE state = 'dead';
