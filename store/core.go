package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// timeLayout is how SQLite stores times: fixed width, so text order is time
// order, and exactly microsecond precision, which is also PostgreSQL's.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// SQL is the Store on a database/sql handle: the queries, migrations and
// audit chain both databases share. Packages store/sqlite and
// store/postgres open the handle, register the driver and say with Options
// how their database locks. Queries are written with ? placeholders and
// rebound for PostgreSQL.
type SQL struct {
	db      *sql.DB
	dialect string

	// writeSem, when not nil, admits one write transaction at a time.
	writeSem chan struct{}

	// lockIncident serialises audit appends for one incident inside tx.
	lockIncident func(ctx context.Context, tx *sql.Tx, incidentID string) error

	// auditKeys authenticate audit events; nil writes legacy events.
	auditKeys *AuditKeys

	// gooseOptions returns dialect-specific provider options for Migrate.
	gooseOptions func(ctx context.Context) ([]goose.ProviderOption, error)
}

// Options is what a database adds to the shared SQL.
type Options struct {
	// SerialWrites admits one write transaction at a time in this process.
	// SQLite has a single writer anyway; queueing in-process avoids spinning
	// on SQLITE_BUSY, while its busy_timeout still covers other processes.
	SerialWrites bool
	// LockIncident serialises audit appends for one incident inside tx;
	// nil when every write transaction already holds the database's lock.
	LockIncident func(ctx context.Context, tx *sql.Tx, incidentID string) error
	// MigrateOptions returns goose provider options for Migrate, such as
	// a session locker; nil for none.
	MigrateOptions func(ctx context.Context) ([]goose.ProviderOption, error)
}

// New returns the store on db, an open handle to a database of dialect
// (DialectSQLite or DialectPostgres, which picks the migrations, the
// placeholders and how times are stored). Close closes db.
func New(db *sql.DB, dialect string, o Options) *SQL {
	s := &SQL{db: db, dialect: dialect, lockIncident: o.LockIncident, gooseOptions: o.MigrateOptions}
	if s.lockIncident == nil {
		s.lockIncident = func(context.Context, *sql.Tx, string) error { return nil }
	}
	if o.SerialWrites {
		s.writeSem = make(chan struct{}, 1)
	}
	return s
}

// DB returns the underlying database handle, for tests and tools.
func (s *SQL) DB() *sql.DB { return s.db }

// Dialect returns "sqlite" or "postgres".
func (s *SQL) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *SQL) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the database handle.
func (s *SQL) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// provider is the goose provider of this store's embedded migrations.
func (s *SQL) provider(more ...goose.ProviderOption) (*goose.Provider, error) {
	gd := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		gd = goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrationFiles, "migrations/"+s.dialect)
	if err != nil {
		return nil, err
	}
	// The global registry only holds Go migrations registered by init
	// functions; this package has none and must not pick up anyone else's.
	opts := append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, more...)
	return goose.NewProvider(gd, s.db, fsys, opts...)
}

// SchemaVersions reads the version the database is migrated to and the
// latest version this binary holds; current < latest means migrations
// are pending. A database never migrated is an error (no version table).
// It only reads: goose's own version query would create the table.
func (s *SQL) SchemaVersions(ctx context.Context) (current, latest int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("store: schema version: %w", err)
	}
	for _, src := range p.ListSources() {
		latest = max(latest, src.Version)
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&v); err != nil {
		return 0, latest, fmt.Errorf("store: schema version: %w", err)
	}
	return v.Int64, latest, nil
}

// Migrate applies pending migrations; running it again is a no-op.
func (s *SQL) Migrate(ctx context.Context) error {
	var opts []goose.ProviderOption
	if s.gooseOptions != nil {
		more, err := s.gooseOptions(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		opts = more
	}
	p, err := s.provider(opts...)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	// SQLite has no goose locker; the write semaphore at least keeps two
	// Migrate calls in this process from racing each other.
	if err := s.acquireWrite(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer s.releaseWrite()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

func (s *SQL) acquireWrite(ctx context.Context) error {
	if s.writeSem == nil {
		return nil
	}
	select {
	case s.writeSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *SQL) releaseWrite() {
	if s.writeSem != nil {
		<-s.writeSem
	}
}

// write runs fn in a write transaction and commits it when fn returns nil.
func (s *SQL) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.acquireWrite(ctx); err != nil {
		return err
	}
	defer s.releaseWrite()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error is the one worth reporting
		return err
	}
	return tx.Commit()
}

// q rebinds ? placeholders to $n for PostgreSQL. The package's queries
// contain no ? inside string literals, so a plain scan is enough.
func (s *SQL) q(query string) string {
	if s.dialect != DialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeArg converts a time to the value the dialect's column stores.
func (s *SQL) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.dialect == DialectSQLite {
		return t.Format(timeLayout)
	}
	return t
}

// dbTime scans a time stored either as text (SQLite) or as a timestamp
// (PostgreSQL) into UTC; NULL becomes the zero time.
type dbTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (d dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T as time", src)
	}
	return nil
}

func (d dbTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("store: bad stored time %q: %w", s, err)
	}
	*d.t = t.UTC()
	return nil
}

// now is the store's clock, at the precision both dialects keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// notFound maps sql.ErrNoRows to ErrNotFound and leaves other errors alone.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// queryAll runs a read and scans every row it returns with scan: the one
// loop behind the store's lists. It returns nil for no rows.
func queryAll[T any](ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
