-- +goose Up
-- Letters: the postal channel for customers email cannot reach. Each
-- letter's delivery state is a notice of kind 'letter' (pending until the
-- batch is handed to the printer, sent when it is, failed when it cannot be
-- printed or comes back undeliverable, with the reason in last_error).
-- letter_batches are what legal hands to a printer; letter_batch_items say
-- which customers a batch holds (each customer is in at most one batch).
CREATE TABLE letter_batches (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id       TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    created_by        TEXT NOT NULL CHECK (created_by <> ''),
    created_at        TEXT NOT NULL,
    letters           INTEGER NOT NULL CHECK (letters >= 0),
    unprintable       INTEGER NOT NULL CHECK (unprintable >= 0),
    printed_by        TEXT NOT NULL DEFAULT '',
    printed_at        TEXT,
    printer_reference TEXT NOT NULL DEFAULT ''
);
CREATE INDEX letter_batches_incident ON letter_batches (incident_id, id);

-- subject_id has no foreign key, as in notices: purging customers must not
-- erase the record of what was mailed.
CREATE TABLE letter_batch_items (
    batch_id    INTEGER NOT NULL REFERENCES letter_batches (id) ON DELETE CASCADE,
    incident_id TEXT NOT NULL,
    subject_id  INTEGER NOT NULL,
    PRIMARY KEY (batch_id, subject_id),
    UNIQUE (incident_id, subject_id)
);

-- +goose Down
DROP TABLE letter_batch_items;
DROP TABLE letter_batches;
