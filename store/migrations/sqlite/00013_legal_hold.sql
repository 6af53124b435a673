-- +goose Up
-- legal_holds records every legal hold of an incident: who placed it and
-- why, who lifted it and why. An incident is held while it has a row with
-- no lifted_at; at most one such row exists per incident.
CREATE TABLE legal_holds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    placed_by   TEXT NOT NULL CHECK (placed_by <> ''),
    placed_at   TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason <> ''),
    lifted_by   TEXT NOT NULL DEFAULT '',
    lifted_at   TEXT,
    lift_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX legal_holds_active ON legal_holds (incident_id) WHERE lifted_at IS NULL;

-- While an incident is held its customers and the incident itself cannot
-- be deleted, whatever path tries: the store's purge refuses first with a
-- clear error, and these triggers stop any other statement.
-- +goose StatementBegin
CREATE TRIGGER subjects_legal_hold BEFORE DELETE ON subjects
WHEN EXISTS (SELECT 1 FROM legal_holds WHERE incident_id = OLD.incident_id AND lifted_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'legal hold: the incident''s customer data cannot be deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER incidents_legal_hold BEFORE DELETE ON incidents
WHEN EXISTS (SELECT 1 FROM legal_holds WHERE incident_id = OLD.id AND lifted_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'legal hold: the incident cannot be deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER incidents_legal_hold;
DROP TRIGGER subjects_legal_hold;
DROP TABLE legal_holds;
