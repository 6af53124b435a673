-- +goose Up
-- mac authenticates each audit event with a key the database does not hold
-- (BREACHFLOW_AUDIT_KEYS): HMAC-SHA256 of the event's hash under the key
-- named by mac_key. Events written before are left empty and verify as
-- legacy: hash-chained, not authenticated.
ALTER TABLE audit_events ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN mac_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_events DROP COLUMN mac_key;
ALTER TABLE audit_events DROP COLUMN mac;
