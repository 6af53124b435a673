-- +goose Up
-- Times are TEXT in a fixed-width RFC 3339 form with exactly six fractional
-- digits and a trailing Z ("2026-11-23T08:00:00.000000Z"): readable with the
-- sqlite3 shell, exact to the microsecond, and ordered correctly as text.

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'legal', 'viewer')),
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE incidents (
    id               TEXT PRIMARY KEY,
    playbook_id      TEXT NOT NULL,
    playbook_version INTEGER NOT NULL,
    severity         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    external_ref     TEXT NOT NULL DEFAULT '',
    idempotency_key  TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

-- Empty means "not given", so uniqueness only applies to real values.
CREATE UNIQUE INDEX incidents_external_ref ON incidents (external_ref) WHERE external_ref <> '';
CREATE UNIQUE INDEX incidents_idempotency_key ON incidents (idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE audit_events (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    key         TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq),
    UNIQUE (incident_id, key)
) WITHOUT ROWID;

-- The application never updates or deletes audit rows; these triggers turn an
-- accidental attempt into an error. Anyone with write access to the file can
-- drop them, which is why every event is also hash-chained.
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_events;
DROP TABLE incidents;
DROP TABLE api_tokens;
