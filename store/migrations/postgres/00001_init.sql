-- +goose Up
-- Objects are created unqualified, so they land in the first schema of the
-- connection's search_path.

CREATE TABLE api_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'legal', 'viewer')),
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
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
    created_at       TIMESTAMPTZ NOT NULL
);

-- Empty means "not given", so uniqueness only applies to real values.
CREATE UNIQUE INDEX incidents_external_ref ON incidents (external_ref) WHERE external_ref <> '';
CREATE UNIQUE INDEX incidents_idempotency_key ON incidents (idempotency_key) WHERE idempotency_key <> '';

-- details is JSON, not JSONB: JSON keeps the exact text the hash was computed
-- over, JSONB would reorder keys and change whitespace.
CREATE TABLE audit_events (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL CHECK (seq > 0),
    key         TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     JSON NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq),
    UNIQUE (incident_id, key)
);

-- The application never updates or deletes audit rows; this trigger turns an
-- accidental attempt into an error. A superuser or the table owner can still
-- disable it (ALTER TABLE … DISABLE TRIGGER), which is why every event is also
-- hash-chained: VerifyAudit detects what the trigger cannot prevent.
-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % rejected', TG_OP;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE incidents;
DROP TABLE api_tokens;
