-- Fewer B-trees per stored event. Each index keyed by event id gets a
-- leaf page rewritten per user in every commit (ids arrive spread over
-- many users), and those pages are what the WAL and its checkpoints write.
--
-- 1. events keeps UNIQUE (id, fingerprint), the de-duplication key, which
--    also serves every lookup by id; UNIQUE (id, revision) goes. Revisions
--    are numbered by the one writer from the stored history it reads first.
-- 2. raw_payloads is keyed by the seq of the event revision it belongs to,
--    so that storing one appends to the end of the table instead of adding
--    a second id-keyed index. A payload whose revision the ledger does not
--    hold is not carried over: there is nothing to debug with it.
CREATE TABLE events_lean (
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
    UNIQUE (id, fingerprint)
);
INSERT INTO events_lean SELECT seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
    employee_id, time_ms, start_ms, end_ms, body, created_ms FROM events;

CREATE TABLE raw_lean (
    seq         INTEGER PRIMARY KEY, -- events.seq of the revision
    connector   TEXT    NOT NULL,
    received_ms INTEGER NOT NULL,
    body        TEXT    NOT NULL
);
INSERT INTO raw_lean (seq, connector, received_ms, body)
    SELECT e.seq, r.connector, r.received_ms, r.body
    FROM raw_payloads r JOIN events_lean e ON e.id = r.event_id AND e.fingerprint = r.fingerprint;

DROP TABLE raw_payloads;
DROP TABLE events;
ALTER TABLE events_lean RENAME TO events;
ALTER TABLE raw_lean RENAME TO raw_payloads;
CREATE INDEX events_by_employee ON events (employee_id, time_ms) WHERE latest = 1;
CREATE INDEX events_quarantined ON events (platform, tenant, user_id) WHERE employee_id = '';
CREATE INDEX raw_payloads_received ON raw_payloads (received_ms);
