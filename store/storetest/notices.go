package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
)

const kindCustomer = "customer"

// msgID is the test's deterministic Message-ID scheme.
func msgID(incidentID, kind string) func(int64) string {
	return func(sid int64) string { return fmt.Sprintf("<%s.%s.%d@test>", incidentID, kind, sid) }
}

// seedSubjects stores one subject per subdivision ("" for none) and
// returns their ids in order.
func seedSubjects(t *testing.T, s store.Store, incidentID string, subdivisions ...string) []int64 {
	t.Helper()
	keys := newSubjectKeys(t)
	var in []subjects.Subject
	for i, sub := range subdivisions {
		in = append(in, customer(i+1, "low", sub))
	}
	for start := 0; start < len(in); start += store.MaxSubjectBatch {
		upsert(t, s, incidentID, keys.seal(t, incidentID, in[start:min(start+store.MaxSubjectBatch, len(in))]...))
	}
	ids, err := s.ListSubjectIDs(ctx(t), incidentID, 0, store.MaxSubjectPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(subdivisions) {
		t.Fatalf("%d subjects stored, want %d", len(ids), len(subdivisions))
	}
	return ids
}

func ensure(t *testing.T, s store.Store, incidentID string, ids []int64) int {
	t.Helper()
	n, err := s.EnsureNotices(ctx(t), incidentID, kindCustomer, ids, msgID(incidentID, kindCustomer))
	if err != nil {
		t.Fatalf("EnsureNotices: %v", err)
	}
	return n
}

func claim(t *testing.T, s store.Store, incidentID string, ids []int64) []store.Notice {
	t.Helper()
	got, err := s.ClaimNotices(ctx(t), incidentID, kindCustomer, ids)
	if err != nil {
		t.Fatalf("ClaimNotices: %v", err)
	}
	return got
}

func allNotices(t *testing.T, s store.Store, incidentID, status string) []store.Notice {
	t.Helper()
	got, err := s.ListNotices(ctx(t), incidentID, status, 0, store.MaxNoticePage)
	if err != nil {
		t.Fatalf("ListNotices: %v", err)
	}
	return got
}

func subjectIDsOf(ns []store.Notice) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.SubjectID
	}
	return out
}

// expireClaims ages every claim of the incident past the lease, as if the
// batch that made them had crashed long ago.
func expireClaims(t *testing.T, s store.Store, incidentID string) {
	t.Helper()
	old := time.Now().UTC().Add(-2 * breach.NoticeClaimLease).Truncate(time.Microsecond)
	var arg any = old
	if s.Dialect() == store.DialectSQLite {
		arg = old.Format("2006-01-02T15:04:05.000000Z")
	}
	if _, err := withDB(t, s).ExecContext(ctx(t), rebind(s, `UPDATE notices SET claimed_at = ? WHERE incident_id = ? AND claimed_at IS NOT NULL`),
		arg, incidentID); err != nil {
		t.Fatal(err)
	}
}

