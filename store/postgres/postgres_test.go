package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/postgres"
	"github.com/breachflow/breachflow/store/storetest"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresURL returns the test server's URL, or skips (fails under CI) when
// the server does not answer.
func postgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("BREACHFLOW_TEST_POSTGRES_URL")
	if u == "" {
		u = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", u)
	if err == nil {
		err = db.PingContext(ctx)
		_ = db.Close()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable (CI must run these tests): %v", err)
		}
		t.Skipf("PostgreSQL unreachable, set BREACHFLOW_TEST_POSTGRES_URL: %v", err)
	}
	return u
}

// newPostgresSchema creates a fresh schema, drops it when the test ends,
// and returns base with its search_path pointing at the schema.
func newPostgresSchema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "bf_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t testing.TB, url string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPostgres(t *testing.T) {
	base := postgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		t.Helper()
		s := openPostgres(t, newPostgresSchema(t, base))
		if s.Dialect() != store.DialectPostgres {
			t.Fatalf("Dialect = %q", s.Dialect())
		}
		return s
	})
}

// TestPostgresConcurrentMigrate starts two stores on one schema together, as
// two replicas would; goose's advisory lock must let both succeed.
func TestPostgresConcurrentMigrate(t *testing.T) {
	base := postgresURL(t)
	schemaURL := newPostgresSchema(t, base)
	replicas := make([]store.Store, 4)
	for i := range replicas {
		replicas[i] = openPostgres(t, schemaURL)
		// Warm a connection so the race starts at Migrate, not at dialing.
		if err := replicas[i].Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, s := range replicas {
			_ = s.Close()
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, len(replicas))
	start := make(chan struct{})
	for i, s := range replicas {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(context.Background())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate from replica %d: %v", i, err)
		}
	}
	if _, _, err := replicas[1].CreateToken(context.Background(), "after", breach.RoleViewer); err != nil {
		t.Errorf("schema unusable after concurrent Migrate: %v", err)
	}
}

func BenchmarkPostgresUpsertSubjects(b *testing.B) {
	base := postgresURL(b)
	storetest.BenchmarkUpsertSubjects(b, openPostgres(b, newPostgresSchema(b, base)))
}

// TestPostgresSchemaVersions: a schema never migrated is an error, a
// migrated one is at the binary's latest version, and one whose last
// migration is missing reads as behind (what server and worker refuse).
func TestPostgresSchemaVersions(t *testing.T) {
	ctx := context.Background()
	url := newPostgresSchema(t, postgresURL(t))
	s := openPostgres(t, url)
	defer s.Close()
	if _, _, err := s.SchemaVersions(ctx); err == nil {
		t.Fatal("SchemaVersions of a schema never migrated: no error")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	current, latest, err := s.SchemaVersions(ctx)
	if err != nil || latest < 1 || current != latest {
		t.Fatalf("after Migrate: current %d, latest %d, %v; want current = latest > 0", current, latest, err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM goose_db_version WHERE version_id = $1`, latest); err != nil {
		t.Fatal(err)
	}
	// Migration numbers are reserved ahead, so the one before the last
	// need not be latest-1.
	var before int64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if current, _, err := s.SchemaVersions(ctx); err != nil || current != before || current >= latest {
		t.Fatalf("with the last migration's row gone: current %d, %v; want %d, behind %d", current, err, before, latest)
	}
}

func BenchmarkPostgresAssignRemedyCodes(b *testing.B) {
	base := postgresURL(b)
	storetest.BenchmarkAssignRemedyCodes(b, openPostgres(b, newPostgresSchema(b, base)))
}
