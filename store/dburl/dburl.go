// Package dburl opens the store a database URL names
// (BREACHFLOW_DATABASE_URL). It is the one package that knows both
// drivers, so only the binary and tests that take a URL link them both.
package dburl

import (
	"context"
	"errors"
	"strings"

	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/postgres"
	"github.com/breachflow/breachflow/store/sqlite"
)

// Open dispatches on the URL: "sqlite:///abs/path/file.db", "sqlite://relative.db"
// or "sqlite::memory:" open SQLite; "postgres://…" or "postgresql://…" open
// PostgreSQL. It does not run migrations; callers call Migrate.
func Open(ctx context.Context, url string) (store.Store, error) {
	dialect, target, err := parse(url)
	if err != nil {
		return nil, err
	}
	if dialect == store.DialectSQLite {
		return sqlite.Open(ctx, target)
	}
	return postgres.Open(ctx, target)
}

// parse splits a database URL into a dialect and what the opener needs:
// a file path (or ":memory:") for SQLite, the URL itself for PostgreSQL.
// Errors never echo the URL, which may carry a password.
func parse(url string) (dialect, target string, err error) {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok || scheme == "" {
		return "", "", errors.New("store: open: database URL has no scheme (want sqlite:// or postgres://)")
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path := rest
		if p, ok := strings.CutPrefix(rest, "//"); ok {
			path = p
		}
		if path == "" {
			return "", "", errors.New("store: open: sqlite URL has no file path")
		}
		return store.DialectSQLite, path, nil
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return "", "", errors.New("store: open: postgres URL must start with postgres://")
		}
		return store.DialectPostgres, url, nil
	}
	return "", "", errors.New("store: open: unsupported database URL scheme (want sqlite:// or postgres://)")
}
