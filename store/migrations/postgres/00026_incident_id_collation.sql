-- +goose Up
-- Every table keys incidents by TEXT COLLATE "C" except incidents and
-- audit_events themselves, which had the database's default collation. A
-- join across the two collations cannot use the other side's index: the
-- deadline board, reading obligations soonest first, had to sort every
-- open duty instead of looking up each row's incident by primary key.
-- Only the collation changes (text stays text), so the tables are not
-- rewritten; their indexes are rebuilt.
ALTER TABLE incidents ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE audit_events ALTER COLUMN incident_id TYPE TEXT COLLATE "C";

-- +goose Down
ALTER TABLE audit_events ALTER COLUMN incident_id TYPE TEXT COLLATE "default";
ALTER TABLE incidents ALTER COLUMN id TYPE TEXT COLLATE "default";
