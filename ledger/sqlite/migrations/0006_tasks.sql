-- Follow-up work connectors accepted (a callback that announced an
-- approval whose details are fetched later), kept until done.
CREATE TABLE tasks (
    id         INTEGER PRIMARY KEY,
    connector  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    next_ms    INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    UNIQUE (connector, kind, key)
);
CREATE INDEX tasks_due ON tasks (connector, next_ms);