func testNoticesEnsureTwice(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "", "DE-BE", "")
	if n := ensure(t, s, id, sids[:3]); n != 3 {
		t.Fatalf("first EnsureNotices created %d, want 3", n)
	}
	first := allNotices(t, s, id, "")
	// Again, with one more subject, a repeated id and another Message-ID
	// scheme: only the new subject gets a notice, the others keep theirs.
	n, err := s.EnsureNotices(ctx(t), id, kindCustomer, []int64{sids[3], sids[0], sids[1], sids[2], sids[0]},
		func(sid int64) string { return fmt.Sprintf("<other.%d@test>", sid) })
	if err != nil || n != 1 {
		t.Fatalf("second EnsureNotices created %d (%v), want 1", n, err)
	}
	got := allNotices(t, s, id, "")
	if len(got) != 4 {
		t.Fatalf("%d notices, want 4", len(got))
	}
	if !reflect.DeepEqual(got[:3], first) {
		t.Errorf("existing notices changed:\n%+v\nthen\n%+v", first, got[:3])
	}
	wantJ := []string{"US-CA", store.UnknownJurisdiction, "DE-BE", store.UnknownJurisdiction}
	for i, nt := range got {
		wantMID := msgID(id, kindCustomer)(nt.SubjectID)
		if i == 3 {
			wantMID = fmt.Sprintf("<other.%d@test>", nt.SubjectID)
		}
		if nt.SubjectID != sids[i] || nt.IncidentID != id || nt.Kind != kindCustomer || nt.Status != store.NoticePending ||
			nt.Attempts != 0 || nt.MessageID != wantMID || nt.LastError != "" || nt.Jurisdiction != wantJ[i] ||
			nt.SentAt != nil || nt.CreatedAt.IsZero() || !nt.UpdatedAt.Equal(nt.CreatedAt) {
			t.Errorf("notice %d = %+v, want subject %d, pending, message id %q, jurisdiction %q", i, nt, sids[i], wantMID, wantJ[i])
		}
	}
	// Another kind is another notice for the same subject.
	if n, err := s.EnsureNotices(ctx(t), id, "reminder", sids[:2], msgID(id, "reminder")); err != nil || n != 2 {
		t.Errorf("EnsureNotices of another kind created %d (%v), want 2", n, err)
	}
	// A subject of another incident is refused, and nothing of the batch is kept.
	other := newIncident(t, s)
	foreign := seedSubjects(t, s, other, "FR-75")
	n, err = s.EnsureNotices(ctx(t), id, "late", []int64{sids[0], foreign[0]}, msgID(id, "late"))
	if !errors.Is(err, store.ErrInvalid) || n != 0 {
		t.Errorf("EnsureNotices with a foreign subject = %d, %v; want ErrInvalid", n, err)
	}
	if got := allNotices(t, s, id, ""); len(got) != 6 {
		t.Errorf("%d notices after a refused batch, want 6", len(got))
	}
	for _, tc := range []struct {
		name, kind string
		mid        func(int64) string
	}{
		{"empty kind", "", msgID(id, "x")},
		{"nil message id", kindCustomer, nil},
		{"empty message id", "x", func(int64) string { return "" }},
		{"message id taken", "x", func(int64) string { return msgID(id, kindCustomer)(sids[0]) }},
	} {
		if _, err := s.EnsureNotices(ctx(t), id, tc.kind, sids[:1], tc.mid); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func testNoticesClaimSentFinal(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "US-NY", "")
	ensure(t, s, id, sids)
	before := allNotices(t, s, id, "")
	got := claim(t, s, id, []int64{sids[2], sids[0], 999999})
	if !reflect.DeepEqual(subjectIDsOf(got), []int64{sids[0], sids[2]}) {
		t.Fatalf("claimed subjects %v, want %v", subjectIDsOf(got), []int64{sids[0], sids[2]})
	}
	for _, n := range got {
		if n.Status != store.NoticeSending || n.Attempts != 1 || n.MessageID != msgID(id, kindCustomer)(n.SubjectID) {
			t.Errorf("claimed %+v, want sending, 1 attempt, same message id", n)
		}
	}
	// A fresh claim is not handed out again.
	if again := claim(t, s, id, sids); !reflect.DeepEqual(subjectIDsOf(again), []int64{sids[1]}) {
		t.Fatalf("second claim got subjects %v, want only the unclaimed %d", subjectIDsOf(again), sids[1])
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456000, time.UTC)
	if err := s.MarkNoticeSent(ctx(t), got[0].ID, at); err != nil {
		t.Fatal(err)
	}
	sent := allNotices(t, s, id, store.NoticeSent)
	if len(sent) != 1 || sent[0].ID != got[0].ID || sent[0].SentAt == nil || !sent[0].SentAt.Equal(at) ||
		sent[0].MessageID != before[0].MessageID || sent[0].Attempts != 1 {
		t.Fatalf("sent notices = %+v, want notice %d sent at %v", sent, got[0].ID, at)
	}
	// Even after every lease runs out, a sent notice is never claimed again;
	// the crashed one is, with the same Message-ID.
	expireClaims(t, s, id)
	again := claim(t, s, id, sids)
	if len(again) != 2 || again[0].SubjectID == sids[0] || again[1].SubjectID == sids[0] {
		t.Fatalf("claim after the lease got %+v, want the two unsent notices", again)
	}
	if again[1].ID != got[1].ID || again[1].Attempts != 2 || again[1].MessageID != got[1].MessageID {
		t.Errorf("re-claimed crashed notice = %+v, want id %d, 2 attempts, message id %q", again[1], got[1].ID, got[1].MessageID)
	}
	// Sent is final.
	if err := s.MarkNoticeSent(ctx(t), got[0].ID, at.Add(time.Hour)); err != nil {
		t.Errorf("marking sent twice: %v, want nil", err)
	}
	if err := s.MarkNoticeFailed(ctx(t), got[0].ID, "550 late", true); !errors.Is(err, store.ErrConflict) {
		t.Errorf("failing a sent notice: %v, want ErrConflict", err)
	}
	if err := s.SuppressNotice(ctx(t), got[0].ID, "opted out"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("suppressing a sent notice: %v, want ErrConflict", err)
	}
	if sent := allNotices(t, s, id, store.NoticeSent); len(sent) != 1 || !sent[0].SentAt.Equal(at) || sent[0].LastError != "" {
		t.Errorf("sent notice changed: %+v", sent)
	}
}

