-- +goose Up
-- pdf_sha256 is the SHA-256 (hex) of the batch PDF as it was when legal
-- recorded it printed: the record of what went to the printer. The PDF is
-- rendered again on each download, deterministically, so a later download
-- with the same hash is the same document.
ALTER TABLE letter_batches ADD COLUMN pdf_sha256 TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE letter_batches DROP COLUMN pdf_sha256;
