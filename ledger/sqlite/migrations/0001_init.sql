-- The first ledger schema. Times are unix milliseconds (INTEGER) so that
-- they order and compare as numbers; the JSON columns keep each value
-- exactly as it was given, offsets included.

-- Every revision of every event. (id, fingerprint) is the de-duplication
-- key; revision counts the distinct contents of one id from 1, and latest
-- marks the highest revision so that queries need no MAX() subquery.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    latest      INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    platform    TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    employee_id TEXT    NOT NULL,
    time_ms     INTEGER NOT NULL,
    start_ms    INTEGER,
    end_ms      INTEGER,
    body        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    UNIQUE (id, fingerprint),
    UNIQUE (id, revision)
);
CREATE INDEX events_by_employee ON events (employee_id, time_ms) WHERE latest = 1;
CREATE INDEX events_quarantined ON events (platform, tenant, user_id) WHERE employee_id = '';

-- Events that failed validation, with their reasons.
CREATE TABLE rejections (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL,
    connector   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    raw         BLOB,
    received_ms INTEGER NOT NULL
);
CREATE INDEX rejections_by_time ON rejections (received_ms);

-- Employee-days awaiting recomputation. generation grows each time a day
-- is marked again, so that clearing a day that was re-marked after it was
-- listed leaves it dirty.
CREATE TABLE dirty_days (
    employee_id TEXT    NOT NULL,
    date        TEXT    NOT NULL,
    generation  INTEGER NOT NULL,
    marked_ms   INTEGER NOT NULL,
    PRIMARY KEY (employee_id, date)
);

-- Every version of every day record.
CREATE TABLE days (
    employee_id  TEXT    NOT NULL,
    date         TEXT    NOT NULL,
    shift        TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    latest       INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (employee_id, date, shift, version)
);
CREATE INDEX days_latest_by_date ON days (date, employee_id, shift) WHERE latest = 1;

-- How far each source connector has pulled successfully.
CREATE TABLE checkpoints (
    connector  TEXT    PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- Day-record versions to deliver, per sink. next_ms = 0 means at once.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    sink        TEXT    NOT NULL,
    employee_id TEXT    NOT NULL,
    date        TEXT    NOT NULL,
    shift       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    next_ms     INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    UNIQUE (sink, employee_id, date, shift, version)
);
CREATE INDEX outbox_due ON outbox (sink, state, next_ms);

-- What each sink acknowledged, and when.
CREATE TABLE deliveries (
    sink         TEXT    NOT NULL,
    employee_id  TEXT    NOT NULL,
    date         TEXT    NOT NULL,
    shift        TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id),
    delivered_ms INTEGER NOT NULL,
    PRIMARY KEY (sink, employee_id, date, shift, version)
);
