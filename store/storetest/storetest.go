// Package storetest is the behaviour suite every store.Store implementation
// must pass; the SQLite and PostgreSQL tests both run it.
package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
)

// Opener returns a fresh, empty, not yet migrated store for one test; it
// registers its own cleanup (dropping schemas, removing files).
type Opener func(t *testing.T) store.Store

// dbStore is what the tamper tests need beyond store.Store.
type dbStore interface {
	store.Store
	DB() *sql.DB
}

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Helper()
	groups := []struct {
		name  string
		tests []testCase
	}{
		{"Migrate", []testCase{
			{"Twice", testMigrateTwice},
		}},
		{"Tokens", []testCase{
			{"CreateAndAuthenticate", testTokenCreateAuthenticate},
			{"SecretNotStored", testTokenSecretNotStored},
			{"Revoke", testTokenRevoke},
			{"EnsureIdempotent", testEnsureToken},
			{"RejectsBadInput", testTokenBadInput},
		}},
		{"TokenLife", tokenLifeTests},
		{"Incidents", []testCase{
			{"CreateGet", testIncidentCreateGet},
			{"DedupeExternalRef", testIncidentDedupeExternalRef},
			{"DedupeIdempotencyKey", testIncidentDedupeIdempotencyKey},
			{"EmptyRefsDoNotDedupe", testIncidentEmptyRefs},
			{"ConcurrentDuplicates", testIncidentConcurrent},
			{"IDConflict", testIncidentIDConflict},
			{"GetUnknown", testIncidentGetUnknown},
			{"Status", testIncidentStatus},
			{"Phase", testIncidentPhase},
			{"List", testListIncidents},
		}},
		{"Members", []testCase{
			{"LaunchWritesMembers", testMembersAtCreate},
			{"AddRemove", testMembersAddRemove},
			{"Hidden", testMembersHidden},
			{"RejectsBadInput", testMembersBadInput},
			{"Backfill", testMembersBackfill},
		}},
		{"Audit", []testCase{
			{"Chain", testAuditChain},
			{"IdempotentKey", testAuditIdempotentKey},
			{"Events", testAuditEvents},
			{"PerIncidentChains", testAuditPerIncident},
			{"RejectsBadInput", testAuditBadInput},
			{"Concurrent", testAuditConcurrent},
			{"AppendOnlyTrigger", testAuditTrigger},
			{"TamperDetected", testAuditTamper},
			{"RecomputedWithoutKey", testAuditRecomputedWithoutKey},
			{"MACStripped", testAuditMACStripped},
			{"WrongKey", testAuditWrongKey},
			{"KeyRotation", testAuditKeyRotation},
			{"TruncatedTail", testAuditTruncatedTail},
			{"Legacy", testAuditLegacy},
		}},
		{"Obligations", []testCase{
			{"RoundTrip", testObligationsRoundTrip},
			{"Replace", testObligationsReplace},
			{"UnknownIncident", testObligationsUnknownIncident},
			{"RejectsBadInput", testObligationsBadInput},
			{"Order", testObligationsOrder},
			{"Filters", testObligationsFilters},
			{"Limit", testObligationsLimit},
			{"ConcurrentPuts", testObligationsConcurrent},
		}},
		{"CalendarTokens", []testCase{
			{"CreateAndAuthenticate", testCalendarTokenCreateAuthenticate},
			{"RevokedOwner", testCalendarTokenRevokedOwner},
			{"SecretNotStored", testCalendarTokenSecretNotStored},
		}},
		{"Subjects", []testCase{
			{"UpsertTwice", testSubjectsUpsertTwice},
			{"MergeByEmail", testSubjectsMergeByEmail},
			{"BatchOrder", testSubjectsBatchOrder},
			{"Counts", testSubjectsCounts},
			{"Locales", testSubjectsLocales},
			{"Paging", testSubjectsPaging},
			{"NoPlaintext", testSubjectsNoPlaintext},
			{"RejectsBadInput", testSubjectsBadInput},
		}},
		{"Notices", []testCase{
			{"EnsureTwice", testNoticesEnsureTwice},
			{"ClaimSentFinal", testNoticesClaimSentFinal},
			{"RetryableFailure", testNoticesRetryableFailure},
			{"PermanentFailure", testNoticesPermanentFailure},
			{"Suppress", testNoticesSuppress},
			{"ConcurrentClaims", testNoticesConcurrentClaims},
			{"ReclaimAndMarkMany", testNoticesReclaimAndMarkMany},
			{"Counts", testNoticesCounts},
			{"OpsCounts", testOpsCounts},
			{"List", testNoticesList},
			{"UnknownIncident", testNoticesUnknownIncident},
		}},
		{"Remedy", remedyTests},
		{"Outreach", []testCase{
			{"Tasks", testOutreachTasks},
		}},
		{"Letters", letterTests},
		{"Grants", []testCase{
			{"Lifecycle", testGrantLifecycle},
			{"RejectsBadInput", testGrantBadInput},
		}},
		{"LegalHold", []testCase{
			{"BlocksPurge", testHoldBlocksPurge},
			{"Refusals", testHoldRefusals},
		}},
		{"Slack", []testCase{
			{"RoomRoundTrip", testSlackRoomRoundTrip},
			{"RoomRefusals", testSlackRoomRefusals},
			{"Cards", testSlackCards},
			{"RequestReplay", testSlackRequestReplay},
		}},
		{"Alerts", []testCase{
			{"DedupWindow", testAlertsDedupWindow},
			{"ConcurrentCopies", testAlertsConcurrentCopies},
			{"Decide", testAlertsDecide},
			{"ListOldestFirst", testAlertsListOldestFirst},
			{"Storm", testAlertsStorm},
			{"IncidentByExternalRef", testIncidentByExternalRef},
			{"Cards", testAlertCards},
		}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					s.SetAuditKeys(testAuditKeys(t, "k1"))
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					if err := s.Migrate(ctx(t)); err != nil {
						t.Fatalf("Migrate: %v", err)
					}
					tc.fn(t, s)
				})
			}
		})
	}
}

