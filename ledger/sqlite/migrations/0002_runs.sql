-- Runs of scheduled jobs: one row per run, for `punchbridge jobs history`
-- and for catching up a tick missed while every replica was down.
CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT    NOT NULL,
    tick_ms     INTEGER NOT NULL,
    trigger     TEXT    NOT NULL,
    owner       TEXT    NOT NULL DEFAULT '',
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed')),
    error       TEXT    NOT NULL DEFAULT '',
    counts      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX job_runs_by_job ON job_runs (job, id);
