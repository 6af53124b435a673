package dburl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/store"
)

func TestSQLiteOpenURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs", "app.db")
	t.Chdir(dir)
	for _, tc := range []struct{ url, file string }{
		{"sqlite://" + abs, abs},
		{"sqlite://rel/app.db", filepath.Join(dir, "rel", "app.db")},
	} {
		s, err := Open(ctx, tc.url)
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.url, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if s.Dialect() != store.DialectSQLite {
			t.Errorf("Dialect = %q", s.Dialect())
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(tc.file); err != nil {
			t.Errorf("Open(%q) did not create %s: %v", tc.url, tc.file, err)
		}
	}
}

// TestPostgresURLOpensPostgres checks the dispatch without a server: the
// error comes from the PostgreSQL opener and does not echo the password.
func TestPostgresURLOpensPostgres(t *testing.T) {
	_, err := Open(context.Background(), "postgres://u:hunter2@127.0.0.1:1/bf?sslmode=disable&connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "open postgres") {
		t.Fatalf("Open(postgres://…) = %v, want the PostgreSQL opener's error", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open(postgres://…) error leaks the password: %v", err)
	}
}
