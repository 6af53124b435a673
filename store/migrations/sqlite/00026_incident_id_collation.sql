-- +goose Up
-- PostgreSQL's 00026 gives incidents.id and audit_events.incident_id the
-- "C" collation of every other incident key, so joins can use either
-- side's index. SQLite compares every key bytewise already.
SELECT 1;

-- +goose Down
SELECT 1;
