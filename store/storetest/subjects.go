package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/store"
)

// subjectKeys seals subjects as the application does: a codec keyring for
// the fields, a separate key for the email HMAC.
type subjectKeys struct {
	kr   *codec.Keyring
	hmac []byte
}

func newSubjectKeys(t *testing.T) subjectKeys {
	t.Helper()
	k, err := codec.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	kr, err := codec.ParseKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	return subjectKeys{kr: kr, hmac: bytes.Repeat([]byte{0x5a}, 32)}
}

func (k subjectKeys) seal(t *testing.T, incidentID string, ss ...subjects.Subject) []store.SubjectRecord {
	t.Helper()
	out := make([]store.SubjectRecord, len(ss))
	for i, s := range ss {
		rec, err := subjects.Seal(incidentID, s, k.kr, k.hmac)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = rec
	}
	return out
}

// customer is a valid subject numbered i.
func customer(i int, tier, subdivision string) subjects.Subject {
	country := ""
	if subdivision != "" {
		country, _, _ = strings.Cut(subdivision, "-")
	}
	return subjects.Subject{
		ExternalID:     fmt.Sprintf("C-%04d", i),
		Name:           fmt.Sprintf("Customer Nameless%04d", i),
		Email:          fmt.Sprintf("customer%04d@mail.example", i),
		Locale:         "en",
		Country:        country,
		Subdivision:    subdivision,
		Tier:           tier,
		AccountManager: "Owner",
		DataElements:   []string{"email", "ssn"},
	}
}

func upsert(t *testing.T, s store.Store, incidentID string, batch []store.SubjectRecord) (int, int) {
	t.Helper()
	ins, upd, err := s.UpsertSubjects(ctx(t), incidentID, batch)
	if err != nil {
		t.Fatalf("UpsertSubjects: %v", err)
	}
	return ins, upd
}

