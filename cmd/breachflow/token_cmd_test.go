package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/dburl"
)

// runToken runs `breachflow token args…` against the SQLite store at url.
func runToken(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("BREACHFLOW_DATABASE_URL", url)
	cmd := tokenCommand()
	var out, stderr bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func TestTokenCommandLifeCycle(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "app.db")
	legal, err := runToken(t, url, "create", "--role", "legal", "--name", "Lena Legal", "--expires", "720h")
	if err != nil {
		t.Fatal(err)
	}
	legal = strings.TrimSpace(legal)
	viewer, err := runToken(t, url, "create", "--role", "viewer", "--name", "Audit")
	if err != nil {
		t.Fatal(err)
	}
	viewer = strings.TrimSpace(viewer)
	for _, bad := range [][]string{
		{"create", "--role", "viewer", "--name", "x", "--expires", "yesterday"},
		{"create", "--role", "viewer", "--name", "x", "--expires", "2001-01-01T00:00:00Z"},
	} {
		if _, err := runToken(t, url, bad...); err == nil || !strings.Contains(err.Error(), "--expires") {
			t.Errorf("token %v: err = %v, want one naming --expires", bad, err)
		}
	}

	out, err := runToken(t, url, "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, strings.TrimPrefix(legal, store.TokenPrefix)) || strings.Contains(out, strings.TrimPrefix(viewer, store.TokenPrefix)) {
		t.Fatalf("token list prints a secret:\n%s", out)
	}
	lena := regexp.MustCompile(`(?m)^(\d+)\s+Lena Legal\s+legal\s+active\s+(\S+)`).FindStringSubmatch(out)
	if lena == nil || lena[2] == "never" || !regexp.MustCompile(`(?m)^\d+\s+Audit\s+viewer\s+active\s+never`).MatchString(out) {
		t.Fatalf("token list:\n%s", out)
	}

	if out, err := runToken(t, url, "revoke", lena[1]); err != nil || !strings.Contains(out, "revoked token "+lena[1]) {
		t.Fatalf("revoke: %q, %v", out, err)
	}
	if _, err := runToken(t, url, "revoke", "999"); err == nil || !strings.Contains(err.Error(), "no token 999") {
		t.Errorf("revoke unknown: %v", err)
	}
	out, _ = runToken(t, url, "list")
	if !regexp.MustCompile(`(?m)^` + lena[1] + `\s+Lena Legal\s+legal\s+revoked`).MatchString(out) {
		t.Fatalf("token list after revoke:\n%s", out)
	}

	st, err := dburl.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.AuthenticateToken(ctx, legal); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("token revoked by the CLI: err = %v", err)
	}
	vt, err := st.AuthenticateToken(ctx, viewer)
	if err != nil {
		t.Fatalf("the other token: %v", err)
	}
	feed, err := st.CreateCalendarToken(ctx, vt.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = runToken(t, url, "list", "--calendar")
	cal := regexp.MustCompile(`(?m)^(\d+)\s+Audit\s+active`).FindStringSubmatch(out)
	if cal == nil {
		t.Fatalf("token list --calendar:\n%s", out)
	}
	if _, err := runToken(t, url, "revoke", "--calendar", cal[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateCalendarToken(ctx, feed); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("calendar token revoked by the CLI: err = %v", err)
	}
	if _, err := st.AuthenticateToken(ctx, viewer); err != nil {
		t.Errorf("revoking a calendar token revoked its owner: %v", err)
	}
}

// TestAdminTokenRotation starts the bootstrap as dev and server do, with
// BREACHFLOW_ADMIN_TOKEN set, then again with a new value: the previous
// admin token is revoked, and going back to it is refused at start.
func TestAdminTokenRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := dburl.Open(ctx, "sqlite://"+filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const first, second = "bf_first-admin-token-0123456789", "bf_second-admin-token-0123456789"
	start := func(secret string) error {
		_, err := devAdminToken(ctx, &config.Config{AdminToken: secret, DataDir: dir}, st)
		return err
	}
	if err := start(first); err != nil {
		t.Fatal(err)
	}
	if err := start(first); err != nil {
		t.Fatalf("restart with the same token: %v", err)
	}
	if _, err := st.AuthenticateToken(ctx, first); err != nil {
		t.Fatalf("admin token after restart: %v", err)
	}
	if err := start(second); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateToken(ctx, first); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("previous admin token after rotation: err = %v, want revoked", err)
	}
	if _, err := st.AuthenticateToken(ctx, second); err != nil {
		t.Errorf("new admin token: %v", err)
	}
	err = start(first)
	if err == nil || !strings.HasPrefix(err.Error(), "BREACHFLOW_ADMIN_TOKEN: this token has been revoked") {
		t.Errorf("rotating back to a revoked token: %v", err)
	}

	// Unset, dev falls back to the token it keeps in the data directory,
	// which becomes the bootstrap token and revokes the variable's.
	if err := start(""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AuthenticateToken(ctx, second); !errors.Is(err, store.ErrTokenRevoked) {
		t.Errorf("the variable's token after dev fell back to its file: err = %v, want revoked", err)
	}
}
