// Package sqlite opens the store on an SQLite file through the pure-Go
// modernc.org/sqlite driver: the embedded default. It is the only package
// that links that driver.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/breachflow/breachflow/store"

	// Registers the pure-Go "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// params configure every connection: WAL so readers never block the
// writer, a busy timeout so another process's write waits instead of
// failing, foreign keys (off by default in SQLite), and BEGIN IMMEDIATE so a
// write transaction takes the write lock up front and cannot deadlock on a
// read-to-write upgrade.
const params = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// Open opens (creating if needed, with its parent directory) the SQLite
// database at path; ":memory:" gives a private in-memory database.
func Open(ctx context.Context, path string) (*store.SQL, error) {
	if path == "" {
		return nil, errors.New("store: open sqlite: empty path")
	}
	// The driver splits its parameters off at the first '?', and a "file:"
	// name would be read as an SQLite URI; neither can be a plain path.
	if strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: open sqlite: unsupported path %q", path)
	}
	memory := path == ":memory:"
	if !memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
	}
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if memory {
		// Each connection to ":memory:" is a separate database, so keep
		// exactly one, forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	} else {
		db.SetMaxOpenConns(8)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping error is the one worth reporting
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// With _txlock=immediate every write transaction already holds SQLite's
	// single write lock, which covers every incident at once, so audit
	// appends need no lock of their own.
	return store.New(db, store.DialectSQLite, store.Options{SerialWrites: true}), nil
}
