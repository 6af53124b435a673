package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
)

// letterTests cover the postal channel: sealed addresses and letter batches.
var letterTests = []testCase{
	{"AddressSealedRoundTrip", testLetterAddressRoundTrip},
	{"Candidates", testLetterCandidates},
	{"BatchLifecycle", testLetterBatchLifecycle},
	{"Reach", testNoticeReach},
	{"UnprintableAgain", testLetterUnprintableAgain},
	{"PDFHash", testLetterBatchPDFHash},
}

func addressed(i int, email string, a subjects.Address) subjects.Subject {
	s := customer(i, "low", "US-CA")
	s.Email, s.Address = email, a
	return s
}

var sampleAddress = subjects.Address{Lines: []string{"1 Market St"}, City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"}

func testLetterAddressRoundTrip(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	keys := newSubjectKeys(t)
	upsert(t, s, id, keys.seal(t, id, addressed(1, "", sampleAddress), addressed(2, "a@mail.example", subjects.Address{})))
	got := allSubjects(t, s, id)
	if len(got) != 2 {
		t.Fatalf("got %d subjects", len(got))
	}
	if bytes.Contains(got[0].AddressSealed, []byte("Market")) {
		t.Error("address stored in the clear")
	}
	a, err := subjects.OpenAddress(got[0], keys.kr)
	if err != nil || !reflect.DeepEqual(a, sampleAddress) {
		t.Errorf("address = %+v, %v", a, err)
	}
	if len(got[1].AddressSealed) != 0 {
		t.Errorf("a subject without an address has %d sealed bytes", len(got[1].AddressSealed))
	}
	// A re-upload replaces the address (here: removes it).
	upsert(t, s, id, keys.seal(t, id, addressed(1, "", subjects.Address{})))
	if got := allSubjects(t, s, id); len(got[0].AddressSealed) != 0 {
		t.Error("re-upload without an address kept the old one")
	}
}

// seedLetterCase stores: 1 no email + address, 2 email + address (notice
// failed), 3 email + address (notice sent), 4 no email, no address.
func seedLetterCase(t *testing.T, s store.Store) (string, []int64) {
	t.Helper()
	c := ctx(t)
	id := newIncident(t, s)
	keys := newSubjectKeys(t)
	upsert(t, s, id, keys.seal(t, id, addressed(1, "", sampleAddress), addressed(2, "two@mail.example", sampleAddress),
		addressed(3, "three@mail.example", sampleAddress), addressed(4, "", subjects.Address{})))
	ids, err := s.ListSubjectIDs(c, id, 0, 10)
	if err != nil || len(ids) != 4 {
		t.Fatalf("ids %v, %v", ids, err)
	}
	if _, err := s.EnsureNotices(c, id, kindCustomer, ids[1:3], msgID(id, kindCustomer)); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimNotices(c, id, kindCustomer, ids[1:3])
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %v, %v", claimed, err)
	}
	if err := s.MarkNoticeFailed(c, claimed[0].ID, "550 no such user", true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNoticeSent(c, claimed[1].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	return id, ids
}

func testLetterCandidates(t *testing.T, s store.Store) {
	id, ids := seedLetterCase(t, s)
	got, err := s.LetterCandidates(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{ids[0], ids[1]}; !reflect.DeepEqual(got, want) {
		t.Errorf("candidates = %v, want %v (no email, or failed email; with an address)", got, want)
	}
}

func testLetterBatchLifecycle(t *testing.T, s store.Store) {
	c := ctx(t)
	id, ids := seedLetterCase(t, s)
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	b, err := s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: at,
		Subjects: []int64{ids[0]}, Unprintable: map[int64]string{ids[1]: "no postal code"}, MessageID: msgID(id, store.NoticeKindLetter)})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == 0 || b.Letters != 1 || b.Unprintable != 1 || b.PrintedAt != nil || !b.CreatedAt.Equal(at) {
		t.Errorf("batch = %+v", b)
	}
	if got, _ := s.LetterCandidates(c, id); len(got) != 0 {
		t.Errorf("candidates after the batch = %v, want none", got)
	}
	// A second batch cannot take the same customer; nothing is written.
	_, err = s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: at,
		Subjects: []int64{ids[3], ids[0]}, MessageID: msgID(id, store.NoticeKindLetter)})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("second batch of the same customer: %v, want ErrConflict", err)
	}
	if bs, _ := s.ListLetterBatches(c, id); len(bs) != 1 {
		t.Errorf("batches = %d, want 1 (the refused one rolled back)", len(bs))
	}
	counts := func() map[string]int {
		by, err := s.NoticeCounts(c, id, store.NoticeKindLetter)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, m := range by {
			for st, n := range m {
				out[st] += n
			}
		}
		return out
	}
	if got := counts(); got[store.NoticePending] != 1 || got[store.NoticeFailed] != 1 {
		t.Errorf("letter counts after generating = %v", got)
	}
	// Returning a letter that was never printed is refused.
	if err := s.RecordLetterReturned(c, id, ids[0], "moved", at); !errors.Is(err, store.ErrConflict) {
		t.Errorf("return before printing: %v, want ErrConflict", err)
	}
	p, err := s.MarkLetterBatchPrinted(c, id, b.ID, "PRINT-77", "lee", at.Add(time.Hour))
	if err != nil || p.Reference != "PRINT-77" || p.PrintedAt == nil || p.PrintedBy != "lee" {
		t.Fatalf("printed = %+v, %v", p, err)
	}
	if _, err := s.MarkLetterBatchPrinted(c, id, b.ID, "PRINT-77", "lee", at.Add(2*time.Hour)); err != nil {
		t.Errorf("same reference again: %v", err)
	}
	if _, err := s.MarkLetterBatchPrinted(c, id, b.ID, "OTHER", "lee", at); !errors.Is(err, store.ErrConflict) {
		t.Errorf("another reference: %v, want ErrConflict", err)
	}
	if _, err := s.MarkLetterBatchPrinted(c, id, b.ID+100, "X", "lee", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown batch: %v, want ErrNotFound", err)
	}
	if got := counts(); got[store.NoticeSent] != 1 || got[store.NoticePending] != 0 {
		t.Errorf("letter counts after printing = %v", got)
	}
	if err := s.RecordLetterReturned(c, id, ids[0], "addressee unknown", at); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLetterReturned(c, id, ids[0], "addressee unknown", at); err != nil {
		t.Errorf("returning twice: %v, want a no-op", err)
	}
	if err := s.RecordLetterReturned(c, id, ids[3], "x", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("return without a letter: %v, want ErrNotFound", err)
	}
	if got := counts(); got[store.NoticeFailed] != 2 || got[store.NoticeSent] != 0 {
		t.Errorf("letter counts after the return = %v", got)
	}
	ns, err := s.ListNotices(c, id, store.NoticeFailed, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, n := range ns {
		if n.Kind == store.NoticeKindLetter {
			reasons = append(reasons, n.LastError)
		}
	}
	if len(reasons) != 2 || !strings.HasPrefix(reasons[0], store.LetterReturned) || !strings.HasPrefix(reasons[1], store.LetterUnprintable) {
		t.Errorf("letter reasons = %q", reasons)
	}
	got, err := s.GetLetterBatch(c, id, b.ID)
	if err != nil || !reflect.DeepEqual(got.SubjectIDs, []int64{ids[0]}) {
		t.Errorf("GetLetterBatch = %+v, %v", got, err)
	}
	if _, err := s.GetLetterBatch(c, "BR-NOSUCH", b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("batch of another incident: %v, want ErrNotFound", err)
	}
}

