-- Due lists a sink's pending entries in the order they were enqueued. With
-- only (sink, state, next_ms) indexed it read and sorted every pending
-- entry on each call, so pushing N records cost N²/batch; this index hands
-- them out in order and Due stops after its limit. PostgreSQL's ledger
-- has had the same index from its first migration.
CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 'pending';
