package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/breachflow/breachflow/store"
)

// BenchmarkUpsertSubjects imports b.N customers into one incident in
// batches of the API's size, half with an external id and half matched by
// email, and reports rows per second. The sealed fields are stand-in bytes
// of a sealed field's size: the store never opens them.
//
//	go test ./store/postgres -run '^$' -bench UpsertSubjects -benchtime 50000x
func BenchmarkUpsertSubjects(b *testing.B, s store.Store) {
	c := context.Background()
	if err := s.Migrate(c); err != nil {
		b.Fatal(err)
	}
	in, _, err := s.CreateIncident(c, sampleIncident())
	if err != nil {
		b.Fatal(err)
	}
	sealed := make([]byte, 60)
	batch := make([]store.SubjectRecord, 0, store.MaxSubjectBatch)
	flush := func() {
		if _, _, err := s.UpsertSubjects(c, in.ID, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	b.ResetTimer()
	for i := range b.N {
		sum := sha256.Sum256(fmt.Appendf(nil, "customer-%d@example.com", i))
		r := store.SubjectRecord{EmailHMAC: hex.EncodeToString(sum[:]), EmailSealed: sealed, NameSealed: sealed,
			KeyID: "bench", Locale: "en", Country: "US", Subdivision: "US-CA", Tier: store.SubjectTierLow,
			DataElements: []string{"email", "name"}}
		if i%2 == 0 {
			r.ExternalID = fmt.Sprintf("C-%d", i)
		}
		batch = append(batch, r)
		if len(batch) == store.MaxSubjectBatch {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
