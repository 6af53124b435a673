-- +goose Up
-- notices holds one row per (incident, subject, kind): the delivery state of
-- one notice to one affected customer. The Message-ID is chosen at creation
-- and never changes, so a batch repeated after a crash carries the same one.
-- subject_id has no foreign key on purpose: deleting subjects (data
-- minimisation after closure) must not erase the proof that they were
-- notified. last_error holds an SMTP reply or a reason, never personal data.
-- claimed_at is when the notice last entered "sending"; a claim older than
-- the store's lease counts as a crashed batch and may be claimed again.

CREATE TABLE notices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    subject_id   INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind <> ''),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    message_id   TEXT NOT NULL CHECK (message_id <> ''),
    last_error   TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    claimed_at   TEXT,
    sent_at      TEXT,
    UNIQUE (incident_id, subject_id, kind)
);

CREATE UNIQUE INDEX notices_message_id ON notices (message_id);
-- The notice list pages by id within an incident, optionally by status.
CREATE INDEX notices_incident_status ON notices (incident_id, status, id);

-- +goose Down
DROP TABLE notices;
