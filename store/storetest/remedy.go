package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/breachflow/breachflow/store"
)

var remedyTests = []testCase{
	{"PoolDuplicates", testRemedyPoolDuplicates},
	{"AssignOnceEach", testRemedyAssignOnceEach},
	{"ConcurrentAssign", testRemedyConcurrentAssign},
	{"NoticePages", testNoticePages},
	{"NoticePagesLargeBatch", testNoticePagesLargeBatch},
	{"PurgeUnlinks", testPurgeUnlinksCodesAndPages},
}

// sealCodes seals n codes "<prefix>-<i>" of product for the incident.
func sealCodes(t *testing.T, incidentID, prefix, product string, n int) []store.RemedyCode {
	t.Helper()
	keys := newSubjectKeys(t)
	out := make([]store.RemedyCode, n)
	for i := range n {
		rec, err := remedy.Seal(incidentID, remedy.Code{Code: fmt.Sprintf("%s-%04d", prefix, i), Product: product,
			EnrollmentURL: "https://enroll.example.com/", EnrollBy: time.Now().Add(90 * 24 * time.Hour)}, keys.kr, keys.hmac)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = rec
	}
	return out
}

// A code already in the pool, or twice in one batch, refuses the whole
// batch and names its position; the codes are stored sealed.
func testRemedyPoolDuplicates(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	first := sealCodes(t, id, "A", "credit-monitoring", 3)
	if n, err := s.AddRemedyCodes(ctx(t), id, first); err != nil || n != 3 {
		t.Fatalf("AddRemedyCodes: %d %v", n, err)
	}
	again := append(sealCodes(t, id, "B", "credit-monitoring", 2), first[1])
	_, err := s.AddRemedyCodes(ctx(t), id, again)
	var dup *store.DuplicateCodesError
	if !errors.As(err, &dup) || !errors.Is(err, store.ErrConflict) || !slices.Equal(dup.Indexes, []int{2}) {
		t.Fatalf("a code already in the pool: %v, want a DuplicateCodesError at 2", err)
	}
	inBatch := sealCodes(t, id, "C", "credit-monitoring", 2)
	inBatch = append(inBatch, inBatch[0])
	if _, err := s.AddRemedyCodes(ctx(t), id, inBatch); !errors.As(err, &dup) || !slices.Equal(dup.Indexes, []int{2}) {
		t.Fatalf("a code twice in a batch: %v", err)
	}
	c, err := s.RemedyCounts(ctx(t), id)
	if err != nil || c.Total != 3 || c.Free != 3 || c.ByProduct["credit-monitoring"].Total != 3 {
		t.Fatalf("refused batches wrote something: %+v %v", c, err)
	}
	if _, err := s.RemedyCounts(ctx(t), "BR-NOPE00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("counts of an unknown incident: %v", err)
	}
	for _, rc := range first {
		if bytes.Contains(rc.CodeSealed, []byte("A-000")) {
			t.Fatal("the sealed code holds the plaintext")
		}
	}
}

