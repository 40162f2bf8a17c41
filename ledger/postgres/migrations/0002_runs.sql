-- Runs of scheduled jobs: one row per run, for `punchbridge jobs history`
-- and for catching up a tick missed while every replica was down.
CREATE TABLE job_runs (
    id          bigserial   PRIMARY KEY,
    job         text        COLLATE "C" NOT NULL,
    tick        timestamptz NOT NULL,
    trigger     text        NOT NULL,
    owner       text        NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    outcome     text        NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed')),
    error       text        NOT NULL DEFAULT '',
    counts      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX job_runs_by_job ON job_runs (job, id);
