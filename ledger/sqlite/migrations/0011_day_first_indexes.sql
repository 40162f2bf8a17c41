-- Ingest writes day-first. A platform pushes punches as people make them,
-- so a commit holds one punch each of hundreds of employees, all of one
-- day. Every index keyed by employee first put each of them on a leaf page
-- of its own among all the pages of the ledger's history, and each such
-- page is written to the WAL and copied again by the checkpoint. Keyed by
-- day first, a commit's entries fall among the few pages of the day.
--
-- 1. dirty_days is keyed by (date, employee_id). It holds every day not
--    yet reconciled, and the days of the open day stay until they settle.
-- 2. Punches and make-ups (no span) are indexed by (UTC day, employee,
--    time); approvals, a few an employee and found by their span, keep an
--    index by employee. The day is time_ms / 86400000, the expression the
--    queries name to use the index.
-- 3. employees lists every employee id an event has carried, for the
--    roster, which could otherwise only be read off every event: the new
--    punch index leads with the day. Storing an event with a known
--    employee writes nothing here.
CREATE TABLE dirty_days_by_date (
    employee_id TEXT    NOT NULL,
    date        TEXT    NOT NULL,
    generation  INTEGER NOT NULL,
    marked_ms   INTEGER NOT NULL,
    PRIMARY KEY (date, employee_id)
) WITHOUT ROWID;
INSERT INTO dirty_days_by_date (employee_id, date, generation, marked_ms)
    SELECT employee_id, date, generation, marked_ms FROM dirty_days;
DROP TABLE dirty_days;
ALTER TABLE dirty_days_by_date RENAME TO dirty_days;

DROP INDEX events_by_employee;
CREATE INDEX events_by_day ON events (time_ms / 86400000, employee_id, time_ms) WHERE latest = 1 AND start_ms IS NULL;
CREATE INDEX spans_by_employee ON events (employee_id, time_ms) WHERE latest = 1 AND start_ms IS NOT NULL;

CREATE TABLE employees (employee_id TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO employees SELECT DISTINCT employee_id FROM events WHERE employee_id != '';