// Each in-scope subject gets exactly one code, whatever is asked again;
// out-of-scope subjects get none; a short pool reports what is missing.
func testRemedyAssignOnceEach(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	ids := seedSubjects(t, s, id, "US-CA", "US-TX", "DE-BE", "US-NY", "")
	if _, err := s.AddRemedyCodes(ctx(t), id, sealCodes(t, id, "P", "credit-monitoring", 2)); err != nil {
		t.Fatal(err)
	}
	sc := store.RemedyScope{Product: "credit-monitoring", Jurisdictions: []string{"US"}}
	cov, err := s.RemedyCoverage(ctx(t), id, sc)
	if err != nil || cov != (store.RemedyCoverage{InScope: 3, Assigned: 0, Free: 2}) || cov.Missing() != 1 {
		t.Fatalf("coverage before: %+v missing %d, %v", cov, cov.Missing(), err)
	}
	assigned, missing, err := s.AssignRemedyCodes(ctx(t), id, sc, ids)
	if err != nil || assigned != 2 || missing != 1 {
		t.Fatalf("assign from a short pool: %d given, %d missing, %v", assigned, missing, err)
	}
	if _, err := s.AddRemedyCodes(ctx(t), id, sealCodes(t, id, "Q", "credit-monitoring", 5)); err != nil {
		t.Fatal(err)
	}
	for range 3 { // a retry, a re-run: nothing more than the one missing
		if _, _, err := s.AssignRemedyCodes(ctx(t), id, sc, ids); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RemedyCodesFor(ctx(t), id, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d subjects hold a code, want the 3 US ones", len(got))
	}
	for _, sid := range []int64{ids[2], ids[4]} {
		if _, ok := got[sid]; ok {
			t.Errorf("out-of-scope subject %d got a code", sid)
		}
	}
	codes := map[int64]bool{}
	for sid, c := range got {
		if c.SubjectID != sid || codes[c.ID] {
			t.Errorf("code %d given twice or to the wrong subject", c.ID)
		}
		codes[c.ID] = true
	}
	c, _ := s.RemedyCounts(ctx(t), id)
	if c.Total != 7 || c.Assigned != 3 || c.Free != 4 {
		t.Errorf("counts %+v, want 7 total, 3 assigned, 4 free", c)
	}
	by, err := s.RemedyAssignedByJurisdiction(ctx(t), id)
	if err != nil || by["US-CA"] != 1 || by["US-TX"] != 1 || by["US-NY"] != 1 || len(by) != 3 {
		t.Errorf("codes by jurisdiction %v %v", by, err)
	}
	if cov, _ := s.RemedyCoverage(ctx(t), id, sc); cov.Missing() != 0 || cov.Assigned != 3 {
		t.Errorf("coverage after: %+v", cov)
	}
	tiers := store.RemedyScope{Product: "credit-monitoring", Tiers: []string{"high"}}
	if cov, _ := s.RemedyCoverage(ctx(t), id, tiers); cov.InScope != 0 {
		t.Errorf("scope by tier high counts %d low-tier subjects", cov.InScope)
	}
}

// Assigners racing over the same subjects never give a code twice nor a
// subject two codes.
func testRemedyConcurrentAssign(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	subs := make([]string, 300)
	for i := range subs {
		subs[i] = "US-CA"
	}
	ids := seedSubjects(t, s, id, subs...)
	if _, err := s.AddRemedyCodes(ctx(t), id, sealCodes(t, id, "R", "credit-monitoring", 400)); err != nil {
		t.Fatal(err)
	}
	sc := store.RemedyScope{Product: "credit-monitoring"}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := ids[(w%3)*100:]
			n, _, err := s.AssignRemedyCodes(ctx(t), id, sc, part)
			if err != nil {
				t.Errorf("assigner %d: %v", w, err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	got, err := s.RemedyCodesFor(ctx(t), id, ids)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, c := range got {
		if seen[c.ID] {
			t.Fatalf("code %d given twice", c.ID)
		}
		seen[c.ID] = true
	}
	if len(got) != 300 || total != 300 {
		t.Fatalf("%d subjects hold codes, %d given in all; want 300 and 300", len(got), total)
	}
}

// A notice page is made once per subject (its salt kept), found by its
// token's hash until it expires, and reads and acknowledgements are
// counted once each, per jurisdiction.
func testNoticePages(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	ids := seedSubjects(t, s, id, "US-CA", "US-CA", "CN-BJ", "US-NY")
	fresh := ids[3:] // gets its page in the batch below
	ids = ids[:3]
	now := time.Now().UTC()
	pages := make([]store.NoticePage, len(ids))
	for i, sid := range ids {
		salt := fmt.Sprintf("salt%d", i)
		p, err := s.EnsureNoticePage(ctx(t), store.NoticePage{IncidentID: id, SubjectID: sid, Salt: salt,
			TokenHash: remedy.TokenHash("token-" + salt), ExpiresAt: now.Add(time.Hour)})
		if err != nil || p.Salt != salt {
			t.Fatalf("EnsureNoticePage: %+v %v", p, err)
		}
		pages[i] = p
	}
	again, err := s.EnsureNoticePage(ctx(t), store.NoticePage{IncidentID: id, SubjectID: ids[0], Salt: "other",
		TokenHash: remedy.TokenHash("token-other"), ExpiresAt: now.Add(time.Hour)})
	if err != nil || again.Salt != "salt0" || again.TokenHash != pages[0].TokenHash {
		t.Fatalf("a second EnsureNoticePage replaced the page: %+v %v", again, err)
	}
	if _, err := s.EnsureNoticePage(ctx(t), store.NoticePage{IncidentID: id, SubjectID: 999999, Salt: "x",
		TokenHash: remedy.TokenHash("x"), ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a page for a subject of no incident: %v", err)
	}
	// A batch in one call: the kept page stays as it was, a new subject
	// gets the page it was given, a subject of another incident none.
	other := seedSubjects(t, s, newIncident(t, s), "DE")
	batch := []store.NoticePage{}
	for i, sid := range []int64{ids[1], fresh[0], other[0]} {
		salt := fmt.Sprintf("batch%d", i)
		batch = append(batch, store.NoticePage{IncidentID: id, SubjectID: sid, Salt: salt,
			TokenHash: remedy.TokenHash("token-" + salt), ExpiresAt: now.Add(time.Hour)})
	}
	got, err := s.EnsureNoticePages(ctx(t), id, batch)
	if err != nil || len(got) != 2 || got[ids[1]].Salt != "salt1" || got[fresh[0]].Salt != "batch1" || got[fresh[0]].Jurisdiction != "US-NY" {
		t.Fatalf("EnsureNoticePages: %+v %v; want the kept page of %d, a new one of %d, none of %d", got, err, ids[1], fresh[0], other[0])
	}
	for range 2 {
		if p, err := s.NoticePageByHash(ctx(t), pages[0].TokenHash, now); err != nil || p.SubjectID != ids[0] || p.ReadAt.IsZero() {
			t.Fatalf("read: %+v %v", p, err)
		}
		if _, err := s.AckNoticePage(ctx(t), pages[0].TokenHash, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.NoticePageByHash(ctx(t), pages[2].TokenHash, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NoticePageByHash(ctx(t), remedy.TokenHash("wrong"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a wrong token: %v", err)
	}
	if _, err := s.NoticePageByHash(ctx(t), pages[1].TokenHash, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired token: %v", err)
	}
	if _, err := s.AckNoticePage(ctx(t), pages[1].TokenHash, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("acknowledging with an expired token: %v", err)
	}
	counts, err := s.NoticePageCounts(ctx(t), id)
	want := map[string]store.NoticePageCount{"US-CA": {Links: 2, Read: 1, Acked: 1}, "CN-BJ": {Links: 1, Read: 1, Acked: 0}, "US-NY": {Links: 1}}
	if err != nil || len(counts) != 3 || counts["US-NY"] != want["US-NY"] || counts["US-CA"] != want["US-CA"] || counts["CN-BJ"] != want["CN-BJ"] {
		t.Errorf("counts %v %v, want %v", counts, err, want)
	}
}

// testNoticePagesLargeBatch: a batch of pages longer than the store's
// statement chunks gets every page it asked for, each with its own salt,
// hash, expiry and jurisdiction, and a page made before keeps its salt.
func testNoticePagesLargeBatch(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	subs := make([]string, 1234)
	for i := range subs {
		subs[i] = []string{"US-CA", "CN-BJ", "US-NY"}[i%3]
	}
	ids := seedSubjects(t, s, id, subs...)
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := s.EnsureNoticePage(ctx(t), store.NoticePage{IncidentID: id, SubjectID: ids[700], Salt: "before",
		TokenHash: remedy.TokenHash("token-before"), ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	batch := make([]store.NoticePage, len(ids))
	for i, sid := range ids {
		salt := fmt.Sprintf("salt%d", i)
		batch[i] = store.NoticePage{IncidentID: id, SubjectID: sid, Salt: salt,
			TokenHash: remedy.TokenHash("token-" + salt), ExpiresAt: now.Add(time.Duration(i) * time.Minute)}
	}
	got, err := s.EnsureNoticePages(ctx(t), id, batch)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("EnsureNoticePages of %d: %d pages, %v", len(ids), len(got), err)
	}
	for i, sid := range ids {
		p := got[sid]
		want := batch[i]
		if i == 700 {
			want.Salt, want.TokenHash, want.ExpiresAt = "before", remedy.TokenHash("token-before"), now.Add(time.Hour)
		}
		if p.Salt != want.Salt || p.TokenHash != want.TokenHash || !p.ExpiresAt.Equal(want.ExpiresAt) || p.Jurisdiction != subs[i] {
			t.Fatalf("page %d of subject %d: %+v, want salt %q, hash %s, expiry %v, jurisdiction %s", i, sid, p, want.Salt, want.TokenHash, want.ExpiresAt, subs[i])
		}
	}
	counts, err := s.NoticePageCounts(ctx(t), id)
	if err != nil || counts["US-CA"].Links != 412 || counts["CN-BJ"].Links != 411 || counts["US-NY"].Links != 411 {
		t.Errorf("counts %v %v, want 412 US-CA, 411 CN-BJ and US-NY", counts, err)
	}
}

// testPurgeUnlinksCodesAndPages: purging a closed incident's customers
// erases the value of every code given and unlinks every notice page (no
// token opens one), while the counts stay: codes given per product, pages
// read and acknowledged per jurisdiction. Free codes and another
// incident's codes and pages are untouched.
func testPurgeUnlinksCodesAndPages(t *testing.T, s store.Store) {
	c := ctx(t)
	sc := store.RemedyScope{Product: "credit-monitoring"}
	now := time.Now().UTC()
	type incidentPages struct {
		id     string
		ids    []int64
		hashes []string
	}
	setup := func(id string) incidentPages {
		createIncidentID(t, s, id, "high")
		ids := seedSubjects(t, s, id, "US-CA", "US-CA", "CN-BJ")
		codes := sealCodes(t, id, "P", "credit-monitoring", 4)
		if _, err := s.AddRemedyCodes(c, id, codes); err != nil {
			t.Fatal(err)
		}
		if n, _, err := s.AssignRemedyCodes(c, id, sc, ids); err != nil || n != 3 {
			t.Fatalf("assign: %d, %v", n, err)
		}
		var hashes []string
		for i, sid := range ids {
			h := remedy.TokenHash(fmt.Sprintf("token-%s-%d", id, i))
			if _, err := s.EnsureNoticePage(c, store.NoticePage{IncidentID: id, SubjectID: sid, Salt: fmt.Sprintf("salt%d", i),
				TokenHash: h, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h)
		}
		if _, err := s.NoticePageByHash(c, hashes[0], now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AckNoticePage(c, hashes[2], now); err != nil {
			t.Fatal(err)
		}
		return incidentPages{id, ids, hashes}
	}
	purged, kept := setup("BR-PURGE1"), setup("BR-KEEP01")
	countsBefore, err := s.NoticePageCounts(c, purged.id)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIncidentStatus(c, purged.id, store.StatusClosed); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeSubjects(c, store.HoldChange{IncidentID: purged.id, By: "ada-admin", Reason: "retention period over"}); err != nil || n != 3 {
		t.Fatalf("purge = %d, %v", n, err)
	}
	for i, h := range purged.hashes {
		if _, err := s.NoticePageByHash(c, h, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("page %d of the purged incident still opens: %v", i, err)
		}
		if _, err := s.NoticePageByHash(c, kept.hashes[i], now); err != nil {
			t.Errorf("page %d of the other incident: %v", i, err)
		}
	}
	if after, err := s.NoticePageCounts(c, purged.id); err != nil || len(after) != len(countsBefore) ||
		after["US-CA"] != countsBefore["US-CA"] || after["CN-BJ"] != countsBefore["CN-BJ"] {
		t.Errorf("page counts after the purge = %v, %v; want those before, %v", after, err, countsBefore)
	}
	if counts, err := s.RemedyCounts(c, purged.id); err != nil || counts.Assigned != 3 || counts.Free != 1 {
		t.Errorf("codes after the purge = %+v, %v; want 3 given, 1 free", counts, err)
	}
	var sealedLeft int
	if err := withDB(t, s).QueryRowContext(c, rebind(s, `SELECT COUNT(*) FROM remedy_codes
		WHERE incident_id = ? AND subject_id IS NOT NULL AND length(code_sealed) > 0`), purged.id).Scan(&sealedLeft); err != nil {
		t.Fatal(err)
	}
	if sealedLeft != 0 {
		t.Errorf("%d given codes keep their value after the purge", sealedLeft)
	}
	got, err := s.RemedyCodesFor(c, kept.id, kept.ids)
	if err != nil || len(got) != 3 {
		t.Fatalf("the other incident's codes: %d, %v", len(got), err)
	}
	for _, rc := range got {
		if len(rc.CodeSealed) == 0 {
			t.Errorf("the other incident's code %d lost its value", rc.ID)
		}
	}
	events, err := s.ListAudit(c, purged.id)
	if err != nil || len(events) == 0 || events[len(events)-1].Action != "subjects.purged" ||
		!bytes.Contains(events[len(events)-1].Details, []byte(`"remedy_codes_erased":3`)) ||
		!bytes.Contains(events[len(events)-1].Details, []byte(`"notice_pages_unlinked":3`)) {
		t.Errorf("purge audit = %+v, %v", events, err)
	}
}
