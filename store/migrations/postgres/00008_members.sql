-- +goose Up
-- restricted marks an incident visible only to its members (and admins);
-- incident_members lists those members as principals: API token names,
-- "slack:<user id>" or a staff email for people acting from Slack. The
-- API's authorization decision reads both before anything else is read
-- or written. Incidents recorded before this migration read as
-- unrestricted here (their workflow still refuses non-members' actions).
ALTER TABLE incidents ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE incident_members (
    incident_id TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    principal   TEXT COLLATE "C" NOT NULL CHECK (principal <> '' AND length(principal) <= 200),
    added_by    TEXT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, principal)
);
CREATE INDEX incident_members_principal ON incident_members (principal);
-- Lists ask for the restricted incidents a caller is no member of.
CREATE INDEX incidents_restricted ON incidents (id) WHERE restricted = TRUE;

-- +goose Down
DROP INDEX incidents_restricted;
DROP TABLE incident_members;
ALTER TABLE incidents DROP COLUMN restricted;