// testNoticeReach follows each customer of seedLetterCase, and a fifth
// not sent yet, through the channels: one channel each at every turn.
func testNoticeReach(t *testing.T, s store.Store) {
	c := ctx(t)
	id, ids := seedLetterCase(t, s)
	keys := newSubjectKeys(t)
	upsert(t, s, id, keys.seal(t, id, addressed(5, "five@mail.example", subjects.Address{})))
	all, err := s.ListSubjectIDs(c, id, 0, 10)
	if err != nil || len(all) != 5 {
		t.Fatalf("ids %v, %v", all, err)
	}
	// 1 and 4 have no email: their notices fail, as a send run fails them.
	if _, err := s.EnsureNotices(c, id, kindCustomer, []int64{ids[0], ids[3], all[4]}, msgID(id, kindCustomer)); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimNotices(c, id, kindCustomer, []int64{ids[0], ids[3]})
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %v, %v", claimed, err)
	}
	for _, n := range claimed {
		if err := s.MarkNoticeFailed(c, n.ID, "no email address", true); err != nil {
			t.Fatal(err)
		}
	}
	reach := func(when string, want breach.Reach) {
		t.Helper()
		by, err := s.NoticeReach(c, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(by) != 1 || by["US-CA"] != want {
			t.Errorf("%s: reach = %+v, want US-CA %+v", when, by, want)
		}
	}
	// 1 and 2 wait for a letter, 5 for its email; 3 got the email; 4
	// has neither email nor address.
	reach("before letters", breach.Reach{Email: 1, Failed: 1, Pending: 3})
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	b, err := s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: at,
		Subjects: []int64{ids[0]}, Unprintable: map[int64]string{ids[1]: "no postal code"}, MessageID: msgID(id, store.NoticeKindLetter)})
	if err != nil {
		t.Fatal(err)
	}
	reach("batch made", breach.Reach{Email: 1, Failed: 2, Pending: 2})
	if _, err := s.MarkLetterBatchPrinted(c, id, b.ID, "PRINT-1", "lee", at); err != nil {
		t.Fatal(err)
	}
	reach("printed", breach.Reach{Email: 1, Letter: 1, Failed: 2, Pending: 1})
	if err := s.RecordLetterReturned(c, id, ids[0], "addressee unknown", at); err != nil {
		t.Fatal(err)
	}
	reach("returned", breach.Reach{Email: 1, Failed: 3, Pending: 1})
	ns, err := s.ListNotices(c, id, store.NoticeFailed, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == kindCustomer && (n.SubjectID == ids[0] || n.SubjectID == ids[3]) {
			if err := s.SuppressNotice(c, n.ID, "substitute notice"); err != nil {
				t.Fatal(err)
			}
		}
	}
	reach("substitute notice", breach.Reach{Email: 1, Substitute: 2, Failed: 1, Pending: 1})
	if _, err := s.NoticeReach(c, "BR-NOSUCH"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reach of no incident: %v, want ErrNotFound", err)
	}
}

