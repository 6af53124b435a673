-- +goose Up
-- Tokens get a life cycle. expires_at (NULL = never) ends a token on its
-- own; bootstrap marks the token made from BREACHFLOW_ADMIN_TOKEN, so a
-- rotated variable revokes the previous one. Tokens the bootstrap made
-- before this migration were named "admin" with role admin, so those are
-- marked too. Calendar tokens are revoked one by one. Dashboard sessions
-- become server-side rows: the cookie names a session, signing out ends
-- it, and revoking or expiring its token ends it too.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN bootstrap INTEGER NOT NULL DEFAULT 0;
UPDATE api_tokens SET bootstrap = 1 WHERE name = 'admin' AND role = 'admin';

ALTER TABLE calendar_tokens ADD COLUMN revoked_at TEXT;

CREATE TABLE dashboard_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id    INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended_at    TEXT
);

CREATE INDEX dashboard_sessions_token ON dashboard_sessions (token_id);

-- +goose Down
DROP TABLE dashboard_sessions;
ALTER TABLE calendar_tokens DROP COLUMN revoked_at;
ALTER TABLE api_tokens DROP COLUMN bootstrap;
ALTER TABLE api_tokens DROP COLUMN expires_at;
