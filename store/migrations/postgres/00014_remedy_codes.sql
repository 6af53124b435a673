-- +goose Up
-- remedy_codes is an incident's pool of enrollment codes from the remedy
-- provider (credit monitoring, identity protection). The code itself is
-- sealed by the caller (code_sealed, key_id); code_hmac is a keyed hash of
-- it, unique per incident, so a duplicate is refused without decrypting.
-- subject_id is the customer the code was given to: NULL while free, and
-- unique per incident, so no customer gets two codes; a code is assigned
-- once, by a conditional update, so no code goes to two customers.
-- subject_id has no foreign key, as in notices: the record of who was
-- offered what outlives a purge of the customer list.

CREATE TABLE remedy_codes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id    TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    code_hmac      TEXT COLLATE "C" NOT NULL CHECK (code_hmac <> ''),
    code_sealed    BYTEA NOT NULL,
    key_id         TEXT NOT NULL CHECK (key_id <> ''),
    product        TEXT NOT NULL CHECK (product <> ''),
    enrollment_url TEXT NOT NULL CHECK (enrollment_url <> ''),
    enroll_by      TIMESTAMPTZ NOT NULL,
    subject_id     BIGINT,
    assigned_at    TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (incident_id, code_hmac)
);

CREATE UNIQUE INDEX remedy_codes_subject ON remedy_codes (incident_id, subject_id) WHERE subject_id IS NOT NULL;
-- Assignment takes the oldest free code of a product.
CREATE INDEX remedy_codes_free ON remedy_codes (incident_id, product, id) WHERE subject_id IS NULL;

-- +goose Down
DROP TABLE remedy_codes;
