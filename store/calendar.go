package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
)

// CalendarTokenPrefix starts every calendar token secret; it differs from
// TokenPrefix so a calendar URL leaked in a log is recognisable as the
// weaker, feed-only credential it is.
const CalendarTokenPrefix = "bfcal_"

// NewCalendarTokenSecret returns "bfcal_" followed by 32 bytes from
// crypto/rand in lower-case, unpadded base32.
func NewCalendarTokenSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: new calendar token secret: %w", err)
	}
	return CalendarTokenPrefix + strings.ToLower(secretEncoding.EncodeToString(b[:])), nil
}

// CreateCalendarToken makes a calendar token acting for the API token
// ownerTokenID and returns its secret, which cannot be recovered later; only
// its SHA-256 is stored. An unknown or revoked owner is ErrNotFound.
func (s *SQL) CreateCalendarToken(ctx context.Context, ownerTokenID int64) (string, error) {
	secret, err := NewCalendarTokenSecret()
	if err != nil {
		return "", err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM api_tokens WHERE id = ? AND revoked_at IS NULL`),
			ownerTokenID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO calendar_tokens (owner_token_id, secret_hash, created_at)
			VALUES (?, ?, ?)`), ownerTokenID, hashSecret(secret), s.timeArg(now()))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: create calendar token: %w", err)
	}
	return secret, nil
}

// AuthenticateCalendarToken returns the API token a calendar secret acts
// for. It is ErrNotFound when the secret is unknown or the owner revoked,
// so revoking an API token also shuts its calendar feeds.
func (s *SQL) AuthenticateCalendarToken(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, fmt.Errorf("store: authenticate calendar token: %w", ErrNotFound)
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT t.id, t.name, t.role, t.created_at, t.revoked_at
		FROM calendar_tokens c JOIN api_tokens t ON t.id = c.owner_token_id
		WHERE c.secret_hash = ? AND t.revoked_at IS NULL`), hashSecret(secret)))
	if err != nil {
		return Token{}, fmt.Errorf("store: authenticate calendar token: %w", notFound(err))
	}
	return t, nil
}
