package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
)

// TokenPrefix starts every generated token secret, so a leaked one is easy
// to recognise in logs and by secret scanners.
const TokenPrefix = "bf_"

// MinSecretLen is the shortest caller-chosen secret EnsureToken accepts;
// see hashSecret for why secrets must be high-entropy.
const MinSecretLen = 16

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTokenSecret returns "bf_" followed by 32 bytes from crypto/rand in
// lower-case, unpadded base32.
func NewTokenSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: new token secret: %w", err)
	}
	return TokenPrefix + strings.ToLower(secretEncoding.EncodeToString(b[:])), nil
}

// hashSecret is what the store keeps of a secret. Plain SHA-256 is enough:
// generated secrets carry 256 bits of entropy, so there is nothing for a
// slow KDF (bcrypt, argon2) to protect against brute force, and a fast,
// deterministic hash lets authentication be a unique-index lookup.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func validateTokenInput(name, role string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: token name is empty", ErrInvalid)
	}
	if !breach.ValidRole(role) {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	return nil
}

const tokenColumns = "id, name, role, created_at, revoked_at"

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.Name, &t.Role, dbTime{&t.CreatedAt}, dbTime{&t.RevokedAt})
	return t, err
}

// CreateToken makes a token with a fresh random secret and returns the
// secret; it cannot be recovered later.
func (s *SQL) CreateToken(ctx context.Context, name, role string) (string, Token, error) {
	if err := validateTokenInput(name, role); err != nil {
		return "", Token{}, fmt.Errorf("store: create token: %w", err)
	}
	secret, err := NewTokenSecret()
	if err != nil {
		return "", Token{}, err
	}
	var t Token
	err = s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (name, role, secret_hash, created_at)
			VALUES (?, ?, ?, ?) RETURNING `+tokenColumns),
			name, role, hashSecret(secret), s.timeArg(now()))
		t, err = scanToken(row)
		return err
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("store: create token: %w", err)
	}
	return secret, t, nil
}

// EnsureToken stores a caller-chosen secret, such as the bootstrap admin
// token from the environment. If the secret is already stored, the existing
// token is returned as is: name and role are not changed and a revoked token
// stays revoked.
func (s *SQL) EnsureToken(ctx context.Context, name, role, secret string) (Token, error) {
	if err := validateTokenInput(name, role); err != nil {
		return Token{}, fmt.Errorf("store: ensure token: %w", err)
	}
	if len(secret) < MinSecretLen {
		return Token{}, fmt.Errorf("store: ensure token: %w: secret must be at least %d characters", ErrInvalid, MinSecretLen)
	}
	h := hashSecret(secret)
	var t Token
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO api_tokens (name, role, secret_hash, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (secret_hash) DO NOTHING`),
			name, role, h, s.timeArg(now())); err != nil {
			return err
		}
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE secret_hash = ?`), h))
		return err
	})
	if err != nil {
		return Token{}, fmt.Errorf("store: ensure token: %w", err)
	}
	return t, nil
}

// AuthenticateToken finds the valid token for secret by its hash.
func (s *SQL) AuthenticateToken(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, ErrNotFound
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens
		WHERE secret_hash = ? AND revoked_at IS NULL`), hashSecret(secret)))
	if err != nil {
		return Token{}, fmt.Errorf("store: authenticate token: %w", notFound(err))
	}
	return t, nil
}

// ListTokens returns every token, revoked ones included, ordered by ID.
func (s *SQL) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks a token revoked; the first revocation time is kept.
func (s *SQL) RevokeToken(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`),
			s.timeArg(now()), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	return nil
}
