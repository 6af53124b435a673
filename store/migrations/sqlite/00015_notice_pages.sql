-- +goose Up
-- notice_pages holds one row per (incident, subject): the customer's link
-- to their notice page. The link's token is never stored, only its
-- SHA-256 (token_hash); salt is the random part the sender derives the
-- token from, so a resent notice carries the same link. read_at and
-- acked_at are the first read and acknowledgement; the delivery report
-- counts them per jurisdiction and never lists who.

CREATE TABLE notice_pages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    subject_id   INTEGER NOT NULL,
    salt         TEXT NOT NULL CHECK (salt <> ''),
    token_hash   TEXT NOT NULL CHECK (token_hash <> ''),
    jurisdiction TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    read_at      TEXT,
    acked_at     TEXT,
    UNIQUE (incident_id, subject_id)
);

CREATE UNIQUE INDEX notice_pages_token ON notice_pages (token_hash);

-- +goose Down
DROP TABLE notice_pages;
