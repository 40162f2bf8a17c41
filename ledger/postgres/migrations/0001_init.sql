-- The first ledger schema. Times are timestamptz, written at millisecond
-- precision; the JSON bodies keep each value exactly as it was given,
-- offsets included. Text that is compared or ordered uses the "C"
-- collation, so that results sort byte by byte whatever the database's
-- locale, as they do on SQLite.

-- Every revision of every event. (id, fingerprint) is the de-duplication
-- key; revision counts the distinct contents of one id from 1, and latest
-- marks the highest revision so that queries need no MAX() subquery.
CREATE TABLE events (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text        COLLATE "C" NOT NULL,
    fingerprint text        COLLATE "C" NOT NULL,
    revision    integer     NOT NULL,
    latest      boolean     NOT NULL,
    kind        text        NOT NULL,
    platform    text        COLLATE "C" NOT NULL,
    tenant      text        COLLATE "C" NOT NULL,
    user_id     text        COLLATE "C" NOT NULL,
    employee_id text        COLLATE "C" NOT NULL,
    event_time  timestamptz NOT NULL,
    start_at    timestamptz,
    end_at      timestamptz,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (id, fingerprint),
    UNIQUE (id, revision)
);
CREATE UNIQUE INDEX events_one_latest ON events (id) WHERE latest;
CREATE INDEX events_by_employee ON events (employee_id, event_time) WHERE latest;
CREATE INDEX events_quarantined ON events (platform, tenant, user_id) WHERE employee_id = '';

-- Events that failed validation, with their reasons.
CREATE TABLE rejections (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text        NOT NULL,
    connector   text        NOT NULL,
    reason      text        NOT NULL,
    raw         bytea,
    received_at timestamptz NOT NULL
);
CREATE INDEX rejections_by_time ON rejections (received_at);

-- Employee-days awaiting recomputation. generation grows each time a day
-- is marked again, so that clearing a day that was re-marked after it was
-- listed leaves it dirty.
CREATE TABLE dirty_days (
    employee_id text        COLLATE "C" NOT NULL,
    date        date        NOT NULL,
    generation  bigint      NOT NULL,
    marked_at   timestamptz NOT NULL,
    PRIMARY KEY (employee_id, date)
);

-- Every version of every day record.
CREATE TABLE days (
    employee_id  text        COLLATE "C" NOT NULL,
    date         date        NOT NULL,
    shift        text        COLLATE "C" NOT NULL,
    version      integer     NOT NULL,
    latest       boolean     NOT NULL,
    content_hash text        NOT NULL,
    body         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (employee_id, date, shift, version)
);
CREATE UNIQUE INDEX days_one_latest ON days (employee_id, date, shift) WHERE latest;
CREATE INDEX days_latest_by_date ON days (date, employee_id, shift) WHERE latest;

-- How far each source connector has pulled successfully.
CREATE TABLE checkpoints (
    connector  text        PRIMARY KEY,
    at         timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Day-record versions to deliver, per sink. A NULL next_at means at once.
CREATE TABLE outbox (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sink        text        COLLATE "C" NOT NULL,
    employee_id text        COLLATE "C" NOT NULL,
    date        date        NOT NULL,
    shift       text        COLLATE "C" NOT NULL,
    version     integer     NOT NULL,
    body        text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text        NOT NULL DEFAULT '',
    next_at     timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (sink, employee_id, date, shift, version)
);
CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 'pending';
CREATE INDEX outbox_by_state ON outbox (state, id);

-- What each sink acknowledged, and when.
CREATE TABLE deliveries (
    sink         text        COLLATE "C" NOT NULL,
    employee_id  text        COLLATE "C" NOT NULL,
    date         date        NOT NULL,
    shift        text        COLLATE "C" NOT NULL,
    version      integer     NOT NULL,
    outbox_id    bigint      NOT NULL REFERENCES outbox (id),
    delivered_at timestamptz NOT NULL,
    PRIMARY KEY (sink, employee_id, date, shift, version)
);
