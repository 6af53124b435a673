-- +goose Up
-- slack_rooms is the Slack channel that hosts one incident's room. Nothing
-- here names a customer: channel ids and names are built from incident ids.
-- invited_at and pinned_at record the set-up steps already done, so a
-- retried sync repeats none of them.
CREATE TABLE slack_rooms (
    incident_id  TEXT PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    channel_id   TEXT NOT NULL UNIQUE CHECK (channel_id <> ''),
    channel_name TEXT NOT NULL CHECK (channel_name <> ''),
    topic        TEXT NOT NULL,
    invited_at   TEXT,
    pinned_at    TEXT,
    created_at   TEXT NOT NULL
);

-- slack_cards holds one row per message the room keeps current (the
-- header card, one card per step, each notice): where it is (channel and
-- ts) so it is updated in place, the digest of what it shows so the same
-- picture twice changes nothing, and the picture's time so a card never
-- goes back to an older one. An empty ts marks a post in flight: a retry
-- looks for that message in the channel before posting again.
CREATE TABLE slack_cards (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    card_key    TEXT NOT NULL CHECK (card_key <> ''),
    channel_id  TEXT NOT NULL CHECK (channel_id <> ''),
    ts          TEXT NOT NULL,
    digest      TEXT NOT NULL,
    as_of       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, card_key)
);

-- slack_requests remembers the signatures of Slack requests already served
-- for as long as their timestamp is acceptable, so a replayed request is
-- refused by every API replica.
CREATE TABLE slack_requests (
    signature_hash TEXT PRIMARY KEY,
    seen_at        TEXT NOT NULL
);
CREATE INDEX slack_requests_seen_at ON slack_requests (seen_at);

-- +goose Down
DROP TABLE slack_requests;
DROP TABLE slack_cards;
DROP TABLE slack_rooms;
