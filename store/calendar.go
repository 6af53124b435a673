package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
	"time"
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

// CalendarToken is a calendar feed credential's public face.
type CalendarToken struct {
	ID        int64
	OwnerID   int64  // the API token it acts for
	OwnerName string // that token's name
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// CreateCalendarToken makes a calendar token acting for the API token
// ownerTokenID and returns its secret, which cannot be recovered later; only
// its SHA-256 is stored. An unknown, revoked or expired owner is ErrNotFound.
func (s *SQL) CreateCalendarToken(ctx context.Context, ownerTokenID int64) (string, error) {
	secret, err := NewCalendarTokenSecret()
	if err != nil {
		return "", err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		at := now()
		owner, err := scanToken(tx.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`), ownerTokenID))
		if err == nil {
			err = owner.usable(at)
		}
		if err != nil {
			return notFound(err)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO calendar_tokens (owner_token_id, secret_hash, created_at)
			VALUES (?, ?, ?)`), ownerTokenID, hashSecret(secret), s.timeArg(at))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: create calendar token: %w", err)
	}
	return secret, nil
}

// AuthenticateCalendarToken returns the API token a calendar secret acts
// for. It is ErrNotFound when the secret is unknown, ErrTokenRevoked when
// it or its owner is revoked, ErrTokenExpired when its owner expired: so
// revoking an API token also shuts its calendar feeds.
func (s *SQL) AuthenticateCalendarToken(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, fmt.Errorf("store: authenticate calendar token: %w", ErrNotFound)
	}
	var (
		t       Token
		revoked time.Time
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, t.expires_at, t.bootstrap, c.revoked_at
		FROM calendar_tokens c JOIN api_tokens t ON t.id = c.owner_token_id
		WHERE c.secret_hash = ?`), hashSecret(secret)).
		Scan(&t.ID, &t.Name, &t.Role, dbTime{&t.CreatedAt}, dbTime{&t.RevokedAt}, dbTime{&t.ExpiresAt}, &t.Bootstrap, dbTime{&revoked})
	if err == nil && !revoked.IsZero() {
		err = ErrTokenRevoked
	}
	if err == nil {
		err = t.usable(now())
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: authenticate calendar token: %w", notFound(err))
	}
	return t, nil
}

// ListCalendarTokens returns ownerTokenID's calendar tokens (all when 0).
func (s *SQL) ListCalendarTokens(ctx context.Context, ownerTokenID int64) ([]CalendarToken, error) {
	scan := func(row interface{ Scan(...any) error }) (CalendarToken, error) {
		var ct CalendarToken
		err := row.Scan(&ct.ID, &ct.OwnerID, &ct.OwnerName, dbTime{&ct.CreatedAt}, dbTime{&ct.RevokedAt})
		return ct, err
	}
	out, err := queryAll(ctx, s.db, scan, s.q(`SELECT c.id, c.owner_token_id, t.name, c.created_at, c.revoked_at
		FROM calendar_tokens c JOIN api_tokens t ON t.id = c.owner_token_id
		WHERE ? = 0 OR c.owner_token_id = ? ORDER BY c.id`), ownerTokenID, ownerTokenID)
	if err != nil {
		return nil, fmt.Errorf("store: list calendar tokens: %w", err)
	}
	return out, nil
}

// RevokeCalendarToken revokes calendar token id, which must belong to
// ownerTokenID unless that is 0; the first revocation time is kept.
func (s *SQL) RevokeCalendarToken(ctx context.Context, id, ownerTokenID int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE calendar_tokens SET revoked_at = COALESCE(revoked_at, ?)
			WHERE id = ? AND (? = 0 OR owner_token_id = ?)`), s.timeArg(now()), id, ownerTokenID, ownerTokenID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: revoke calendar token: %w", err)
	}
	return nil
}
