-- +goose Up
-- PostgreSQL's 00027 takes status out of the notices' indexes so a
-- notice's two status changes as it is sent touch no index. SQLite, too,
-- rewrote the status index's entry at each change; the notice listing
-- pages an incident's notices in id order through notices_incident_id.
DROP INDEX notices_incident_status;
CREATE INDEX notices_incident_id ON notices (incident_id, id);

-- +goose Down
DROP INDEX notices_incident_id;
CREATE INDEX notices_incident_status ON notices (incident_id, status, id);
