-- +goose Up
-- obligations is an index of every incident's current regulatory duties, so
-- the deadline board and calendar feed need not query each workflow. The
-- workflow owns the truth; PutObligations replaces an incident's rows
-- wholesale after every change, so rows are never edited in place.
--
-- The text keys use the "C" collation so that ListDeadlines orders ties by
-- byte value, exactly as SQLite does, whatever the database's locale.

CREATE TABLE obligations (
    incident_id              TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    obligation_id            TEXT COLLATE "C" NOT NULL,
    regime                   TEXT NOT NULL,
    jurisdiction             TEXT NOT NULL,
    recipient                TEXT NOT NULL CHECK (recipient IN ('regulator', 'subjects', 'media', 'credit_bureaus', 'other')),
    recipient_name           TEXT NOT NULL,
    deadline                 TEXT NOT NULL,
    standard                 TEXT NOT NULL,
    due_at                   TIMESTAMPTZ,
    status                   TEXT NOT NULL CHECK (status IN ('pending', 'overdue', 'filed', 'waived')),
    missing_facts            JSON NOT NULL,
    needs_legal_confirmation BOOLEAN NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, obligation_id)
);

-- The board asks for open duties soonest first.
CREATE INDEX obligations_status_due ON obligations (status, due_at);

-- A calendar token lets a calendar app read the deadline feed without the
-- bearer token; it acts for its owner and dies with the owner's revocation.
CREATE TABLE calendar_tokens (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_token_id BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    secret_hash    TEXT NOT NULL UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE INDEX calendar_tokens_owner ON calendar_tokens (owner_token_id);

-- +goose Down
DROP TABLE calendar_tokens;
DROP TABLE obligations;
