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
	"time"

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

const tokenColumns = "id, name, role, created_at, revoked_at, expires_at, bootstrap"

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.Name, &t.Role, dbTime{&t.CreatedAt}, dbTime{&t.RevokedAt}, dbTime{&t.ExpiresAt}, &t.Bootstrap)
	return t, err
}

// usable is nil for a token that may authenticate at instant at, else
// ErrTokenRevoked or ErrTokenExpired.
func (t Token) usable(at time.Time) error {
	switch {
	case !t.RevokedAt.IsZero():
		return ErrTokenRevoked
	case !t.ExpiresAt.IsZero() && !at.Before(t.ExpiresAt):
		return ErrTokenExpired
	}
	return nil
}

// expiresArg is the expires_at column's value: NULL for never.
func (s *SQL) expiresArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.timeArg(t)
}

// CreateToken makes a token that never expires; see IssueToken.
func (s *SQL) CreateToken(ctx context.Context, name, role string) (string, Token, error) {
	return s.IssueToken(ctx, TokenSpec{Name: name, Role: role})
}

// IssueToken makes a token with a fresh random secret and returns the
// secret; it cannot be recovered later.
func (s *SQL) IssueToken(ctx context.Context, spec TokenSpec) (string, Token, error) {
	if err := validateTokenInput(spec.Name, spec.Role); err != nil {
		return "", Token{}, fmt.Errorf("store: create token: %w", err)
	}
	created := now()
	if !spec.ExpiresAt.IsZero() && !spec.ExpiresAt.After(created) {
		return "", Token{}, fmt.Errorf("store: create token: %w: expiry %s is not in the future", ErrInvalid, spec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	secret, err := NewTokenSecret()
	if err != nil {
		return "", Token{}, err
	}
	var t Token
	err = s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (name, role, secret_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?) RETURNING `+tokenColumns),
			spec.Name, spec.Role, hashSecret(secret), s.timeArg(created), s.expiresArg(spec.ExpiresAt))
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
	t, err := s.ensureToken(ctx, name, role, secret, false)
	if err != nil {
		return Token{}, fmt.Errorf("store: ensure token: %w", err)
	}
	return t, nil
}

// BootstrapToken is EnsureToken for the token configured in the
// environment (BREACHFLOW_ADMIN_TOKEN): the token is marked as the
// bootstrap token and every other bootstrap token is revoked, so rotating
// the variable ends the previous secret. A secret that was revoked is
// refused (ErrTokenRevoked) rather than silently left unusable.
func (s *SQL) BootstrapToken(ctx context.Context, name, role, secret string) (Token, error) {
	t, err := s.ensureToken(ctx, name, role, secret, true)
	if err != nil {
		return Token{}, fmt.Errorf("store: bootstrap token: %w", err)
	}
	return t, nil
}

func (s *SQL) ensureToken(ctx context.Context, name, role, secret string, bootstrap bool) (Token, error) {
	if err := validateTokenInput(name, role); err != nil {
		return Token{}, err
	}
	if len(secret) < MinSecretLen {
		return Token{}, fmt.Errorf("%w: secret must be at least %d characters", ErrInvalid, MinSecretLen)
	}
	h := hashSecret(secret)
	var t Token
	err := s.write(ctx, func(tx *sql.Tx) error {
		at := now()
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO api_tokens (name, role, secret_hash, created_at, bootstrap)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (secret_hash) DO NOTHING`),
			name, role, h, s.timeArg(at), bootstrap); err != nil {
			return err
		}
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens WHERE secret_hash = ?`), h))
		if err != nil || !bootstrap {
			return err
		}
		if err := t.usable(at); err != nil {
			return err
		}
		if !t.Bootstrap {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE api_tokens SET bootstrap = ? WHERE id = ?`), true, t.ID); err != nil {
				return err
			}
			t.Bootstrap = true
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE api_tokens SET revoked_at = ? WHERE bootstrap = ? AND id <> ? AND revoked_at IS NULL`),
			s.timeArg(at), true, t.ID)
		return err
	})
	return t, err
}

// AuthenticateToken finds the token for secret by its hash; a revoked or
// expired one is ErrTokenRevoked or ErrTokenExpired (both ErrNotFound).
func (s *SQL) AuthenticateToken(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, ErrNotFound
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM api_tokens
		WHERE secret_hash = ?`), hashSecret(secret)))
	if err == nil {
		err = t.usable(now())
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: authenticate token: %w", notFound(err))
	}
	return t, nil
}

// ListTokens returns every token, revoked ones included, ordered by ID.
func (s *SQL) ListTokens(ctx context.Context) ([]Token, error) {
	out, err := queryAll(ctx, s.db, scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
	if err != nil {
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
