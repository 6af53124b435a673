package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
	"github.com/breachflow/breachflow/store/storetest"
)

func openSQLiteFile(t *testing.T) store.Store { return openSQLiteIn(t) }

func openSQLiteIn(t testing.TB) store.Store {
	t.Helper()
	// A missing parent directory also exercises Open creating it.
	path := filepath.Join(t.TempDir(), "data", "breachflow.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, openSQLiteFile)
}

func TestSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		t.Helper()
		s, err := sqlite.Open(context.Background(), ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestSQLiteTwoHandles appends to one chain through two independent stores
// on the same file, as two processes would: only SQLite's own locking
// (BEGIN IMMEDIATE and busy_timeout) keeps the chain whole.
func TestSQLiteTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores [2]store.Store
	for i := range stores {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stores[1].Migrate(ctx); err != nil {
		t.Fatalf("Migrate from the second handle: %v", err)
	}
	// Both handles race to create the same incident: the unique index, not
	// an in-process lock, must let exactly one insert win.
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		created int
		ids     = map[string]bool{}
		in      store.Incident
	)
	for i := range 8 {
		s := stores[i%2]
		wg.Go(func() {
			got, ok, err := s.CreateIncident(ctx, store.Incident{PlaybookID: "p", Severity: "low", CreatedBy: "t", ExternalRef: "SIEM-1"})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				created++
			}
			ids[got.ID] = true
			in = got
		})
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Fatalf("racing creates through two handles: created=%d distinct ids=%d, want 1 and 1", created, len(ids))
	}
	const each = 50
	errs := make([]error, len(stores))
	for w, s := range stores {
		wg.Go(func() {
			for i := range each {
				if _, err := s.AppendAudit(ctx, store.AuditEvent{IncidentID: in.ID, Key: fmt.Sprintf("%d-%d", w, i),
					Actor: "system", Action: "tick"}); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := stores[1].VerifyAudit(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Events != 2*each {
		t.Errorf("VerifyAudit = %+v, want OK with %d events", rep, 2*each)
	}
}

func BenchmarkSQLiteUpsertSubjects(b *testing.B) {
	storetest.BenchmarkUpsertSubjects(b, openSQLiteIn(b))
}

func BenchmarkSQLiteAssignRemedyCodes(b *testing.B) {
	storetest.BenchmarkAssignRemedyCodes(b, openSQLiteIn(b))
}
