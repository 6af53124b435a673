package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

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

// BenchmarkAssignRemedyCodes gives b.N customers one code each from a pool
// of b.N, the way PrepareNotices does (a page of DefaultNoticePage ids per
// call, one transaction each), and reports codes assigned per second.
// The customers and the pool are written before the timer starts.
//
//	go test ./store/sqlite -run '^$' -bench AssignRemedyCodes -benchtime 20000x
func BenchmarkAssignRemedyCodes(b *testing.B, s store.Store) {
	const page = 2000 // workflows.DefaultNoticePage
	c := context.Background()
	if err := s.Migrate(c); err != nil {
		b.Fatal(err)
	}
	in, _, err := s.CreateIncident(c, sampleIncident())
	if err != nil {
		b.Fatal(err)
	}
	sealed := make([]byte, 60)
	var subs []store.SubjectRecord
	var codes []store.RemedyCode
	for i := range b.N {
		subs = append(subs, store.SubjectRecord{ExternalID: fmt.Sprintf("C-%d", i), EmailSealed: sealed, NameSealed: sealed,
			KeyID: "bench", Locale: "en", Country: "US", Subdivision: "US-CA", Tier: store.SubjectTierLow})
		sum := sha256.Sum256(fmt.Appendf(nil, "code-%d", i))
		codes = append(codes, store.RemedyCode{CodeHMAC: hex.EncodeToString(sum[:]), CodeSealed: sealed, KeyID: "bench",
			Product: "credit-monitoring", EnrollmentURL: "https://enroll.example.com/", EnrollBy: time.Now().Add(24 * time.Hour)})
		if len(subs) == store.MaxSubjectBatch || i == b.N-1 {
			if _, _, err := s.UpsertSubjects(c, in.ID, subs); err != nil {
				b.Fatal(err)
			}
			subs = subs[:0]
		}
	}
	for start := 0; start < len(codes); start += store.MaxRemedyBatch {
		if _, err := s.AddRemedyCodes(c, in.ID, codes[start:min(start+store.MaxRemedyBatch, len(codes))]); err != nil {
			b.Fatal(err)
		}
	}
	sc := store.RemedyScope{Product: "credit-monitoring", Jurisdictions: []string{"US"}}
	b.ResetTimer()
	given := 0
	for after := int64(0); ; {
		ids, err := s.ListSubjectIDs(c, in.ID, after, page)
		if err != nil {
			b.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		n, missing, err := s.AssignRemedyCodes(c, in.ID, sc, ids)
		if err != nil || missing != 0 {
			b.Fatalf("assign: %d missing, %v", missing, err)
		}
		given += n
		after = ids[len(ids)-1]
	}
	b.StopTimer()
	if given != b.N {
		b.Fatalf("%d codes given, want %d", given, b.N)
	}
	b.ReportMetric(float64(given)/b.Elapsed().Seconds(), "codes/s")
}
