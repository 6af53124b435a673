package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"time"
)

// SessionPrefix starts every dashboard session secret.
const SessionPrefix = "bfs_"

// CreateSession starts a dashboard session for API token tokenID, which
// must be usable, and returns the session's secret; only its SHA-256 is
// stored, so the database alone cannot be replayed as a cookie.
func (s *SQL) CreateSession(ctx context.Context, tokenID int64, expiresAt time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	secret := SessionPrefix + secretEncoding.EncodeToString(b[:])
	err := s.write(ctx, func(tx *sql.Tx) error {
		at := now()
		if !expiresAt.After(at) {
			return fmt.Errorf("%w: session expiry is not in the future", ErrInvalid)
		}
		t, err := scanToken(tx.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`), tokenID))
		if err == nil {
			err = t.usable(at)
		}
		if err != nil {
			return notFound(err)
		}
		// The token's ended and expired sessions are of no more use: drop
		// them here, so the table holds about one row per live session.
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM dashboard_sessions
			WHERE token_id = ? AND (ended_at IS NOT NULL OR expires_at <= ?)`), tokenID, s.timeArg(at)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO dashboard_sessions (token_id, secret_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?)`), tokenID, hashSecret(secret), s.timeArg(at), s.timeArg(expiresAt))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return secret, nil
}

// AuthenticateSession returns the token of the live session secret.
func (s *SQL) AuthenticateSession(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, fmt.Errorf("store: authenticate session: %w", ErrNotFound)
	}
	var (
		t              Token
		expires, ended time.Time
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, t.expires_at, t.bootstrap,
			d.expires_at, d.ended_at
		FROM dashboard_sessions d JOIN api_tokens t ON t.id = d.token_id
		WHERE d.secret_hash = ?`), hashSecret(secret)).
		Scan(&t.ID, &t.Name, &t.Role, dbTime{&t.CreatedAt}, dbTime{&t.RevokedAt}, dbTime{&t.ExpiresAt}, &t.Bootstrap,
			dbTime{&expires}, dbTime{&ended})
	if err == nil {
		at := now()
		switch {
		case !ended.IsZero() || !at.Before(expires):
			err = ErrNotFound
		default:
			err = t.usable(at)
		}
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: authenticate session: %w", notFound(err))
	}
	return t, nil
}

// EndSession marks the session ended; the first end time is kept.
func (s *SQL) EndSession(ctx context.Context, secret string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE dashboard_sessions SET ended_at = COALESCE(ended_at, ?) WHERE secret_hash = ?`),
			s.timeArg(now()), hashSecret(secret))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}
