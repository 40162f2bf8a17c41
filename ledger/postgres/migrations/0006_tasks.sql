-- Follow-up work connectors accepted (a callback that announced an
-- approval whose details are fetched later), kept until done.
CREATE TABLE tasks (
    id         bigserial   PRIMARY KEY,
    connector  text        COLLATE "C" NOT NULL,
    kind       text        COLLATE "C" NOT NULL,
    key        text        COLLATE "C" NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT '',
    next_at    timestamptz,
    created_at timestamptz NOT NULL,
    UNIQUE (connector, kind, key)
);
CREATE INDEX tasks_due ON tasks (connector, next_at);
