-- +goose Up
-- The deadline board reads open duties soonest first (due time, then
-- incident and obligation id; no due time last) and stops at its page:
-- obligations_due is that order, so no query sorts every open duty. The
-- incident list looks up each row's next deadline through
-- obligations_incident_open. obligations_status_due led SQLite's planner
-- to read every open duty for each of those look-ups.
DROP INDEX obligations_status_due;
CREATE INDEX obligations_due ON obligations ((due_at IS NULL), due_at, incident_id, obligation_id);
CREATE INDEX obligations_incident_open ON obligations (incident_id, status, due_at);

-- +goose Down
DROP INDEX obligations_incident_open;
DROP INDEX obligations_due;
CREATE INDEX obligations_status_due ON obligations (status, due_at);
