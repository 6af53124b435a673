package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	// Registers the pure-Go "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// sqliteParams configure every connection: WAL so readers never block the
// writer, a busy timeout so another process's write waits instead of
// failing, foreign keys (off by default in SQLite), and BEGIN IMMEDIATE so a
// write transaction takes the write lock up front and cannot deadlock on a
// read-to-write upgrade.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// SQLite is the Store on an SQLite file, the embedded default.
type SQLite struct {
	sqlStore
	path string
}

// OpenSQLite opens (creating if needed, with its parent directory) the
// SQLite database at path; ":memory:" gives a private in-memory database.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
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
	db, err := sql.Open("sqlite", path+"?"+sqliteParams)
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
	s := &SQLite{path: path}
	s.sqlStore = sqlStore{
		db:       db,
		dialect:  DialectSQLite,
		writeSem: make(chan struct{}, 1),
		// With _txlock=immediate the transaction already holds SQLite's
		// single write lock, which covers every incident at once.
		lockIncident: func(context.Context, *sql.Tx, string) error { return nil },
	}
	return s, nil
}

// Path returns the database file's path as given to OpenSQLite.
func (s *SQLite) Path() string { return s.path }
