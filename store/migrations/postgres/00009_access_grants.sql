-- +goose Up
-- access_grants are time-boxed permissions to read an incident's decrypted
-- customer contacts (two-person control): one person asks, with a reason,
-- another approves, and the grant lets only its requester read, only for
-- its incident, only until expires_at. Rows are never deleted; every
-- request, approval and read is also in the incident's audit chain.
CREATE TABLE access_grants (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id      TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL CHECK (scope IN ('contacts')),
    requested_by     TEXT NOT NULL CHECK (requested_by <> ''),
    requester_role   TEXT NOT NULL,
    reason           TEXT NOT NULL CHECK (reason <> ''),
    duration_seconds BIGINT NOT NULL CHECK (duration_seconds > 0),
    status           TEXT NOT NULL CHECK (status IN ('requested', 'approved')),
    requested_at     TIMESTAMPTZ NOT NULL,
    approved_by      TEXT NOT NULL DEFAULT '',
    approver_role    TEXT NOT NULL DEFAULT '',
    approved_at      TIMESTAMPTZ,
    expires_at       TIMESTAMPTZ,
    CHECK (approved_by <> requested_by)
);
CREATE INDEX access_grants_incident ON access_grants (incident_id, requested_by);

-- +goose Down
DROP TABLE access_grants;