// testCase is one named behaviour, run on a fresh migrated store.
type testCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func withDB(t *testing.T, s store.Store) *sql.DB {
	t.Helper()
	ds, ok := s.(dbStore)
	if !ok {
		t.Fatalf("%T has no DB() *sql.DB method", s)
	}
	return ds.DB()
}

// rebind turns ? into $n on PostgreSQL, for the raw SQL the tests run.
func rebind(s store.Store, q string) string {
	if s.Dialect() != store.DialectPostgres {
		return q
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string {
		n++
		return fmt.Sprintf("$%d", n)
	})
}

// --- migrations ---

func testMigrateTwice(t *testing.T, s store.Store) {
	c := ctx(t)
	secret, tok, err := s.CreateToken(c, "before", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(c); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	got, err := s.AuthenticateToken(c, secret)
	if err != nil || got.ID != tok.ID {
		t.Fatalf("token lost across second Migrate: %+v, %v", got, err)
	}
	if err := s.Ping(c); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// --- tokens ---

var secretPattern = regexp.MustCompile(`^bf_[a-z2-7]{52}$`)

func testTokenCreateAuthenticate(t *testing.T, s store.Store) {
	c := ctx(t)
	secret, tok, err := s.CreateToken(c, "alice", breach.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	if !secretPattern.MatchString(secret) {
		t.Errorf("secret %q does not look like bf_ + 52 lower-case base32 chars", secret)
	}
	if tok.ID == 0 || tok.Name != "alice" || tok.Role != breach.RoleResponder || tok.CreatedAt.IsZero() || !tok.RevokedAt.IsZero() {
		t.Errorf("CreateToken returned %+v", tok)
	}
	got, err := s.AuthenticateToken(c, secret)
	if err != nil {
		t.Fatalf("AuthenticateToken: %v", err)
	}
	if !reflect.DeepEqual(got, tok) {
		t.Errorf("AuthenticateToken = %+v, want %+v", got, tok)
	}
	secret2, tok2, err := s.CreateToken(c, "bob", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	if secret2 == secret || tok2.ID == tok.ID {
		t.Errorf("two tokens share a secret or id")
	}
	for _, wrong := range []string{"", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret), "bf_" + strings.Repeat("a", 52)} {
		if _, err := s.AuthenticateToken(c, wrong); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AuthenticateToken(%q) err = %v, want ErrNotFound", wrong, err)
		}
	}
}

func testTokenSecretNotStored(t *testing.T, s store.Store) {
	c := ctx(t)
	secret, _, err := s.CreateToken(c, "carol", breach.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := withDB(t, s).QueryContext(c, `SELECT * FROM api_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			text := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				text = string(b)
			}
			if strings.Contains(text, secret) || strings.Contains(text, strings.TrimPrefix(secret, "bf_")) {
				t.Errorf("column %s holds the secret", cols[i])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("api_tokens has %d rows, want 1", n)
	}
}

func testTokenRevoke(t *testing.T, s store.Store) {
	c := ctx(t)
	secret, tok, err := s.CreateToken(c, "dave", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	keep, _, err := s.CreateToken(c, "erin", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(c, tok.ID); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if _, err := s.AuthenticateToken(c, secret); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token authenticates: err = %v", err)
	}
	if _, err := s.AuthenticateToken(c, keep); err != nil {
		t.Errorf("revoking one token broke another: %v", err)
	}
	if err := s.RevokeToken(c, tok.ID); err != nil {
		t.Errorf("second RevokeToken: %v", err)
	}
	if err := s.RevokeToken(c, tok.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken(unknown) err = %v, want ErrNotFound", err)
	}
	list, err := s.ListTokens(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != tok.ID || list[0].RevokedAt.IsZero() || !list[1].RevokedAt.IsZero() {
		t.Errorf("ListTokens = %+v, want dave revoked then erin active", list)
	}
}

func testEnsureToken(t *testing.T, s store.Store) {
	c := ctx(t)
	const secret = "bootstrap-admin-secret-0123456789"
	first, err := s.EnsureToken(c, "admin", breach.RoleAdmin, secret)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.EnsureToken(c, "admin-renamed", breach.RoleViewer, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("EnsureToken again = %+v, want unchanged %+v", again, first)
	}
	got, err := s.AuthenticateToken(c, secret)
	if err != nil || got.ID != first.ID || got.Role != breach.RoleAdmin {
		t.Errorf("AuthenticateToken(bootstrap) = %+v, %v", got, err)
	}
	list, err := s.ListTokens(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("ListTokens has %d tokens after EnsureToken twice, want 1", len(list))
	}
}

func testTokenBadInput(t *testing.T, s store.Store) {
	c := ctx(t)
	for _, tc := range []struct{ name, role string }{
		{"x", "root"}, {"x", ""}, {"", breach.RoleAdmin}, {"  ", breach.RoleAdmin},
	} {
		if _, _, err := s.CreateToken(c, tc.name, tc.role); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateToken(%q, %q) err = %v, want ErrInvalid", tc.name, tc.role, err)
		}
	}
	if _, err := s.EnsureToken(c, "admin", breach.RoleAdmin, "short"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("EnsureToken(short secret) err = %v, want ErrInvalid", err)
	}
}

// --- incidents ---

func sampleIncident() store.Incident {
	return store.Incident{
		PlaybookID:      "customer-data-breach",
		PlaybookVersion: 3,
		Severity:        "high",
		CreatedBy:       "alice",
	}
}

var incidentIDPattern = regexp.MustCompile(`^BR-[0-9A-HJKMNP-TV-Z]{6}$`)

func testIncidentCreateGet(t *testing.T, s store.Store) {
	c := ctx(t)
	in := sampleIncident()
	in.ExternalRef = "SIEM-4411"
	in.IdempotencyKey = "req-1"
	in.RequestDigest = "sha256:2c26b46b"
	in.CreatedAt = time.Date(2026, 11, 23, 8, 0, 0, 123456789, time.FixedZone("CET", 3600))
	got, created, err := s.CreateIncident(c, in)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false for a new incident")
	}
	if !incidentIDPattern.MatchString(got.ID) {
		t.Errorf("generated id %q does not match BR-XXXXXX", got.ID)
	}
	want := in
	want.ID = got.ID
	want.Status = store.StatusActive
	want.CreatedAt = time.Date(2026, 11, 23, 7, 0, 0, 123456000, time.UTC)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CreateIncident = %+v\nwant %+v", got, want)
	}
	loaded, err := s.GetIncident(c, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, want) {
		t.Errorf("GetIncident = %+v\nwant %+v", loaded, want)
	}
	chosen := sampleIncident()
	chosen.ID = "BR-CHOSEN"
	got2, created, err := s.CreateIncident(c, chosen)
	if err != nil || !created || got2.ID != "BR-CHOSEN" {
		t.Errorf("CreateIncident with chosen id = %+v, %v, %v", got2, created, err)
	}
}

func testIncidentDedupe(t *testing.T, s store.Store, set func(*store.Incident, string)) {
	t.Helper()
	c := ctx(t)
	first := sampleIncident()
	set(&first, "dup-1")
	a, created, err := s.CreateIncident(c, first)
	if err != nil || !created {
		t.Fatalf("first create: %v, created=%v", err, created)
	}
	second := sampleIncident()
	second.Severity = "low"
	second.CreatedBy = "mallory"
	second.RequestDigest = "another request"
	set(&second, "dup-1")
	b, created, err := s.CreateIncident(c, second)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("duplicate reported created=true")
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("duplicate returned %+v, want the original %+v", b, a)
	}
	other := sampleIncident()
	set(&other, "dup-2")
	o, created, err := s.CreateIncident(c, other)
	if err != nil || !created || o.ID == a.ID {
		t.Errorf("different key: %+v, created=%v, err=%v", o, created, err)
	}
}

func testIncidentDedupeExternalRef(t *testing.T, s store.Store) {
	testIncidentDedupe(t, s, func(in *store.Incident, v string) {
		in.ExternalRef = v
		in.IdempotencyKey = "" // only the external ref matches
	})
	// An external ref also matches when the idempotency key differs.
	c := ctx(t)
	x := sampleIncident()
	x.ExternalRef, x.IdempotencyKey = "SIEM-1", "k-a"
	a, _, err := s.CreateIncident(c, x)
	if err != nil {
		t.Fatal(err)
	}
	x.IdempotencyKey = "k-b"
	b, created, err := s.CreateIncident(c, x)
	if err != nil || created || b.ID != a.ID {
		t.Errorf("same external ref, new key: %+v, created=%v, err=%v; want %s", b, created, err, a.ID)
	}
}

func testIncidentDedupeIdempotencyKey(t *testing.T, s store.Store) {
	testIncidentDedupe(t, s, func(in *store.Incident, v string) {
		in.IdempotencyKey = v
	})
}

func testIncidentEmptyRefs(t *testing.T, s store.Store) {
	c := ctx(t)
	ids := map[string]bool{}
	for range 3 {
		got, created, err := s.CreateIncident(c, sampleIncident())
		if err != nil || !created {
			t.Fatalf("create without refs: created=%v err=%v", created, err)
		}
		ids[got.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("3 creates without refs gave %d incidents", len(ids))
	}
}

func testIncidentConcurrent(t *testing.T, s store.Store) {
	for _, tc := range []struct {
		name string
		set  func(*store.Incident)
	}{
		{"external_ref", func(in *store.Incident) { in.ExternalRef = "SIEM-RACE" }},
		{"idempotency_key", func(in *store.Incident) { in.IdempotencyKey = "race-key" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx(t)
			const n = 16
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				created int
				ids     = map[string]bool{}
				errs    []error
			)
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					in := sampleIncident()
					tc.set(&in)
					<-start
					got, ok, err := s.CreateIncident(c, in)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
						return
					}
					if ok {
						created++
					}
					ids[got.ID] = true
				})
			}
			close(start)
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("%d of %d creates failed, first: %v", len(errs), n, errs[0])
			}
			if created != 1 || len(ids) != 1 {
				t.Errorf("%d concurrent duplicates: created=%d, distinct ids=%d; want 1 and 1", n, created, len(ids))
			}
		})
	}
}

func testIncidentIDConflict(t *testing.T, s store.Store) {
	c := ctx(t)
	in := sampleIncident()
	in.ID = "BR-SAME00"
	if _, _, err := s.CreateIncident(c, in); err != nil {
		t.Fatal(err)
	}
	in.ExternalRef = "different"
	if _, _, err := s.CreateIncident(c, in); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reusing a chosen id: err = %v, want ErrConflict", err)
	}
}

func testIncidentGetUnknown(t *testing.T, s store.Store) {
	if _, err := s.GetIncident(ctx(t), "BR-NOPE00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetIncident(unknown) err = %v, want ErrNotFound", err)
	}
}

func testIncidentStatus(t *testing.T, s store.Store) {
	c := ctx(t)
	in, _, err := s.CreateIncident(c, sampleIncident())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIncidentStatus(c, in.ID, store.StatusClosed); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(c, in.ID)
	if err != nil || got.Status != store.StatusClosed {
		t.Errorf("after close: status %q, err %v", got.Status, err)
	}
	if err := s.SetIncidentStatus(c, in.ID, "archived"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("SetIncidentStatus(bad) err = %v, want ErrInvalid", err)
	}
	if err := s.SetIncidentStatus(c, "BR-NOPE00", store.StatusClosed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetIncidentStatus(unknown) err = %v, want ErrNotFound", err)
	}
}

// testIncidentPhase: a new incident has no phase; the phase written is
// what Get and List return, and a second write replaces it; a bad phase or
// an unknown incident changes nothing.
func testIncidentPhase(t *testing.T, s store.Store) {
	c := ctx(t)
	in, _, err := s.CreateIncident(c, sampleIncident())
	if err != nil {
		t.Fatal(err)
	}
	if in.Phase != "" {
		t.Errorf("new incident has phase %q, want none", in.Phase)
	}
	for _, phase := range []string{"triage", "notify-regulators"} {
		if err := s.SetIncidentPhase(c, in.ID, phase); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", store.MaxPhaseLen+1)} {
		if err := s.SetIncidentPhase(c, in.ID, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SetIncidentPhase(%d bytes) err = %v, want ErrInvalid", len(bad), err)
		}
	}
	if err := s.SetIncidentPhase(c, "BR-NOPE00", "triage"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetIncidentPhase(unknown) err = %v, want ErrNotFound", err)
	}
	got, err := s.GetIncident(c, in.ID)
	if err != nil || got.Phase != "notify-regulators" {
		t.Errorf("GetIncident: phase %q, err %v; want notify-regulators", got.Phase, err)
	}
	rows, err := s.ListIncidents(c, store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		if row.ID == in.ID {
			found = row.Phase == "notify-regulators"
		}
	}
	if !found {
		t.Errorf("ListIncidents does not give %s with phase notify-regulators: %+v", in.ID, rows)
	}
}

// --- audit ---

func newIncident(t *testing.T, s store.Store) string {
	t.Helper()
	in, _, err := s.CreateIncident(ctx(t), sampleIncident())
	if err != nil {
		t.Fatal(err)
	}
	return in.ID
}

func testAuditChain(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	at := time.Date(2026, 11, 23, 9, 30, 0, 987654321, time.FixedZone("X", -5*3600))
	inputs := []store.AuditEvent{
		{IncidentID: id, Key: "launch", At: at, Actor: "alice", Action: "incident.launched", Target: "incident:" + id,
			Details: json.RawMessage(`{ "playbook" : "customer-data-breach",  "version": 3 }`)},
		{IncidentID: id, Key: "contain", Actor: "system", Action: "step.completed", Target: "step:contain"},
		{IncidentID: id, Actor: "bob", Action: "step.completed", Target: "step:scope", Details: json.RawMessage(`{"note":"ünïcode ✓"}`)},
	}
	var appended []store.AuditEvent
	for _, in := range inputs {
		e, err := s.AppendAudit(c, in)
		if err != nil {
			t.Fatalf("AppendAudit(%s): %v", in.Action, err)
		}
		appended = append(appended, e)
	}
	if got := appended[0].At; !got.Equal(at.Truncate(time.Microsecond)) || got.Location() != time.UTC || got.Nanosecond()%1000 != 0 {
		t.Errorf("At = %v, want %v in UTC at microsecond precision", got, at.Truncate(time.Microsecond).UTC())
	}
	if string(appended[0].Details) != `{"playbook":"customer-data-breach","version":3}` {
		t.Errorf("details stored as %s, want compact JSON", appended[0].Details)
	}
	if string(appended[1].Details) != `{}` {
		t.Errorf("nil details stored as %q, want {}", appended[1].Details)
	}
	if appended[2].Key == "" || appended[1].At.IsZero() {
		t.Errorf("defaults not filled: key %q, at %v", appended[2].Key, appended[1].At)
	}
	prev := ""
	for i, e := range appended {
		if e.MACKey != "k1" || len(e.MAC) != 64 {
			t.Errorf("event %d: MAC %q under key %q, want a MAC under k1", i, e.MAC, e.MACKey)
		}
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != store.HashEvent(e) || len(e.Hash) != 64 {
			t.Errorf("event %d: seq %d prev %q hash %q; want seq %d linked to %q", i, e.Seq, e.PrevHash, e.Hash, i+1, prev)
		}
		prev = e.Hash
	}
	listed, err := s.ListAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(listed, appended) {
		t.Errorf("ListAudit differs from what AppendAudit returned:\n got %+v\nwant %+v", listed, appended)
	}
	rep, err := s.VerifyAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (store.ChainReport{OK: true, Events: 3, Authenticated: 3}) {
		t.Errorf("VerifyAudit = %+v", rep)
	}
}

func testAuditIdempotentKey(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	first, err := s.AppendAudit(c, store.AuditEvent{IncidentID: id, Key: "k1", Actor: "alice", Action: "a.first"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.AppendAudit(c, store.AuditEvent{IncidentID: id, Key: "k1", Actor: "bob", Action: "a.second",
		Details: json.RawMessage(`{"x":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("repeat key returned %+v, want stored %+v", again, first)
	}
	list, err := s.ListAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("%d events after repeating a key, want 1", len(list))
	}
}

// testAuditEvents: several events appended at once link in order after
// what the chain held; repeating the call (a retried activity) returns
// the stored events and adds none; a batch with one bad event, or events
// of two incidents, stores nothing.
func testAuditEvents(t *testing.T, s store.Store) {
	c := ctx(t)
	id, other := newIncident(t, s), newIncident(t, s)
	first, err := s.AppendAudit(c, store.AuditEvent{IncidentID: id, Key: "launch", Actor: "alice", Action: "incident.launched"})
	if err != nil {
		t.Fatal(err)
	}
	batch := []store.AuditEvent{
		{IncidentID: id, Key: "a", Actor: "system", Action: "step.ready", Details: json.RawMessage(`{ "step": "contain" }`)},
		{IncidentID: id, Key: "launch", Actor: "bob", Action: "ignored"}, // stored before: returned as it was
		{IncidentID: id, Key: "b", Actor: "system", Action: "clock.started"},
		{IncidentID: id, Key: "a", Actor: "mallory", Action: "again"}, // twice in one batch: the first stands
	}
	got, err := s.AppendAuditEvents(c, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Seq != 2 || got[0].PrevHash != first.Hash || got[2].Seq != 3 || got[2].PrevHash != got[0].Hash {
		t.Fatalf("batch appended %+v, want seq 2 and 3 linked after the launch (hash %s)", got, first.Hash)
	}
	if !reflect.DeepEqual(got[1], first) || !reflect.DeepEqual(got[3], got[0]) || string(got[0].Details) != `{"step":"contain"}` {
		t.Errorf("repeated keys returned %+v and %+v, want the stored %+v and %+v", got[1], got[3], first, got[0])
	}
	again, err := s.AppendAuditEvents(c, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Errorf("retried batch returned %+v, want what was stored %+v", again, got)
	}
	for name, bad := range map[string][]store.AuditEvent{
		"one bad event": {{IncidentID: id, Key: "c", Actor: "system", Action: "ok"}, {IncidentID: id, Key: "d", Action: "no actor"}},
		"two incidents": {{IncidentID: id, Key: "e", Actor: "system", Action: "ok"}, {IncidentID: other, Key: "f", Actor: "system", Action: "ok"}},
	} {
		if _, err := s.AppendAuditEvents(c, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.AppendAuditEvents(c, []store.AuditEvent{{IncidentID: "BR-NOPE00", Actor: "system", Action: "tick"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("append to an unknown incident: err = %v, want ErrNotFound", err)
	}
	list, err := s.ListAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Errorf("%d events stored, want 3 (the launch and the batch's two)", len(list))
	}
	if rep, err := s.VerifyAudit(c, id); err != nil || !rep.OK || rep.Events != 3 {
		t.Errorf("VerifyAudit = %+v, %v", rep, err)
	}
}

func testAuditPerIncident(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newIncident(t, s), newIncident(t, s)
	for i := range 3 {
		for _, id := range []string{a, b} {
			e, err := s.AppendAudit(c, store.AuditEvent{IncidentID: id, Key: "same-key-" + fmt.Sprint(i), Actor: "system", Action: "tick"})
			if err != nil {
				t.Fatal(err)
			}
			if e.Seq != int64(i+1) {
				t.Errorf("incident %s event %d got seq %d", id, i, e.Seq)
			}
		}
	}
	if _, err := s.AppendAudit(c, store.AuditEvent{IncidentID: "BR-NOPE00", Actor: "system", Action: "tick"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("append to unknown incident err = %v, want ErrNotFound", err)
	}
}

func testAuditBadInput(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	for _, tc := range []struct {
		name string
		e    store.AuditEvent
	}{
		{"array details", store.AuditEvent{IncidentID: id, Actor: "a", Action: "x", Details: json.RawMessage(`[1]`)}},
		{"broken details", store.AuditEvent{IncidentID: id, Actor: "a", Action: "x", Details: json.RawMessage(`{"a":`)}},
		{"no actor", store.AuditEvent{IncidentID: id, Action: "x"}},
		{"no action", store.AuditEvent{IncidentID: id, Actor: "a"}},
		{"no incident", store.AuditEvent{Actor: "a", Action: "x"}},
	} {
		if _, err := s.AppendAudit(c, tc.e); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func testAuditConcurrent(t *testing.T, s store.Store) {
	c := ctx(t)
	id := newIncident(t, s)
	const writers, each = 2, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := s.AppendAudit(c, store.AuditEvent{IncidentID: id, Key: fmt.Sprintf("w%d-%d", w, i),
					Actor: "system", Action: "step.completed", Details: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	list, err := s.ListAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != writers*each {
		t.Fatalf("%d events, want %d", len(list), writers*each)
	}
	for i, e := range list {
		if e.Seq != int64(i+1) {
			t.Fatalf("position %d has seq %d: chain has a gap", i, e.Seq)
		}
	}
	rep, err := s.VerifyAudit(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Events != writers*each {
		t.Errorf("VerifyAudit = %+v", rep)
	}
}

// seedChain appends n events and checks that the chain verifies.
func seedChain(t *testing.T, s store.Store, n int) string {
	t.Helper()
	c := ctx(t)
	id := newIncident(t, s)
	for i := range n {
		if _, err := s.AppendAudit(c, store.AuditEvent{IncidentID: id, Actor: "alice", Action: "step.completed",
			Target: fmt.Sprintf("step:%d", i), Details: json.RawMessage(`{"ok":true}`)}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.VerifyAudit(c, id)
	if err != nil || !rep.OK || rep.Events != n {
		t.Fatalf("fresh chain does not verify: %+v, %v", rep, err)
	}
	return id
}

func testAuditTrigger(t *testing.T, s store.Store) {
	c := ctx(t)
	id := seedChain(t, s, 2)
	db := withDB(t, s)
	if _, err := db.ExecContext(c, rebind(s, `UPDATE audit_events SET action = 'forged' WHERE incident_id = ? AND seq = 2`), id); err == nil {
		t.Error("UPDATE on audit_events succeeded; the append-only trigger is missing")
	}
	if _, err := db.ExecContext(c, rebind(s, `DELETE FROM audit_events WHERE incident_id = ?`), id); err == nil {
		t.Error("DELETE on audit_events succeeded; the append-only trigger is missing")
	}
	list, err := s.ListAudit(c, id)
	if err != nil || len(list) != 2 || list[1].Action != "step.completed" {
		t.Errorf("audit rows changed despite the trigger: %+v, %v", list, err)
	}
}

// disableAppendOnly does what a DBA with full rights could do.
func disableAppendOnly(t *testing.T, s store.Store) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}
	if s.Dialect() == store.DialectPostgres {
		stmts = []string{`ALTER TABLE audit_events DISABLE TRIGGER USER`}
	}
	for _, q := range stmts {
		if _, err := withDB(t, s).ExecContext(ctx(t), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func testAuditTamper(t *testing.T, s store.Store) {
	disableAppendOnly(t, s)
	for _, tc := range []struct {
		name     string
		sql      string
		brokenAt int64
	}{
		{"action", `UPDATE audit_events SET action = 'incident.closed' WHERE incident_id = ? AND seq = 2`, 2},
		{"details", `UPDATE audit_events SET details = '{"ok":false}' WHERE incident_id = ? AND seq = 2`, 2},
		{"actor", `UPDATE audit_events SET actor = 'mallory' WHERE incident_id = ? AND seq = 3`, 3},
		{"deleted", `DELETE FROM audit_events WHERE incident_id = ? AND seq = 2`, 3},
		{"deleted first", `DELETE FROM audit_events WHERE incident_id = ? AND seq = 1`, 2},
		{"prev_hash relinked", `UPDATE audit_events SET prev_hash = 'ab' WHERE incident_id = ? AND seq = 3`, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx(t)
			id := seedChain(t, s, 4)
			res, err := withDB(t, s).ExecContext(c, rebind(s, tc.sql), id)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("tamper touched %d rows, want 1", n)
			}
			rep, err := s.VerifyAudit(c, id)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenAt != tc.brokenAt || rep.Reason == "" {
				t.Errorf("VerifyAudit after tampering = %+v, want OK=false BrokenAt=%d with a reason", rep, tc.brokenAt)
			}
		})
	}
}
