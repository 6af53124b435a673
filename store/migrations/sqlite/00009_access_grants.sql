-- +goose Up
-- access_grants are time-boxed permissions to read an incident's decrypted
-- customer contacts (two-person control): one person asks, with a reason,
-- another approves, and the grant lets only its requester read, only for
-- its incident, only until expires_at. Rows are never deleted; every
-- request, approval and read is also in the incident's audit chain.
CREATE TABLE access_grants (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id      TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL CHECK (scope IN ('contacts')),
    requested_by     TEXT NOT NULL CHECK (requested_by <> ''),
    requester_role   TEXT NOT NULL,
    reason           TEXT NOT NULL CHECK (reason <> ''),
    duration_seconds INTEGER NOT NULL CHECK (duration_seconds > 0),
    status           TEXT NOT NULL CHECK (status IN ('requested', 'approved')),
    requested_at     TEXT NOT NULL,
    approved_by      TEXT NOT NULL DEFAULT '',
    approver_role    TEXT NOT NULL DEFAULT '',
    approved_at      TEXT,
    expires_at       TEXT,
    CHECK (approved_by <> requested_by)
);
CREATE INDEX access_grants_incident ON access_grants (incident_id, requested_by);

-- +goose Down
DROP TABLE access_grants;
