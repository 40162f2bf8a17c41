-- The audit log: one row per mutating call of the admin API or the status
-- page (who, what, when, and the result). Rows are only ever inserted.
CREATE TABLE audit_log (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL,
    who    text        NOT NULL DEFAULT '',
    role   text        NOT NULL DEFAULT '',
    action text        NOT NULL,
    target text        NOT NULL DEFAULT '',
    result text        NOT NULL,
    detail text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log (at, id);
