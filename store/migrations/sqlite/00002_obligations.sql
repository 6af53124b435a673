-- +goose Up
-- obligations is an index of every incident's current regulatory duties, so
-- the deadline board and calendar feed need not query each workflow. The
-- workflow owns the truth; PutObligations replaces an incident's rows
-- wholesale after every change, so rows are never edited in place.

CREATE TABLE obligations (
    incident_id              TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    obligation_id            TEXT NOT NULL,
    regime                   TEXT NOT NULL,
    jurisdiction             TEXT NOT NULL,
    recipient                TEXT NOT NULL CHECK (recipient IN ('regulator', 'subjects', 'media', 'credit_bureaus', 'other')),
    recipient_name           TEXT NOT NULL,
    deadline                 TEXT NOT NULL,
    standard                 TEXT NOT NULL,
    due_at                   TEXT,
    status                   TEXT NOT NULL CHECK (status IN ('pending', 'overdue', 'filed', 'waived')),
    missing_facts            TEXT NOT NULL,
    needs_legal_confirmation INTEGER NOT NULL CHECK (needs_legal_confirmation IN (0, 1)),
    updated_at               TEXT NOT NULL,
    PRIMARY KEY (incident_id, obligation_id)
) WITHOUT ROWID;

-- The board asks for open duties soonest first.
CREATE INDEX obligations_status_due ON obligations (status, due_at);

-- A calendar token lets a calendar app read the deadline feed without the
-- bearer token; it acts for its owner and dies with the owner's revocation.
CREATE TABLE calendar_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_token_id INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    secret_hash    TEXT NOT NULL UNIQUE,
    created_at     TEXT NOT NULL
);

CREATE INDEX calendar_tokens_owner ON calendar_tokens (owner_token_id);

-- +goose Down
DROP TABLE calendar_tokens;
DROP TABLE obligations;
