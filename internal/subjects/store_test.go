package subjects

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/store/sqlite"
)

// TestImportIntoStore runs the whole path — parse, seal, upsert in batches —
// into SQLite twice and logs the rate. The second run must add nobody.
func TestImportIntoStore(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20k rows")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	in, _, err := st.CreateIncident(ctx, store.Incident{PlaybookID: "p", Severity: "high", CreatedBy: "t"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	var b strings.Builder
	b.WriteString(genericHeader)
	for i := range n {
		fmt.Fprintf(&b, "C-%d,Customer %d,customer%d@example.com,en-US,US,CA,,Owner,email\n", i, i, i)
	}
	kr := testKeyring(t, "k1")
	for pass, want := range []int{n, 0} {
		var (
			batch    []store.SubjectRecord
			inserted int
		)
		flush := func() error {
			ins, _, err := st.UpsertSubjects(ctx, in.ID, batch)
			inserted += ins
			batch = batch[:0]
			return err
		}
		start := time.Now()
		_, err := Import(strings.NewReader(b.String()), Options{Now: now}, func(s Subject) error {
			rec, err := Seal(in.ID, s, kr, hmacKey)
			if err != nil {
				return err
			}
			if batch = append(batch, rec); len(batch) == 1000 {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		if inserted != want {
			t.Fatalf("pass %d inserted %d, want %d", pass+1, inserted, want)
		}
		t.Logf("pass %d: %d rows parsed, sealed and upserted into SQLite in %v: %.0f rows/s", pass+1, n, elapsed, n/elapsed.Seconds())
	}
	byJ, _, err := st.SubjectCounts(ctx, in.ID)
	if err != nil || byJ["US-CA"] != n {
		t.Fatalf("counts %v, %v", byJ, err)
	}
}
