-- +goose Up
-- alerts holds every signal a source sent: one row per (source,
-- fingerprint) per de-duplication window. Repeats within the window move
-- count and last_seen on the current row (is_current = 1); after the
-- window a repeat opens a new row. title, severity and labels are kept in
-- the clear to route and triage; the alert's own body and text, which may
-- name people, are sealed (sealed, key_id).
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL CHECK (source <> ''),
    fingerprint TEXT NOT NULL CHECK (fingerprint <> ''),
    is_current  INTEGER NOT NULL DEFAULT 1,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    src_status  TEXT NOT NULL CHECK (src_status IN ('firing', 'resolved')),
    labels      TEXT NOT NULL,
    starts_at   TEXT,
    key_id      TEXT NOT NULL,
    sealed      BLOB,
    state       TEXT NOT NULL CHECK (state IN ('open', 'launched', 'attached', 'dismissed')),
    rule_id     TEXT NOT NULL,
    incident_id TEXT REFERENCES incidents (id),
    count       INTEGER NOT NULL CHECK (count > 0),
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_at  TEXT,
    reason      TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_current ON alerts (source, fingerprint) WHERE is_current = 1;
CREATE INDEX alerts_state ON alerts (state, first_seen, id);
CREATE INDEX alerts_incident ON alerts (incident_id, id);

-- alert_events is the append-only record of every decision about an
-- alert: routed by a rule, launched, attached or dismissed by a person.
CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    INTEGER NOT NULL REFERENCES alerts (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    incident_id TEXT,
    reason      TEXT NOT NULL
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);
-- +goose StatementBegin
CREATE TRIGGER alert_events_append_only_update BEFORE UPDATE ON alert_events
BEGIN SELECT RAISE(ABORT, 'alert_events is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER alert_events_append_only_delete BEFORE DELETE ON alert_events
BEGIN SELECT RAISE(ABORT, 'alert_events is append-only'); END;
-- +goose StatementEnd

-- alert_storms is the open burst of each launch rule with a storm window:
-- the alert that opened it names the one incident the burst launches.
CREATE TABLE alert_storms (
    rule_id        TEXT PRIMARY KEY,
    first_alert_id INTEGER NOT NULL REFERENCES alerts (id),
    opened_at      TEXT NOT NULL
);

-- alert_cards is where an alert's Slack triage card is, so a decision
-- made anywhere (API, dashboard, Slack) updates it in place.
CREATE TABLE alert_cards (
    alert_id   INTEGER PRIMARY KEY REFERENCES alerts (id),
    channel_id TEXT NOT NULL CHECK (channel_id <> ''),
    ts         TEXT NOT NULL CHECK (ts <> ''),
    posted_at  TEXT NOT NULL
);

-- +goose Down
DROP TABLE alert_cards;
DROP TABLE alert_storms;
DROP TABLE alert_events;
DROP TABLE alerts;
