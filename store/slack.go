package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// SlackRoom is the Slack channel hosting an incident's room.
type SlackRoom struct {
	IncidentID  string
	ChannelID   string
	ChannelName string
	Topic       string     // the topic last set, so an unchanged one is not set again
	InvitedAt   *time.Time // when the responders were invited; nil until then
	PinnedAt    *time.Time // when the header card was pinned; nil until then
	CreatedAt   time.Time
}

// SlackCard is one message the room keeps current. An empty TS marks a
// post in flight (its outcome unknown); Digest is a hash of what the
// message shows and AsOf the time of the picture it shows.
type SlackCard struct {
	IncidentID string
	Key        string // "header", "step:<id>", "notice:<key>", …
	ChannelID  string
	TS         string
	Digest     string
	AsOf       time.Time
}

// SlackRequestWindow is how long a Slack request signature is remembered:
// Slack's timestamps are accepted five minutes either side of now.
const SlackRequestWindow = 10 * time.Minute

const slackRoomColumns = `incident_id, channel_id, channel_name, topic, invited_at, pinned_at, created_at`

func scanSlackRoom(row interface{ Scan(...any) error }) (SlackRoom, error) {
	var r SlackRoom
	var invited, pinned time.Time
	err := row.Scan(&r.IncidentID, &r.ChannelID, &r.ChannelName, &r.Topic, dbTime{&invited}, dbTime{&pinned}, dbTime{&r.CreatedAt})
	if !invited.IsZero() {
		r.InvitedAt = &invited
	}
	if !pinned.IsZero() {
		r.PinnedAt = &pinned
	}
	return r, err
}

func (s *SQL) nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return s.timeArg(*t)
}

// PutSlackRoom inserts or replaces the incident's room. The incident must
// exist (ErrNotFound otherwise); a channel already hosting another
// incident is ErrConflict.
func (s *SQL) PutSlackRoom(ctx context.Context, r SlackRoom) error {
	if r.IncidentID == "" || r.ChannelID == "" || r.ChannelName == "" {
		return fmt.Errorf("store: put slack room: %w: incident id, channel id and channel name are required", ErrInvalid)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), r.IncidentID).Scan(&one); err != nil {
			return notFound(err)
		}
		var other string
		err := tx.QueryRowContext(ctx, s.q(`SELECT incident_id FROM slack_rooms WHERE channel_id = ?`), r.ChannelID).Scan(&other)
		switch {
		case err == nil && other != r.IncidentID:
			return fmt.Errorf("%w: channel %s hosts incident %s", ErrConflict, r.ChannelID, other)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO slack_rooms (`+slackRoomColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (incident_id) DO UPDATE SET channel_id = excluded.channel_id, channel_name = excluded.channel_name,
			topic = excluded.topic, invited_at = excluded.invited_at, pinned_at = excluded.pinned_at`),
			r.IncidentID, r.ChannelID, r.ChannelName, r.Topic, s.nullTime(r.InvitedAt), s.nullTime(r.PinnedAt), s.timeArg(r.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put slack room: %w", err)
	}
	return nil
}

// GetSlackRoom returns the incident's room, or ErrNotFound.
func (s *SQL) GetSlackRoom(ctx context.Context, incidentID string) (SlackRoom, error) {
	r, err := scanSlackRoom(s.db.QueryRowContext(ctx, s.q(`SELECT `+slackRoomColumns+` FROM slack_rooms WHERE incident_id = ?`), incidentID))
	if err != nil {
		return SlackRoom{}, fmt.Errorf("store: get slack room: %w", notFound(err))
	}
	return r, nil
}

// SlackRoomByChannel returns the room hosted by a channel, or ErrNotFound.
func (s *SQL) SlackRoomByChannel(ctx context.Context, channelID string) (SlackRoom, error) {
	r, err := scanSlackRoom(s.db.QueryRowContext(ctx, s.q(`SELECT `+slackRoomColumns+` FROM slack_rooms WHERE channel_id = ?`), channelID))
	if err != nil {
		return SlackRoom{}, fmt.Errorf("store: slack room by channel: %w", notFound(err))
	}
	return r, nil
}

// PutSlackCard inserts or replaces one card's record. The incident must
// exist (ErrNotFound otherwise).
func (s *SQL) PutSlackCard(ctx context.Context, c SlackCard) error {
	if c.IncidentID == "" || c.Key == "" || c.ChannelID == "" {
		return fmt.Errorf("store: put slack card: %w: incident id, key and channel id are required", ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM incidents WHERE id = ?`), c.IncidentID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO slack_cards (incident_id, card_key, channel_id, ts, digest, as_of, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (incident_id, card_key) DO UPDATE SET channel_id = excluded.channel_id, ts = excluded.ts,
			digest = excluded.digest, as_of = excluded.as_of, updated_at = excluded.updated_at`),
			c.IncidentID, c.Key, c.ChannelID, c.TS, c.Digest, s.timeArg(c.AsOf), s.timeArg(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put slack card: %w", err)
	}
	return nil
}

// GetSlackCard returns one card's record, or ErrNotFound.
func (s *SQL) GetSlackCard(ctx context.Context, incidentID, key string) (SlackCard, error) {
	var c SlackCard
	err := s.db.QueryRowContext(ctx, s.q(`SELECT incident_id, card_key, channel_id, ts, digest, as_of
		FROM slack_cards WHERE incident_id = ? AND card_key = ?`), incidentID, key).
		Scan(&c.IncidentID, &c.Key, &c.ChannelID, &c.TS, &c.Digest, dbTime{&c.AsOf})
	if err != nil {
		return SlackCard{}, fmt.Errorf("store: get slack card: %w", notFound(err))
	}
	return c, nil
}

// SlackRequestSeen records a Slack request by its decoded signature MAC
// (the bytes, not the header's hex, whose letter case a replay could
// change) and reports whether it had been recorded before (a replay).
// Entries older than SlackRequestWindow are dropped on the way.
func (s *SQL) SlackRequestSeen(ctx context.Context, mac []byte, at time.Time) (bool, error) {
	if len(mac) == 0 {
		return false, fmt.Errorf("store: slack request seen: %w: empty signature", ErrInvalid)
	}
	sum := sha256.Sum256(mac)
	signatureHash := hex.EncodeToString(sum[:])
	var seen bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM slack_requests WHERE seen_at < ?`), s.timeArg(at.Add(-SlackRequestWindow))); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO slack_requests (signature_hash, seen_at) VALUES (?, ?)
			ON CONFLICT (signature_hash) DO NOTHING`), signatureHash, s.timeArg(at))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		seen = n == 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: slack request seen: %w", err)
	}
	return seen, nil
}
