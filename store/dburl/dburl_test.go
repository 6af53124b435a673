package dburl

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/store"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url, dialect, target string
		wantErr              bool
	}{
		{"sqlite:///var/lib/bf/app.db", store.DialectSQLite, "/var/lib/bf/app.db", false},
		{"sqlite://data/app.db", store.DialectSQLite, "data/app.db", false},
		{"sqlite::memory:", store.DialectSQLite, ":memory:", false},
		{"sqlite:app.db", store.DialectSQLite, "app.db", false},
		{"SQLite:///x.db", store.DialectSQLite, "/x.db", false},
		{"postgres://u:p@db:5432/bf?sslmode=disable", store.DialectPostgres, "postgres://u:p@db:5432/bf?sslmode=disable", false},
		{"postgresql://db/bf", store.DialectPostgres, "postgresql://db/bf", false},
		{"sqlite://", "", "", true},
		{"sqlite:", "", "", true},
		{"postgres:db", "", "", true},
		{"mysql://u:hunter2@db/bf", "", "", true},
		{"/var/lib/app.db", "", "", true},
		{"", "", "", true},
	} {
		d, target, err := parse(tc.url)
		if (err != nil) != tc.wantErr || d != tc.dialect || target != tc.target {
			t.Errorf("parse(%q) = %q, %q, %v; want %q, %q, error %v", tc.url, d, target, err, tc.dialect, tc.target, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parse(%q) error leaks the password: %v", tc.url, err)
		}
	}
}

// FuzzParseURL checks that any BREACHFLOW_DATABASE_URL either fails with an
// error that does not echo it, or yields a dialect and a non-empty target.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"sqlite:///a/b.db", "sqlite::memory:", "postgres://u:secretpw@h/db", "x:secretpw", ":", "sqlite://"} {
		f.Add(s)
	}
	fixedErrors := map[string]bool{}
	for _, bad := range []string{"", "sqlite:", "postgres:x", "mysql://u:p@h/d"} {
		_, _, err := parse(bad)
		fixedErrors[err.Error()] = true
	}
	if len(fixedErrors) != 4 {
		f.Fatalf("expected 4 distinct fixed errors, got %v", fixedErrors)
	}
	f.Fuzz(func(t *testing.T, url string) {
		d, target, err := parse(url)
		if err != nil {
			// Every error is one of a few fixed messages, so none can carry
			// a password from the URL into a log.
			if !fixedErrors[err.Error()] {
				t.Fatalf("error depends on the input: %v", err)
			}
			return
		}
		switch d {
		case store.DialectSQLite:
			if target == "" || !strings.HasSuffix(url, target) {
				t.Fatalf("sqlite target %q is not a suffix of %q", target, url)
			}
		case store.DialectPostgres:
			if target != url {
				t.Fatalf("postgres target %q != url %q", target, url)
			}
		default:
			t.Fatalf("unknown dialect %q", d)
		}
	})
}