// testLetterUnprintableAgain: a customer whose address could not be
// printed is no candidate until they are imported again; then the next
// batch takes their failed letter notice (same Message-ID), once.
func testLetterUnprintableAgain(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	keys := newSubjectKeys(t)
	noZip := sampleAddress
	noZip.PostalCode = ""
	upsert(t, s, id, keys.seal(t, id, addressed(1, "", noZip), addressed(2, "", sampleAddress)))
	ids, err := s.ListSubjectIDs(c, id, 0, 10)
	if err != nil || len(ids) != 2 {
		t.Fatalf("ids %v, %v", ids, err)
	}
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if _, err := s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: at, Subjects: []int64{ids[1]},
		Unprintable: map[int64]string{ids[0]: "no postal code"}, MessageID: msgID(id, store.NoticeKindLetter)}); err != nil {
		t.Fatal(err)
	}
	letter := func() store.Notice {
		t.Helper()
		ns, err := s.ListNotices(c, id, "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.Kind == store.NoticeKindLetter && n.SubjectID == ids[0] {
				return n
			}
		}
		t.Fatal("no letter notice")
		return store.Notice{}
	}
	failed := letter()
	if got, _ := s.LetterCandidates(c, id); len(got) != 0 {
		t.Fatalf("candidates before a new import = %v, want none", got)
	}
	// The import is fixed: both customers are imported again; only the
	// unprintable one needs a letter (the other's is in a batch).
	upsert(t, s, id, keys.seal(t, id, addressed(1, "", sampleAddress), addressed(2, "", sampleAddress)))
	if got, err := s.LetterCandidates(c, id); err != nil || !reflect.DeepEqual(got, []int64{ids[0]}) {
		t.Fatalf("candidates after the import = %v, %v; want [%d]", got, err, ids[0])
	}
	b, err := s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: at.Add(time.Hour),
		Subjects: []int64{ids[0]}, MessageID: msgID(id, store.NoticeKindLetter)})
	if err != nil || b.Letters != 1 {
		t.Fatalf("the second batch = %+v, %v", b, err)
	}
	again := letter()
	if again.ID != failed.ID || again.MessageID != failed.MessageID || again.Status != store.NoticePending || again.LastError != "" {
		t.Errorf("the letter notice after the second batch = %+v, want notice %d pending, same Message-ID", again, failed.ID)
	}
	if got, _ := s.LetterCandidates(c, id); len(got) != 0 {
		t.Errorf("candidates after the second batch = %v, want none", got)
	}
	if _, err := s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: at,
		Subjects: []int64{ids[0]}, MessageID: msgID(id, store.NoticeKindLetter)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a third batch of the same customer: %v, want ErrConflict", err)
	}
	if got, err := s.GetLetterBatch(c, id, b.ID); err != nil || !reflect.DeepEqual(got.SubjectIDs, []int64{ids[0]}) {
		t.Errorf("the second batch holds %+v, %v", got, err)
	}
}