func testNoticesRetryableFailure(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA")
	ensure(t, s, id, sids)
	got := claim(t, s, id, sids)
	if len(got) != 1 {
		t.Fatalf("claimed %d, want 1", len(got))
	}
	if err := s.MarkNoticeFailed(ctx(t), got[0].ID, "421 try later", false); err != nil {
		t.Fatal(err)
	}
	pending := allNotices(t, s, id, store.NoticePending)
	if len(pending) != 1 || pending[0].LastError != "421 try later" || pending[0].Attempts != 1 {
		t.Fatalf("after a temporary failure: %+v, want pending with the reply", pending)
	}
	// Failing twice is a conflict: the notice is no longer being sent.
	if err := s.MarkNoticeFailed(ctx(t), got[0].ID, "421 again", false); !errors.Is(err, store.ErrConflict) {
		t.Errorf("failing a pending notice: %v, want ErrConflict", err)
	}
	again := claim(t, s, id, sids)
	if len(again) != 1 || again[0].ID != got[0].ID || again[0].Attempts != 2 || again[0].MessageID != got[0].MessageID {
		t.Fatalf("re-claim after a temporary failure = %+v, want the same notice with 2 attempts", again)
	}
}

func testNoticesPermanentFailure(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "US-CA")
	ensure(t, s, id, sids)
	got := claim(t, s, id, sids)
	if err := s.MarkNoticeFailed(ctx(t), got[0].ID, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNoticeSent(ctx(t), got[1].ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	failed := allNotices(t, s, id, store.NoticeFailed)
	if len(failed) != 1 || failed[0].ID != got[0].ID || failed[0].LastError != "550 no such user" {
		t.Fatalf("failed notices = %+v", failed)
	}
	if sent := allNotices(t, s, id, store.NoticeSent); len(sent) != 1 || sent[0].SentAt == nil || sent[0].SentAt.IsZero() {
		t.Errorf("MarkNoticeSent with zero time: %+v, want SentAt set", sent)
	}
	expireClaims(t, s, id)
	if again := claim(t, s, id, sids); len(again) != 0 {
		t.Fatalf("claimed %+v; a permanent failure must wait for RetryFailedNotices", again)
	}
	if n, err := s.RetryFailedNotices(ctx(t), id, "reminder"); err != nil || n != 0 {
		t.Errorf("RetryFailedNotices of another kind = %d, %v; want 0", n, err)
	}
	if n, err := s.RetryFailedNotices(ctx(t), id, kindCustomer); err != nil || n != 1 {
		t.Fatalf("RetryFailedNotices = %d, %v; want 1", n, err)
	}
	again := claim(t, s, id, sids)
	if len(again) != 1 || again[0].ID != got[0].ID || again[0].Attempts != 2 {
		t.Fatalf("claim after retry = %+v, want notice %d with 2 attempts", again, got[0].ID)
	}
	if n, err := s.RetryFailedNotices(ctx(t), id, ""); err != nil || n != 0 {
		t.Errorf("RetryFailedNotices with nothing failed = %d, %v; want 0", n, err)
	}
}

func testNoticesSuppress(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "US-CA", "US-CA")
	ensure(t, s, id, sids)
	ns := allNotices(t, s, id, "")
	if err := s.SuppressNotice(ctx(t), ns[0].ID, "contacted by account manager"); err != nil {
		t.Fatal(err)
	}
	if err := s.SuppressNotice(ctx(t), ns[0].ID, "again"); err != nil {
		t.Errorf("suppressing twice: %v, want nil", err)
	}
	got := claim(t, s, id, sids)
	if !reflect.DeepEqual(subjectIDsOf(got), sids[1:]) {
		t.Fatalf("claimed %v, want %v (the suppressed one left out)", subjectIDsOf(got), sids[1:])
	}
	// A fresh claim may be on the wire; a stale one belongs to a crash.
	if err := s.SuppressNotice(ctx(t), got[0].ID, "x"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("suppressing a fresh claim: %v, want ErrConflict", err)
	}
	expireClaims(t, s, id)
	if err := s.SuppressNotice(ctx(t), got[0].ID, "x"); err != nil {
		t.Errorf("suppressing a crashed claim: %v", err)
	}
	sup := allNotices(t, s, id, store.NoticeSuppressed)
	if len(sup) != 2 || sup[0].LastError != "contacted by account manager" {
		t.Fatalf("suppressed = %+v", sup)
	}
	expireClaims(t, s, id)
	if again := claim(t, s, id, sids); len(again) != 1 || again[0].ID != got[1].ID {
		t.Errorf("claim after suppressions = %+v, want only notice %d", again, got[1].ID)
	}
	if err := s.MarkNoticeSent(ctx(t), sup[0].ID, time.Time{}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("marking a suppressed notice sent: %v, want ErrConflict", err)
	}
	for name, err := range map[string]error{
		"MarkNoticeSent":   s.MarkNoticeSent(ctx(t), 987654, time.Time{}),
		"MarkNoticeFailed": s.MarkNoticeFailed(ctx(t), 987654, "x", true),
		"SuppressNotice":   s.SuppressNotice(ctx(t), 987654, "x"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on an unknown notice: %v, want ErrNotFound", name, err)
		}
	}
}