func allSubjects(t *testing.T, s store.Store, incidentID string) []store.SubjectRecord {
	t.Helper()
	ids, err := s.ListSubjectIDs(ctx(t), incidentID, 0, store.MaxSubjectPage)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.GetSubjects(ctx(t), ids)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func testSubjectsUpsertTwice(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	in := []subjects.Subject{customer(1, "high", "US-CA"), customer(2, "low", ""), customer(3, "medium", "DE-BE")}
	in[2].ExternalID = "" // merged by email instead
	if ins, upd := upsert(t, s, id, keys.seal(t, id, in...)); ins != 3 || upd != 0 {
		t.Fatalf("first upsert: inserted %d updated %d, want 3 and 0", ins, upd)
	}
	first := allSubjects(t, s, id)
	// The same file again, sealed afresh (new nonces): nothing new.
	in[0].Tier = "low"
	if ins, upd := upsert(t, s, id, keys.seal(t, id, in...)); ins != 0 || upd != 3 {
		t.Fatalf("second upsert: inserted %d updated %d, want 0 and 3", ins, upd)
	}
	got := allSubjects(t, s, id)
	if len(got) != 3 {
		t.Fatalf("%d subjects after uploading twice, want 3", len(got))
	}
	for i, rec := range got {
		if rec.ID != first[i].ID || !rec.CreatedAt.Equal(first[i].CreatedAt) || rec.UpdatedAt.Before(first[i].UpdatedAt) {
			t.Errorf("subject %d: id/created changed or updated went back: %+v then %+v", i, first[i], rec)
		}
		name, email, err := subjects.Open(rec, keys.kr)
		if err != nil {
			t.Fatal(err)
		}
		want := in[i]
		if rec.IncidentID != id || name != want.Name || email != want.Email || rec.ExternalID != want.ExternalID ||
			rec.Tier != want.Tier || rec.Country != want.Country || rec.Subdivision != want.Subdivision ||
			rec.Locale != want.Locale || rec.AccountManager != want.AccountManager ||
			!reflect.DeepEqual(rec.DataElements, want.DataElements) || rec.KeyID != "k1" {
			t.Errorf("subject %d read back as %+v (%q, %q), want %+v", i, rec, name, email, want)
		}
	}
}

func testSubjectsMergeByEmail(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	a := subjects.Subject{Email: "ann@mail.example", Name: "Ann", Locale: "en", Tier: "low"}
	upsert(t, s, id, keys.seal(t, id, a))
	// Same address in other case, no external id: the same subject.
	b := subjects.Subject{Email: "ANN@Mail.Example", Name: "Ann B.", Locale: "de", Tier: "high"}
	// With an external id it is another subject, even with the same email.
	c := subjects.Subject{ExternalID: "X-1", Email: "ann@mail.example", Name: "Ann C.", Locale: "en", Tier: "medium"}
	// Within one batch, a later record wins over an earlier one.
	d1 := subjects.Subject{Email: "dan@mail.example", Name: "Dan", Locale: "en", Tier: "low"}
	d2 := subjects.Subject{Email: "dan@mail.example", Name: "Daniel", Locale: "en", Tier: "high"}
	if ins, upd := upsert(t, s, id, keys.seal(t, id, b, c, d1, d2)); ins != 2 || upd != 2 {
		t.Fatalf("inserted %d updated %d, want 2 and 2", ins, upd)
	}
	got := allSubjects(t, s, id)
	if len(got) != 3 {
		t.Fatalf("%d subjects, want 3", len(got))
	}
	var names []string
	for _, rec := range got {
		name, _, err := subjects.Open(rec, keys.kr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name+"/"+rec.Tier+"/"+rec.Locale)
	}
	want := []string{"Ann B./high/de", "Ann C./medium/en", "Daniel/high/en"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("subjects = %q, want %q", names, want)
	}
	// Another incident's identical subject is its own row.
	other := newIncident(t, s)
	if ins, _ := upsert(t, s, other, keys.seal(t, other, a)); ins != 1 {
		t.Errorf("same subject in another incident: inserted %d, want 1", ins)
	}
}

// testSubjectsBatchOrder mixes both kinds of key in one batch, each
// repeated, the email-only subject first: new rows get ids in order of
// first appearance, the last record of a subject wins, and the counts are
// those of writing record by record (a key's first record inserts unless
// stored, every later one updates).
func testSubjectsBatchOrder(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	stored := subjects.Subject{ExternalID: "X-1", Email: "xena@mail.example", Name: "Xena", Locale: "en", Tier: "low"}
	upsert(t, s, id, keys.seal(t, id, stored))
	eve := subjects.Subject{Email: "eve@mail.example", Name: "Eve", Locale: "en", Tier: "low"}
	bob := subjects.Subject{ExternalID: "X-2", Email: "bob@mail.example", Name: "Bob", Locale: "en", Tier: "low"}
	named := func(sub subjects.Subject, name string) subjects.Subject {
		sub.Name = name
		return sub
	}
	batch := []subjects.Subject{eve, bob, named(stored, "Xena 2"), named(eve, "Eve 2"), named(stored, "Xena 3"), named(bob, "Bob 2")}
	if ins, upd := upsert(t, s, id, keys.seal(t, id, batch...)); ins != 2 || upd != 4 {
		t.Fatalf("inserted %d updated %d, want 2 and 4", ins, upd)
	}
	var names []string
	for _, rec := range allSubjects(t, s, id) {
		name, _, err := subjects.Open(rec, keys.kr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if want := []string{"Xena 3", "Eve 2", "Bob 2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("subjects by id = %q, want %q", names, want)
	}
}

func testSubjectsCounts(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	byJ, byT, err := s.SubjectCounts(ctx(t), id)
	if err != nil || len(byJ) != 0 || len(byT) != 0 {
		t.Fatalf("empty incident: %v %v %v", byJ, byT, err)
	}
	de := customer(4, "low", "")
	de.Country = "DE"
	upsert(t, s, id, keys.seal(t, id,
		customer(1, "high", "US-CA"), customer(2, "low", "US-CA"), customer(3, "medium", "US-NY"),
		de, customer(5, "low", "")))
	other := newIncident(t, s)
	upsert(t, s, other, keys.seal(t, other, customer(1, "high", "FR-75")))
	byJ, byT, err = s.SubjectCounts(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"US-CA": 2, "US-NY": 1, "DE": 1, store.UnknownJurisdiction: 1}; !reflect.DeepEqual(byJ, want) {
		t.Errorf("by jurisdiction = %v, want %v", byJ, want)
	}
	if want := map[string]int{"high": 1, "medium": 1, "low": 3}; !reflect.DeepEqual(byT, want) {
		t.Errorf("by tier = %v, want %v", byT, want)
	}
}

func testSubjectsLocales(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	if got, err := s.SubjectLocales(ctx(t), id); err != nil || len(got) != 0 {
		t.Fatalf("empty incident: %v %v", got, err)
	}
	var batch []subjects.Subject
	for i, tag := range []string{"en", "en-GB", "zh", "zh_CN", "zh-Hans", "zh-TW", "", "de"} {
		c := customer(i+1, "low", "")
		c.Locale = tag
		batch = append(batch, c)
	}
	upsert(t, s, id, keys.seal(t, id, batch...))
	other := newIncident(t, s)
	upsert(t, s, other, keys.seal(t, other, customer(1, "low", "")))
	got, err := s.SubjectLocales(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	// zh-TW is Traditional Chinese, not translated yet: it gets English.
	if want := map[string]int{"en": 5, "zh-CN": 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("by locale = %v, want %v", got, want)
	}
}

func testSubjectsPaging(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	other := newIncident(t, s)
	// More than one GetSubjects chunk (500), interleaved with another
	// incident's subjects so ids have gaps.
	const n = 520
	for start := 0; start < n; start += 130 {
		var batch []subjects.Subject
		for i := start; i < start+130; i++ {
			batch = append(batch, customer(i, "low", "US-CA"))
		}
		upsert(t, s, id, keys.seal(t, id, batch...))
		upsert(t, s, other, keys.seal(t, other, customer(start, "low", "")))
	}
	var (
		all   []int64
		after int64
		pages int
	)
	for {
		ids, err := s.ListSubjectIDs(ctx(t), id, after, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		if len(ids) > 200 || !slices.IsSorted(ids) || ids[0] <= after {
			t.Fatalf("page after %d = %v…", after, ids[:min(5, len(ids))])
		}
		all = append(all, ids...)
		after = ids[len(ids)-1]
		pages++
	}
	if len(all) != n || pages != 3 {
		t.Fatalf("paged %d ids in %d pages, want %d in 3", len(all), pages, n)
	}
	// A range (after, through]: its ids only, up to the limit.
	for _, c := range []struct {
		after, through int64
		limit          int
		want           []int64
	}{
		{all[9], all[139], 500, all[10:140]},
		{all[9], all[139], 50, all[10:60]},
		{0, all[0], 10, all[:1]},
		{all[n-1], all[n-1] + 1_000_000, 10, nil},
	} {
		got, err := s.ListSubjectIDsThrough(ctx(t), id, c.after, c.through, c.limit)
		if err != nil || !slices.Equal(got, c.want) {
			t.Fatalf("ids in (%d, %d] up to %d: %d ids %v, want %d, %v", c.after, c.through, c.limit, len(got), err, len(c.want), c.want[:min(3, len(c.want))])
		}
	}
	// Ask in reverse order with an unknown id: sorted by id, unknown left out.
	ask := slices.Clone(all)
	slices.Reverse(ask)
	ask = append(ask, all[n-1]+1_000_000)
	recs, err := s.GetSubjects(ctx(t), ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("GetSubjects returned %d, want %d", len(recs), n)
	}
	for i, rec := range recs {
		if rec.ID != all[i] || rec.IncidentID != id {
			t.Fatalf("record %d: id %d incident %s, want id %d incident %s", i, rec.ID, rec.IncidentID, all[i], id)
		}
	}
	if recs, err := s.GetSubjects(ctx(t), nil); err != nil || len(recs) != 0 {
		t.Errorf("GetSubjects(nil) = %v, %v", recs, err)
	}
	if _, err := s.ListSubjectIDs(ctx(t), id, 0, -1); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative limit: err = %v, want ErrInvalid", err)
	}
	if ids, err := s.ListSubjectIDs(ctx(t), id, 0, 0); err != nil || len(ids) != n {
		t.Errorf("limit 0 (default page): %d ids, %v", len(ids), err)
	}
}

func testSubjectsNoPlaintext(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	in := []subjects.Subject{customer(1, "high", "US-CA"), customer(2, "low", "")}
	in[1].ExternalID = ""
	upsert(t, s, id, keys.seal(t, id, in...))
	rows := 0
	forEachCell(t, withDB(t, s), "subjects", func(col, text string) {
		if col == "id" {
			rows++
		}
		for _, c := range in {
			local, _, _ := strings.Cut(c.Email, "@")
			for _, secret := range []string{c.Email, strings.ToLower(c.Email), local, c.Name, strings.Fields(c.Name)[1]} {
				if strings.Contains(strings.ToLower(text), strings.ToLower(secret)) {
					t.Errorf("subjects.%s holds plaintext %q", col, secret)
				}
			}
		}
	})
	if rows != 2 {
		t.Fatalf("scanned %d rows, want 2", rows)
	}
}

func testSubjectsBadInput(t *testing.T, s store.Store) {
	keys := newSubjectKeys(t)
	id := newIncident(t, s)
	good := keys.seal(t, id, customer(1, "low", ""))[0]
	if _, _, err := s.UpsertSubjects(ctx(t), "BR-NOPE00", []store.SubjectRecord{good}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: err = %v, want ErrNotFound", err)
	}
	for name, mut := range map[string]func(*store.SubjectRecord){
		"no key":       func(r *store.SubjectRecord) { r.ExternalID, r.EmailHMAC = "", "" },
		"bad tier":     func(r *store.SubjectRecord) { r.Tier = "gold" },
		"bad hmac":     func(r *store.SubjectRecord) { r.EmailHMAC = "not-hex" },
		"upper hmac":   func(r *store.SubjectRecord) { r.EmailHMAC = strings.ToUpper(r.EmailHMAC) },
		"sealed no id": func(r *store.SubjectRecord) { r.KeyID = "" },
	} {
		bad := good
		mut(&bad)
		// The valid record in front must not be written either: a batch
		// is refused whole.
		if _, _, err := s.UpsertSubjects(ctx(t), id, []store.SubjectRecord{good, bad}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, _, err := s.UpsertSubjects(ctx(t), "", []store.SubjectRecord{good}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty incident id: err = %v", err)
	}
	big := make([]store.SubjectRecord, store.MaxSubjectBatch+1)
	if _, _, err := s.UpsertSubjects(ctx(t), id, big); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("oversized batch: err = %v", err)
	}
	if got := allSubjects(t, s, id); len(got) != 0 {
		t.Errorf("%d subjects written by refused batches", len(got))
	}
}
