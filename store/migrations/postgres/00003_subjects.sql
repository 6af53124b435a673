-- +goose Up
-- subjects holds an incident's affected customers. Email and name arrive
-- sealed by the caller (the store never sees them in the clear); email_hmac
-- is a keyed hash of the lower-cased email so re-uploads can find the row
-- without decrypting. A subject is one row per external id, or, when the
-- file has none, one row per email.

CREATE TABLE subjects (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id     TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    external_id     TEXT COLLATE "C" NOT NULL,
    email_hmac      TEXT COLLATE "C" NOT NULL,
    email_sealed    BYTEA NOT NULL,
    name_sealed     BYTEA NOT NULL,
    key_id          TEXT NOT NULL,
    locale          TEXT NOT NULL,
    country         TEXT NOT NULL,
    subdivision     TEXT NOT NULL,
    tier            TEXT NOT NULL CHECK (tier IN ('high', 'medium', 'low')),
    account_manager TEXT NOT NULL,
    data_elements   TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CHECK (external_id <> '' OR email_hmac <> '')
);

CREATE UNIQUE INDEX subjects_external_id ON subjects (incident_id, external_id) WHERE external_id <> '';
CREATE UNIQUE INDEX subjects_email_hmac ON subjects (incident_id, email_hmac) WHERE external_id = '' AND email_hmac <> '';
-- Notice fan-out pages through an incident's subjects by id.
CREATE INDEX subjects_incident_id ON subjects (incident_id, id);

-- +goose Down
DROP TABLE subjects;
