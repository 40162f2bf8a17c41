-- Raw platform payloads, kept apart from the normalized events so that
-- they can be purged after the retention while the events stay.
CREATE TABLE raw_payloads (
    event_id    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    connector   TEXT    NOT NULL,
    received_ms INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (event_id, fingerprint)
);
CREATE INDEX raw_payloads_received ON raw_payloads (received_ms);
