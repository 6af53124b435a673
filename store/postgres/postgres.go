// Package postgres opens the store on PostgreSQL through pgx, for server
// and worker replicas. It is the only package that links that driver.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"

	"github.com/breachflow/breachflow/store"

	// Registers the "pgx" database/sql driver.
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// auditLockClass is the first key of the two-key advisory locks that
// serialise audit appends ("bf" as an int); two-key locks live in a
// different space from goose's one-key migration lock.
const auditLockClass = 0x6266

// Open connects to the PostgreSQL database at url (a postgres:// URL or
// key=value DSN as pgx accepts; options such as search_path are passed to
// the server). Tables live in the first schema of the search_path.
func Open(ctx context.Context, url string) (*store.SQL, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping error is the one worth reporting
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	return store.New(db, store.DialectPostgres, store.Options{
		LockIncident: lockIncident,
		MigrateOptions: func(ctx context.Context) ([]goose.ProviderOption, error) {
			return gooseOptions(ctx, db)
		},
	}), nil
}

// lockIncident serialises audit appends for one incident; the lock is
// held until the transaction ends, and appenders to other incidents are
// not blocked.
func lockIncident(ctx context.Context, tx *sql.Tx, incidentID string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, auditLockClass, incidentID)
	return err
}

// gooseOptions makes replicas that start together migrate one at a time.
// The lock id is derived from the database and schema so that stores in
// different schemas (tests, several tenants) do not wait for each other.
func gooseOptions(ctx context.Context, db *sql.DB) ([]goose.ProviderOption, error) {
	var where string
	if err := db.QueryRowContext(ctx, `SELECT current_database() || '.' || coalesce(current_schema(), '')`).Scan(&where); err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte("breachflow/goose/" + where))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300), // poll every second, for up to five minutes
	)
	if err != nil {
		return nil, err
	}
	return []goose.ProviderOption{goose.WithSessionLocker(locker)}, nil
}
