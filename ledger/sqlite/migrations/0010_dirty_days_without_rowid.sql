-- dirty_days is only ever read and written by its key (employee, date):
-- stored WITHOUT ROWID, marking a day is one B-tree insert instead of two
-- (the table's rows and the key's index), on every ingest's commit.
CREATE TABLE dirty_days_lean (
    employee_id TEXT    NOT NULL,
    date        TEXT    NOT NULL,
    generation  INTEGER NOT NULL,
    marked_ms   INTEGER NOT NULL,
    PRIMARY KEY (employee_id, date)
) WITHOUT ROWID;
INSERT INTO dirty_days_lean (employee_id, date, generation, marked_ms)
    SELECT employee_id, date, generation, marked_ms FROM dirty_days;
DROP TABLE dirty_days;
ALTER TABLE dirty_days_lean RENAME TO dirty_days;
