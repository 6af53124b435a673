-- +goose Up
-- A customer's postal address, sealed by the caller like the email and the
-- name (same key id, additional data "subject.address:<incident>"). Empty
-- when the import had none: an absent address is not sealed, so letters can
-- find who has one without opening anything.
ALTER TABLE subjects ADD COLUMN address_sealed BYTEA NOT NULL DEFAULT '\x';

-- +goose Down
ALTER TABLE subjects DROP COLUMN address_sealed;