func testNoticesConcurrentClaims(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	const n, claimers = 200, 8
	subs := make([]string, n)
	sids := seedSubjects(t, s, id, subs...)
	ensure(t, s, id, sids)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int64]int{}
		errs   []error
	)
	start := make(chan struct{})
	for range claimers {
		wg.Go(func() {
			<-start
			got, err := s.ClaimNotices(ctx(t), id, kindCustomer, sids)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			for _, nt := range got {
				counts[nt.ID]++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("claim errors: %v", errs)
	}
	if len(counts) != n {
		t.Errorf("%d notices claimed, want %d", len(counts), n)
	}
	for nid, c := range counts {
		if c != 1 {
			t.Errorf("notice %d claimed %d times", nid, c)
		}
	}
	for _, nt := range allNotices(t, s, id, "") {
		if nt.Status != store.NoticeSending || nt.Attempts != 1 {
			t.Errorf("notice %+v, want sending with 1 attempt", nt)
		}
	}
}

func testNoticesCounts(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "US-CA", "US-CA", "", "DE-BE")
	ensure(t, s, id, sids)
	if _, err := s.EnsureNotices(ctx(t), id, "reminder", sids[:1], msgID(id, "reminder")); err != nil {
		t.Fatal(err)
	}
	got := claim(t, s, id, sids[:3])
	if err := s.MarkNoticeSent(ctx(t), got[0].ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNoticeFailed(ctx(t), got[1].ID, "550", true); err != nil {
		t.Fatal(err)
	}
	ns := allNotices(t, s, id, store.NoticePending)
	if err := s.SuppressNotice(ctx(t), ns[len(ns)-1].ID, "x"); err != nil { // the reminder
		t.Fatal(err)
	}
	other := newIncident(t, s)
	ensure(t, s, other, seedSubjects(t, s, other, "US-CA"))
	for _, tc := range []struct {
		kind string
		want map[string]map[string]int
	}{
		{kindCustomer, map[string]map[string]int{
			"US-CA":                   {store.NoticeSent: 1, store.NoticeFailed: 1, store.NoticeSending: 1},
			store.UnknownJurisdiction: {store.NoticePending: 1},
			"DE-BE":                   {store.NoticePending: 1},
		}},
		{"", map[string]map[string]int{
			"US-CA":                   {store.NoticeSent: 1, store.NoticeFailed: 1, store.NoticeSending: 1, store.NoticeSuppressed: 1},
			store.UnknownJurisdiction: {store.NoticePending: 1},
			"DE-BE":                   {store.NoticePending: 1},
		}},
		{"nothing", map[string]map[string]int{}},
	} {
		counts, err := s.NoticeCounts(ctx(t), id, tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(counts, tc.want) {
			t.Errorf("NoticeCounts(kind %q) = %v, want %v", tc.kind, counts, tc.want)
		}
	}
}

func testNoticesList(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	other := newIncident(t, s)
	ensure(t, s, other, seedSubjects(t, s, other, "", ""))
	sids := seedSubjects(t, s, id, "", "", "", "", "", "", "")
	ensure(t, s, id, sids)
	all := allNotices(t, s, id, "")
	if len(all) != 7 {
		t.Fatalf("%d notices, want 7", len(all))
	}
	var paged []store.Notice
	after := int64(0)
	for {
		page, err := s.ListNotices(ctx(t), id, "", after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(paged, all) {
		t.Errorf("paged = %v, want %v", subjectIDsOf(paged), subjectIDsOf(all))
	}
	if !slices.IsSortedFunc(all, func(a, b store.Notice) int { return int(a.ID - b.ID) }) {
		t.Errorf("notices not ordered by id")
	}
	got := claim(t, s, id, []int64{sids[1], sids[4]})
	sending := allNotices(t, s, id, store.NoticeSending)
	if !reflect.DeepEqual(subjectIDsOf(sending), subjectIDsOf(got)) {
		t.Errorf("sending = %v, want %v", subjectIDsOf(sending), subjectIDsOf(got))
	}
	if pending := allNotices(t, s, id, store.NoticePending); len(pending) != 5 {
		t.Errorf("%d pending, want 5", len(pending))
	}
	if _, err := s.ListNotices(ctx(t), id, "bogus", 0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown status: %v, want ErrInvalid", err)
	}
	if _, err := s.ListNotices(ctx(t), id, "", 0, -1); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative limit: %v, want ErrInvalid", err)
	}
}

func testNoticesUnknownIncident(t *testing.T, s store.Store) {
	c := ctx(t)
	const id = "BR-NOSUCH"
	checks := map[string]error{}
	_, checks["EnsureNotices"] = s.EnsureNotices(c, id, kindCustomer, []int64{1}, msgID(id, kindCustomer))
	_, checks["ClaimNotices"] = s.ClaimNotices(c, id, kindCustomer, []int64{1})
	_, checks["RetryFailedNotices"] = s.RetryFailedNotices(c, id, kindCustomer)
	_, checks["ListNotices"] = s.ListNotices(c, id, "", 0, 0)
	_, checks["NoticeCounts"] = s.NoticeCounts(c, id, "")
	for name, err := range checks {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on an unknown incident: %v, want ErrNotFound", name, err)
		}
	}
}

// testNoticesReclaimAndMarkMany: a zero lease takes back a fresh claim
// (a retried batch whose first attempt is dead), and MarkNoticesSent moves
// only notices in sending, all in one call.
func testNoticesReclaimAndMarkMany(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	sids := seedSubjects(t, s, id, "US-CA", "US-NY", "DE-BE", "")
	ensure(t, s, id, sids)
	first := claim(t, s, id, sids[:3])
	if len(first) != 3 {
		t.Fatalf("claimed %d, want 3", len(first))
	}
	if again := claim(t, s, id, sids); len(again) != 1 || again[0].SubjectID != sids[3] {
		t.Fatalf("a fresh claim was handed out again under the normal lease: %+v", again)
	}
	taken, err := s.ClaimNoticesWithLease(ctx(t), id, kindCustomer, sids[:3], 0)
	if err != nil || len(taken) != 3 {
		t.Fatalf("reclaim with lease 0 = %d notices, %v; want 3", len(taken), err)
	}
	for i, n := range taken {
		if n.Attempts != 2 || n.MessageID != first[i].MessageID {
			t.Errorf("reclaimed notice %+v: want attempt 2 and Message-ID %s", n, first[i].MessageID)
		}
	}
	if _, err := s.ClaimNoticesWithLease(ctx(t), id, kindCustomer, sids, -time.Second); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative lease: err = %v, want ErrInvalid", err)
	}
	// One of them fails for good first: MarkNoticesSent must leave it failed.
	if err := s.MarkNoticeFailed(ctx(t), taken[2].ID, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ids := []int64{taken[0].ID, taken[1].ID, taken[2].ID, taken[0].ID}
	moved, err := s.MarkNoticesSent(ctx(t), ids, at)
	if err != nil || moved != 2 {
		t.Fatalf("MarkNoticesSent = %d, %v; want 2 moved", moved, err)
	}
	if moved, err := s.MarkNoticesSent(ctx(t), ids, at); err != nil || moved != 0 {
		t.Errorf("marking again = %d, %v; want 0", moved, err)
	}
	sent := allNotices(t, s, id, store.NoticeSent)
	if len(sent) != 2 || sent[0].SentAt == nil || !sent[0].SentAt.Equal(at) {
		t.Errorf("sent notices %+v, want two sent at %v", sent, at)
	}
	if failed := allNotices(t, s, id, store.NoticeFailed); len(failed) != 1 {
		t.Errorf("failed notices %+v, want the one marked failed", failed)
	}
	if got := claim(t, s, id, sids[:3]); len(got) != 0 {
		t.Errorf("sent or failed notices claimed again: %+v", got)
	}
}
