-- +goose Up
-- alerts holds every signal a source sent: one row per (source,
-- fingerprint) per de-duplication window. Repeats within the window move
-- count and last_seen on the current row (is_current = 1); after the
-- window a repeat opens a new row. title, severity and labels are kept in
-- the clear to route and triage; the alert's own body and text, which may
-- name people, are sealed (sealed, key_id).
CREATE TABLE alerts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT COLLATE "C" NOT NULL CHECK (source <> ''),
    fingerprint TEXT COLLATE "C" NOT NULL CHECK (fingerprint <> ''),
    is_current  INTEGER NOT NULL DEFAULT 1,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    src_status  TEXT NOT NULL CHECK (src_status IN ('firing', 'resolved')),
    labels      TEXT NOT NULL,
    starts_at   TIMESTAMPTZ,
    key_id      TEXT NOT NULL,
    sealed      BYTEA,
    state       TEXT NOT NULL CHECK (state IN ('open', 'launched', 'attached', 'dismissed')),
    rule_id     TEXT NOT NULL,
    incident_id TEXT COLLATE "C" REFERENCES incidents (id),
    count       BIGINT NOT NULL CHECK (count > 0),
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_at  TIMESTAMPTZ,
    reason      TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_current ON alerts (source, fingerprint) WHERE is_current = 1;
CREATE INDEX alerts_state ON alerts (state, first_seen, id);
CREATE INDEX alerts_incident ON alerts (incident_id, id);

-- alert_events is the append-only record of every decision about an
-- alert: routed by a rule, launched, attached or dismissed by a person.
CREATE TABLE alert_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    BIGINT NOT NULL REFERENCES alerts (id),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    incident_id TEXT,
    reason      TEXT NOT NULL
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);
-- +goose StatementBegin
CREATE FUNCTION alert_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'alert_events is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION alert_events_append_only();

-- alert_storms is the open burst of each launch rule with a storm window:
-- the alert that opened it names the one incident the burst launches.
CREATE TABLE alert_storms (
    rule_id        TEXT COLLATE "C" PRIMARY KEY,
    first_alert_id BIGINT NOT NULL REFERENCES alerts (id),
    opened_at      TIMESTAMPTZ NOT NULL
);

-- alert_cards is where an alert's Slack triage card is, so a decision
-- made anywhere (API, dashboard, Slack) updates it in place.
CREATE TABLE alert_cards (
    alert_id   BIGINT PRIMARY KEY REFERENCES alerts (id),
    channel_id TEXT NOT NULL CHECK (channel_id <> ''),
    ts         TEXT NOT NULL CHECK (ts <> ''),
    posted_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE alert_cards;
DROP TABLE alert_storms;
DROP TABLE alert_events;
DROP FUNCTION alert_events_append_only();
DROP TABLE alerts;
