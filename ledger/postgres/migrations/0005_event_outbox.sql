-- Event revisions to deliver to sinks that carry raw punches instead of
-- day records; the states are the day-record outbox's.
CREATE TABLE event_outbox (
    id          bigserial   PRIMARY KEY,
    sink        text        COLLATE "C" NOT NULL,
    event_id    text        COLLATE "C" NOT NULL,
    fingerprint text        COLLATE "C" NOT NULL,
    body        text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text        NOT NULL DEFAULT '',
    next_at     timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (sink, event_id, fingerprint)
);
CREATE INDEX event_outbox_due ON event_outbox (sink, state, next_at);