// testLetterBatchPDFHash: a batch keeps the first PDF hash recorded for
// it, and shows it wherever the batch is read.
func testLetterBatchPDFHash(t *testing.T, s store.Store) {
	c := ctx(t)
	id, ids := seedLetterCase(t, s)
	b, err := s.CreateLetterBatch(c, store.NewLetterBatch{IncidentID: id, CreatedBy: "lee", At: time.Now(),
		Subjects: []int64{ids[0]}, MessageID: msgID(id, store.NoticeKindLetter)})
	if err != nil || b.PDFSHA256 != "" {
		t.Fatalf("batch = %+v, %v; want no hash yet", b, err)
	}
	first, second := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	for _, bad := range []string{"", "abc", strings.Repeat("AB", 32), strings.Repeat("zz", 32)} {
		if _, err := s.RecordLetterBatchPDF(c, id, b.ID, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("hash %q: %v, want ErrInvalid", bad, err)
		}
	}
	if got, err := s.RecordLetterBatchPDF(c, id, b.ID, first); err != nil || got.PDFSHA256 != first {
		t.Fatalf("record = %+v, %v", got, err)
	}
	if got, err := s.RecordLetterBatchPDF(c, id, b.ID, second); err != nil || got.PDFSHA256 != first {
		t.Errorf("a second hash = %+v, %v; want the first kept", got, err)
	}
	if _, err := s.RecordLetterBatchPDF(c, id, b.ID+100, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown batch: %v, want ErrNotFound", err)
	}
	if got, err := s.GetLetterBatch(c, id, b.ID); err != nil || got.PDFSHA256 != first {
		t.Errorf("GetLetterBatch = %+v, %v", got, err)
	}
	if bs, err := s.ListLetterBatches(c, id); err != nil || len(bs) != 1 || bs[0].PDFSHA256 != first {
		t.Errorf("ListLetterBatches = %+v, %v", bs, err)
	}
}
