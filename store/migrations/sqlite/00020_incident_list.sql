-- +goose Up
-- The incident list reads the store's index, not Temporal: the title is
-- kept beside the incident (it is fixed at launch), and the list pages
-- newest first by (created_at, id).
ALTER TABLE incidents ADD COLUMN title TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_newest ON incidents (created_at DESC, id DESC);
CREATE INDEX incidents_status_newest ON incidents (status, created_at DESC, id DESC);

-- +goose Down
DROP INDEX incidents_status_newest;
DROP INDEX incidents_newest;
ALTER TABLE incidents DROP COLUMN title;
