-- The audit log: one row per mutating call of the admin API or the status
-- page (who, what, when, and the result). Rows are only ever inserted.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at_ms  INTEGER NOT NULL,
    who    TEXT    NOT NULL DEFAULT '',
    role   TEXT    NOT NULL DEFAULT '',
    action TEXT    NOT NULL,
    target TEXT    NOT NULL DEFAULT '',
    result TEXT    NOT NULL,
    detail TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log (at_ms, id);
