-- +goose Up
-- request_digest fingerprints the launch request that came with an
-- idempotency key: the same key with another body is refused, not
-- answered with the first incident. Records made before are left empty
-- and accept any repeat, as they did.
ALTER TABLE incidents ADD COLUMN request_digest TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN request_digest;
