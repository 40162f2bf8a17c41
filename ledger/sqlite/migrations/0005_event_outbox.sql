-- Event revisions to deliver to sinks that carry raw punches instead of
-- day records; the states are the day-record outbox's.
CREATE TABLE event_outbox (
    id          INTEGER PRIMARY KEY,
    sink        TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    next_ms     INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    UNIQUE (sink, event_id, fingerprint)
);
CREATE INDEX event_outbox_due ON event_outbox (sink, state, next_ms);
