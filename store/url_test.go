package store

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url, dialect, target string
		wantErr              bool
	}{
		{"sqlite:///var/lib/bf/app.db", DialectSQLite, "/var/lib/bf/app.db", false},
		{"sqlite://data/app.db", DialectSQLite, "data/app.db", false},
		{"sqlite::memory:", DialectSQLite, ":memory:", false},
		{"sqlite:app.db", DialectSQLite, "app.db", false},
		{"SQLite:///x.db", DialectSQLite, "/x.db", false},
		{"postgres://u:p@db:5432/bf?sslmode=disable", DialectPostgres, "postgres://u:p@db:5432/bf?sslmode=disable", false},
		{"postgresql://db/bf", DialectPostgres, "postgresql://db/bf", false},
		{"sqlite://", "", "", true},
		{"sqlite:", "", "", true},
		{"postgres:db", "", "", true},
		{"mysql://u:hunter2@db/bf", "", "", true},
		{"/var/lib/app.db", "", "", true},
		{"", "", "", true},
	} {
		d, target, err := parseURL(tc.url)
		if (err != nil) != tc.wantErr || d != tc.dialect || target != tc.target {
			t.Errorf("parseURL(%q) = %q, %q, %v; want %q, %q, error %v", tc.url, d, target, err, tc.dialect, tc.target, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseURL(%q) error leaks the password: %v", tc.url, err)
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
		_, _, err := parseURL(bad)
		fixedErrors[err.Error()] = true
	}
	if len(fixedErrors) != 4 {
		f.Fatalf("expected 4 distinct fixed errors, got %v", fixedErrors)
	}
	f.Fuzz(func(t *testing.T, url string) {
		d, target, err := parseURL(url)
		if err != nil {
			// Every error is one of a few fixed messages, so none can carry
			// a password from the URL into a log.
			if !fixedErrors[err.Error()] {
				t.Fatalf("error depends on the input: %v", err)
			}
			return
		}
		switch d {
		case DialectSQLite:
			if target == "" || !strings.HasSuffix(url, target) {
				t.Fatalf("sqlite target %q is not a suffix of %q", target, url)
			}
		case DialectPostgres:
			if target != url {
				t.Fatalf("postgres target %q != url %q", target, url)
			}
		default:
			t.Fatalf("unknown dialect %q", d)
		}
	})
}
