-- The events' unique key leads with a day. It was (id, fingerprint), and
-- a punch's id leads with its user (dingtalk/<corp>/punch/<user>-<ms>), so
-- a morning's webhooks, one punch each of hundreds of users, put each of
-- a commit's punches on a page of the key of its own among the whole
-- history's: in a run of 100,000 time-ordered webhooks the key was 78% of
-- the pages written, each of its pages rewritten some 45 times.
--
-- id_day is the UTC day of the unix-millisecond time an id ends with after
-- a '-' (13 digits, as DingTalk's punch ids do), and 0 for any other id
-- (approvals, WeCom's punches, which only a pull brings in user order). It
-- is computed from the id alone, so every revision of an id has the same
-- one and a lookup by id computes it first (eventKeyDay in events.go, held
-- to this expression by a test). A day's punches then share the few pages
-- of that day, users in order within it: a morning's commit writes those,
-- and a pull's answer (50 users' week) a few pages of each of its days.
CREATE TABLE events_keyed (
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
    -- Byte by byte, as eventKeyDay reads it: SQLite's text functions read
    -- characters, and an id that is not valid UTF-8 must get the same day.
    id_day      INTEGER NOT NULL GENERATED ALWAYS AS (
        CASE WHEN length(CAST(id AS BLOB)) >= 14
              AND substr(CAST(id AS BLOB), -14, 1) = X'2D'
              AND hex(substr(CAST(id AS BLOB), -13)) GLOB '3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]3[0-9]'
        THEN CAST(CAST(substr(CAST(id AS BLOB), -13) AS TEXT) AS INTEGER) / 86400000 ELSE 0 END) VIRTUAL
);
INSERT INTO events_keyed (seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
    employee_id, time_ms, start_ms, end_ms, body, created_ms)
    SELECT seq, id, fingerprint, revision, latest, kind, platform, tenant, user_id,
        employee_id, time_ms, start_ms, end_ms, body, created_ms FROM events;
DROP TABLE events;
ALTER TABLE events_keyed RENAME TO events;
CREATE UNIQUE INDEX events_key ON events (id_day, id, fingerprint);
CREATE INDEX events_quarantined ON events (platform, tenant, user_id) WHERE employee_id = '';
CREATE INDEX events_by_day ON events (time_ms / 86400000, employee_id, time_ms) WHERE latest = 1 AND start_ms IS NULL;
CREATE INDEX spans_by_employee ON events (employee_id, time_ms) WHERE latest = 1 AND start_ms IS NOT NULL;
