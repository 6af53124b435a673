package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"

	// Registers the "pgx" database/sql driver.
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// auditLockClass is the first key of the two-key advisory locks that
// serialise audit appends ("bf" as an int); two-key locks live in a
// different space from goose's one-key migration lock.
const auditLockClass = 0x6266

// Postgres is the Store on PostgreSQL, for server and worker replicas.
type Postgres struct {
	sqlStore
}

// OpenPostgres connects to the PostgreSQL database at url (a postgres:// URL
// or key=value DSN as pgx accepts; options such as search_path are passed
// to the server). Tables live in the first schema of the search_path.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
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
	s := &Postgres{}
	s.sqlStore = sqlStore{
		db:      db,
		dialect: DialectPostgres,
		lockIncident: func(ctx context.Context, tx *sql.Tx, incidentID string) error {
			// Held until the transaction ends; appenders to other incidents
			// are not blocked.
			_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, auditLockClass, incidentID)
			return err
		},
		gooseOptions: s.gooseOptions,
	}
	return s, nil
}

// gooseOptions makes replicas that start together migrate one at a time.
// The lock id is derived from the database and schema so that stores in
// different schemas (tests, several tenants) do not wait for each other.
func (s *Postgres) gooseOptions(ctx context.Context) ([]goose.ProviderOption, error) {
	var where string
	if err := s.db.QueryRowContext(ctx, `SELECT current_database() || '.' || coalesce(current_schema(), '')`).Scan(&where); err != nil {
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
