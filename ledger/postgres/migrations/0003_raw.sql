-- Raw platform payloads, kept apart from the normalized events so that
-- they can be purged after the retention while the events stay.
CREATE TABLE raw_payloads (
    event_id    text        COLLATE "C" NOT NULL,
    fingerprint text        COLLATE "C" NOT NULL,
    connector   text        NOT NULL,
    received_at timestamptz NOT NULL,
    body        jsonb       NOT NULL,
    PRIMARY KEY (event_id, fingerprint)
);
CREATE INDEX raw_payloads_received ON raw_payloads (received_at);
