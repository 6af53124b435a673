-- +goose Up
-- legal_holds records every legal hold of an incident: who placed it and
-- why, who lifted it and why. An incident is held while it has a row with
-- no lifted_at; at most one such row exists per incident.
CREATE TABLE legal_holds (
    id          BIGSERIAL PRIMARY KEY,
    incident_id TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    placed_by   TEXT NOT NULL CHECK (placed_by <> ''),
    placed_at   TIMESTAMPTZ NOT NULL,
    reason      TEXT NOT NULL CHECK (reason <> ''),
    lifted_by   TEXT NOT NULL DEFAULT '',
    lifted_at   TIMESTAMPTZ,
    lift_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX legal_holds_active ON legal_holds (incident_id) WHERE lifted_at IS NULL;

-- While an incident is held its customers and the incident itself cannot
-- be deleted, whatever path tries: the store's purge refuses first with a
-- clear error, and these triggers stop any other statement.
-- +goose StatementBegin
CREATE FUNCTION legal_hold_refuse_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held_id TEXT;
BEGIN
    IF TG_TABLE_NAME = 'incidents' THEN
        held_id := OLD.id;
    ELSE
        held_id := OLD.incident_id;
    END IF;
    IF EXISTS (SELECT 1 FROM legal_holds WHERE incident_id = held_id AND lifted_at IS NULL) THEN
        RAISE EXCEPTION 'legal hold: incident % cannot be deleted, nor its customer data', held_id;
    END IF;
    RETURN OLD;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER subjects_legal_hold BEFORE DELETE ON subjects
    FOR EACH ROW EXECUTE FUNCTION legal_hold_refuse_delete();
CREATE TRIGGER incidents_legal_hold BEFORE DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION legal_hold_refuse_delete();

-- +goose Down
DROP TRIGGER incidents_legal_hold ON incidents;
DROP TRIGGER subjects_legal_hold ON subjects;
DROP FUNCTION legal_hold_refuse_delete();
DROP TABLE legal_holds;
