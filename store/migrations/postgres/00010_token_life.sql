-- +goose Up
-- Tokens get a life cycle. expires_at (NULL = never) ends a token on its
-- own; bootstrap marks the token made from BREACHFLOW_ADMIN_TOKEN, so a
-- rotated variable revokes the previous one. Tokens the bootstrap made
-- before this migration were named "admin" with role admin, so those are
-- marked too. Calendar tokens are revoked one by one. Dashboard sessions
-- become server-side rows: the cookie names a session, signing out ends
-- it, and revoking or expiring its token ends it too.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN bootstrap BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE api_tokens SET bootstrap = TRUE WHERE name = 'admin' AND role = 'admin';

ALTER TABLE calendar_tokens ADD COLUMN revoked_at TIMESTAMPTZ;

CREATE TABLE dashboard_sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id    BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ
);

CREATE INDEX dashboard_sessions_token ON dashboard_sessions (token_id);

-- +goose Down
DROP TABLE dashboard_sessions;
ALTER TABLE calendar_tokens DROP COLUMN revoked_at;
ALTER TABLE api_tokens DROP COLUMN bootstrap;
ALTER TABLE api_tokens DROP COLUMN expires_at;
