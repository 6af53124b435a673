-- +goose Up
-- The incident's phase (the first ready step, "awaiting-close" or
-- "closed"), written by its workflow as it moves, so lists and boards read
-- it from the store instead of asking each workflow. Empty until the
-- workflow's next pass writes it (incidents launched by builds before it).
ALTER TABLE incidents ADD COLUMN phase TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN phase;
