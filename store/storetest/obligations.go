package storetest

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/store"
)

// base is the anchor of every due time in the obligation tests.
var base = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// dueIn returns base plus h hours, as the pointer ObligationRow wants.
func dueIn(h int) *time.Time {
	t := base.Add(time.Duration(h) * time.Hour)
	return &t
}

// createIncidentID creates an incident with a chosen ID, so tests control
// how ties order.
func createIncidentID(t *testing.T, s store.Store, id, severity string) {
	t.Helper()
	in := sampleIncident()
	in.ID = id
	in.Severity = severity
	if _, created, err := s.CreateIncident(ctx(t), in); err != nil || !created {
		t.Fatalf("CreateIncident(%s): created=%v err=%v", id, created, err)
	}
}

// ob is a valid pending row with a fixed UpdatedAt, so rows read back can be
// compared whole.
func ob(id string, due *time.Time) store.ObligationRow {
	return store.ObligationRow{
		ObligationID:  id,
		Regime:        "GDPR Art. 33",
		Jurisdiction:  "EU",
		Recipient:     "regulator",
		RecipientName: "Supervisory authority",
		Deadline:      "72 hours",
		DueAt:         due,
		Status:        store.ObligationPending,
		UpdatedAt:     base.Add(-time.Hour),
	}
}

func put(t *testing.T, s store.Store, incidentID string, rows ...store.ObligationRow) {
	t.Helper()
	if err := s.PutObligations(ctx(t), incidentID, rows); err != nil {
		t.Fatalf("PutObligations(%s): %v", incidentID, err)
	}
}

var allStatuses = []string{store.ObligationPending, store.ObligationOverdue, store.ObligationFiled, store.ObligationWaived}

func list(t *testing.T, s store.Store, f store.DeadlineFilter) []store.ObligationRow {
	t.Helper()
	got, err := s.ListDeadlines(ctx(t), f)
	if err != nil {
		t.Fatalf("ListDeadlines(%+v): %v", f, err)
	}
	return got
}

// keys renders rows as "incident/obligation" for readable comparisons.
func keys(rows []store.ObligationRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.IncidentID + "/" + r.ObligationID
	}
	return out
}

func testObligationsRoundTrip(t *testing.T, s store.Store) {
	const id = "BR-AAAAAA"
	createIncidentID(t, s, id, "critical")
	due := time.Date(2026, 11, 26, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))
	full := store.ObligationRow{
		ObligationID:           "us-ca-ag",
		Regime:                 "Cal. Civ. Code 1798.82",
		Jurisdiction:           "US-CA",
		Recipient:              "regulator",
		RecipientName:          "California Attorney General",
		Deadline:               "15 days",
		Standard:               "in the most expedient time possible",
		DueAt:                  &due,
		Status:                 store.ObligationOverdue,
		MissingFacts:           []string{"affected.US-CA", "data_categories"},
		NeedsLegalConfirmation: true,
		UpdatedAt:              time.Date(2026, 11, 24, 1, 2, 3, 456789999, time.FixedZone("X", -5*3600)),
	}
	bare := store.ObligationRow{ObligationID: "hipaa-media", Recipient: "media", Status: store.ObligationPending,
		MissingFacts: []string{}}
	before := time.Now().UTC().Truncate(time.Microsecond)
	put(t, s, id, full, bare)
	after := time.Now().UTC()

	got := list(t, s, store.DeadlineFilter{IncidentID: id})
	if len(got) != 2 {
		t.Fatalf("ListDeadlines = %d rows, want 2: %+v", len(got), got)
	}
	wantDue := time.Date(2026, 11, 26, 8, 0, 0, 123456000, time.UTC)
	want := full
	want.IncidentID = id
	want.DueAt = &wantDue
	want.UpdatedAt = time.Date(2026, 11, 24, 6, 2, 3, 456789000, time.UTC)
	want.Severity = "critical"
	want.IncidentStatus = store.StatusActive
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("row read back\n got %+v\nwant %+v", got[0], want)
	}
	if got[0].DueAt.Location() != time.UTC || got[0].UpdatedAt.Location() != time.UTC {
		t.Errorf("times not in UTC: %v, %v", got[0].DueAt, got[0].UpdatedAt)
	}
	b := got[1]
	if b.UpdatedAt.Before(before) || b.UpdatedAt.After(after) {
		t.Errorf("zero UpdatedAt stored as %v, want the time of the put (%v…%v)", b.UpdatedAt, before, after)
	}
	wantBare := bare
	wantBare.IncidentID = id
	wantBare.MissingFacts = nil // empty reads back as nil
	wantBare.UpdatedAt = b.UpdatedAt
	wantBare.Severity = "critical"
	wantBare.IncidentStatus = store.StatusActive
	if !reflect.DeepEqual(b, wantBare) {
		t.Errorf("bare row read back\n got %+v\nwant %+v", b, wantBare)
	}
}

func testObligationsReplace(t *testing.T, s store.Store) {
	const id, other = "BR-AAAAAA", "BR-BBBBBB"
	createIncidentID(t, s, id, "high")
	createIncidentID(t, s, other, "low")
	put(t, s, other, ob("keep-me", dueIn(1)))
	put(t, s, id, ob("gdpr-art33", dueIn(72)), ob("gdpr-art34", nil), ob("us-ca-ag", dueIn(24)))

	changed := ob("gdpr-art33", dueIn(48))
	changed.Status = store.ObligationFiled
	changed.MissingFacts = []string{"discovered_at"}
	second := []store.ObligationRow{changed, ob("us-tx-ag", dueIn(96))}
	put(t, s, id, second...)
	all := store.DeadlineFilter{IncidentID: id, Statuses: allStatuses}
	got := list(t, s, all)
	if want := []string{id + "/gdpr-art33", id + "/us-tx-ag"}; !slices.Equal(keys(got), want) {
		t.Fatalf("after second put: %v, want %v (rows missing from the new set must go)", keys(got), want)
	}
	if got[0].Status != store.ObligationFiled || !got[0].DueAt.Equal(*dueIn(48)) ||
		!slices.Equal(got[0].MissingFacts, []string{"discovered_at"}) {
		t.Errorf("replaced row not updated: %+v", got[0])
	}

	// Putting the same set again is a no-op.
	put(t, s, id, second...)
	if again := list(t, s, all); !reflect.DeepEqual(again, got) {
		t.Errorf("second identical put changed rows:\n got %+v\nwant %+v", again, got)
	}
	// Another incident's rows are untouched by all of this.
	if o := list(t, s, store.DeadlineFilter{IncidentID: other}); !slices.Equal(keys(o), []string{other + "/keep-me"}) {
		t.Errorf("other incident's rows = %v", keys(o))
	}
	// An empty set clears the incident.
	put(t, s, id)
	if left := list(t, s, all); len(left) != 0 {
		t.Errorf("after empty put: %v, want none", keys(left))
	}
}

func testObligationsUnknownIncident(t *testing.T, s store.Store) {
	c := ctx(t)
	if err := s.PutObligations(c, "BR-NOPE00", []store.ObligationRow{ob("gdpr-art33", nil)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutObligations(unknown incident) err = %v, want ErrNotFound", err)
	}
	if err := s.PutObligations(c, "BR-NOPE00", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutObligations(unknown incident, no rows) err = %v, want ErrNotFound", err)
	}
	if got := list(t, s, store.DeadlineFilter{Statuses: allStatuses}); len(got) != 0 {
		t.Errorf("rows stored for an unknown incident: %v", keys(got))
	}
}

func testObligationsBadInput(t *testing.T, s store.Store) {
	const id = "BR-AAAAAA"
	createIncidentID(t, s, id, "high")
	put(t, s, id, ob("existing", dueIn(1)))
	with := func(f func(*store.ObligationRow)) store.ObligationRow {
		r := ob("x", nil)
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		id   string
		rows []store.ObligationRow
	}{
		{"empty incident id", "", []store.ObligationRow{ob("x", nil)}},
		{"no obligation id", id, []store.ObligationRow{ob("", nil)}},
		{"duplicate obligation id", id, []store.ObligationRow{ob("x", nil), ob("x", dueIn(2))}},
		{"unknown status", id, []store.ObligationRow{with(func(r *store.ObligationRow) { r.Status = "done" })}},
		{"empty status", id, []store.ObligationRow{with(func(r *store.ObligationRow) { r.Status = "" })}},
		{"unknown recipient", id, []store.ObligationRow{with(func(r *store.ObligationRow) { r.Recipient = "press" })}},
		{"row of another incident", id, []store.ObligationRow{with(func(r *store.ObligationRow) { r.IncidentID = "BR-BBBBBB" })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutObligations(ctx(t), tc.id, tc.rows); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	// A refused put must not have deleted what was there.
	if got := list(t, s, store.DeadlineFilter{IncidentID: id}); !slices.Equal(keys(got), []string{id + "/existing"}) {
		t.Errorf("after refused puts: %v, want the original row", keys(got))
	}
	for _, f := range []store.DeadlineFilter{{Statuses: []string{"done"}}, {Limit: -1}} {
		if _, err := s.ListDeadlines(ctx(t), f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListDeadlines(%+v) err = %v, want ErrInvalid", f, err)
		}
	}
}

func testObligationsOrder(t *testing.T, s store.Store) {
	const a, b = "BR-AAAAAA", "BR-BBBBBB"
	createIncidentID(t, s, a, "high")
	createIncidentID(t, s, b, "high")
	// Due times tie across incidents (id breaks it) and within one (the
	// obligation id breaks it); nil due times come last in the same order.
	// The input order is scrambled so that insertion order cannot pass.
	put(t, s, b, ob("z-nil", nil), ob("m-24", dueIn(24)), ob("a-48", dueIn(48)), ob("c-1", dueIn(1)))
	put(t, s, a, ob("y-nil", nil), ob("q-24", dueIn(24)), ob("p-24", dueIn(24)), ob("b-nil", nil), ob("late", dueIn(200)))
	want := []string{
		b + "/c-1",
		a + "/p-24", a + "/q-24", b + "/m-24",
		b + "/a-48",
		a + "/late",
		a + "/b-nil", a + "/y-nil", b + "/z-nil",
	}
	if got := keys(list(t, s, store.DeadlineFilter{})); !slices.Equal(got, want) {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
}

func testObligationsFilters(t *testing.T, s store.Store) {
	const a, b, closed = "BR-AAAAAA", "BR-BBBBBB", "BR-CCCCCC"
	createIncidentID(t, s, a, "high")
	createIncidentID(t, s, b, "low")
	createIncidentID(t, s, closed, "medium")
	row := func(id, jur, status string, due *time.Time) store.ObligationRow {
		r := ob(id, due)
		r.Jurisdiction, r.Status = jur, status
		return r
	}
	put(t, s, a,
		row("eu-pending", "EU", store.ObligationPending, dueIn(72)),
		row("ca-overdue", "US-CA", store.ObligationOverdue, dueIn(-5)),
		row("us-filed", "US", store.ObligationFiled, dueIn(10)),
		row("eu-nodue", "EU", store.ObligationPending, nil),
	)
	put(t, s, b,
		row("tx-pending", "US-TX", store.ObligationPending, dueIn(24)),
		row("us-waived", "US", store.ObligationWaived, dueIn(30)),
		row("us-pending", "US", store.ObligationPending, dueIn(60)),
	)
	put(t, s, closed, row("eu-closed", "EU", store.ObligationPending, dueIn(12)))
	if err := s.SetIncidentStatus(ctx(t), closed, store.StatusClosed); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    store.DeadlineFilter
		want []string
	}{
		{"default: pending and overdue of every incident", store.DeadlineFilter{},
			[]string{a + "/ca-overdue", closed + "/eu-closed", b + "/tx-pending", b + "/us-pending", a + "/eu-pending", a + "/eu-nodue"}},
		{"due before, inclusive, nil excluded", store.DeadlineFilter{DueBefore: dueIn(24)},
			[]string{a + "/ca-overdue", closed + "/eu-closed", b + "/tx-pending"}},
		{"due before, just short", store.DeadlineFilter{DueBefore: func() *time.Time { t := dueIn(24).Add(-time.Microsecond); return &t }()},
			[]string{a + "/ca-overdue", closed + "/eu-closed"}},
		{"statuses filed and waived", store.DeadlineFilter{Statuses: []string{store.ObligationFiled, store.ObligationWaived}},
			[]string{a + "/us-filed", b + "/us-waived"}},
		{"status overdue only", store.DeadlineFilter{Statuses: []string{store.ObligationOverdue}},
			[]string{a + "/ca-overdue"}},
		{"jurisdiction exact, not prefix", store.DeadlineFilter{Jurisdiction: "US"},
			[]string{b + "/us-pending"}},
		{"jurisdiction subdivision", store.DeadlineFilter{Jurisdiction: "US-CA"},
			[]string{a + "/ca-overdue"}},
		{"jurisdiction unknown", store.DeadlineFilter{Jurisdiction: "JP"}, nil},
		{"incident", store.DeadlineFilter{IncidentID: b},
			[]string{b + "/tx-pending", b + "/us-pending"}},
		{"active only drops the closed incident", store.DeadlineFilter{ActiveOnly: true},
			[]string{a + "/ca-overdue", b + "/tx-pending", b + "/us-pending", a + "/eu-pending", a + "/eu-nodue"}},
		{"combined", store.DeadlineFilter{ActiveOnly: true, Jurisdiction: "EU", DueBefore: dueIn(100), Statuses: allStatuses},
			[]string{a + "/eu-pending"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := list(t, s, tc.f)
			if !slices.Equal(keys(got), tc.want) {
				t.Errorf("got  %v\nwant %v", keys(got), tc.want)
			}
		})
	}
	// The join fills each row from its own incident.
	for _, r := range list(t, s, store.DeadlineFilter{}) {
		want := map[string][2]string{a: {"high", store.StatusActive}, b: {"low", store.StatusActive}, closed: {"medium", store.StatusClosed}}[r.IncidentID]
		if r.Severity != want[0] || r.IncidentStatus != want[1] {
			t.Errorf("%s/%s: severity %q status %q, want %q %q", r.IncidentID, r.ObligationID, r.Severity, r.IncidentStatus, want[0], want[1])
		}
	}
}

func testObligationsLimit(t *testing.T, s store.Store) {
	const id = "BR-AAAAAA"
	createIncidentID(t, s, id, "high")
	n := store.DefaultDeadlineLimit + 3
	rows := make([]store.ObligationRow, n)
	for i := range rows {
		// Listed in reverse due order, so a LIMIT applied before ORDER BY
		// would show.
		rows[i] = ob(fmt.Sprintf("ob-%04d", i), dueIn(n-i))
	}
	put(t, s, id, rows...)
	got := list(t, s, store.DeadlineFilter{Limit: 3})
	if want := []string{id + "/ob-0502", id + "/ob-0501", id + "/ob-0500"}; !slices.Equal(keys(got), want) {
		t.Errorf("Limit 3: %v, want %v", keys(got), want)
	}
	if got := list(t, s, store.DeadlineFilter{}); len(got) != store.DefaultDeadlineLimit {
		t.Errorf("Limit 0 returned %d rows, want the default %d", len(got), store.DefaultDeadlineLimit)
	}
	if got := list(t, s, store.DeadlineFilter{Limit: store.MaxDeadlineLimit * 2}); len(got) != n {
		t.Errorf("Limit above the maximum returned %d rows, want all %d", len(got), n)
	}
}

// testObligationsConcurrent replaces one incident's set from many
// goroutines: every put must succeed and the result must be exactly one of
// the sets, never a mixture.
func testObligationsConcurrent(t *testing.T, s store.Store) {
	const id = "BR-AAAAAA"
	createIncidentID(t, s, id, "high")
	const writers = 8
	sets := make([][]store.ObligationRow, writers)
	for w := range sets {
		// Every set shares "shared" (a plain delete-then-insert race would
		// collide on it) and has rows of its own.
		sets[w] = []store.ObligationRow{ob("shared", dueIn(w)), ob(fmt.Sprintf("w%d-a", w), dueIn(100)), ob(fmt.Sprintf("w%d-b", w), nil)}
	}
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for range 5 {
				if err := s.PutObligations(c, id, sets[w]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	got := list(t, s, store.DeadlineFilter{})
	if len(got) != 3 || got[0].ObligationID != "shared" {
		t.Fatalf("final rows %v, want one writer's three", keys(got))
	}
	w := int(got[0].DueAt.Sub(base) / time.Hour)
	if want := []string{id + "/shared", fmt.Sprintf("%s/w%d-a", id, w), fmt.Sprintf("%s/w%d-b", id, w)}; !slices.Equal(keys(got), want) {
		t.Errorf("final rows %v mix writers; want %v", keys(got), want)
	}
}

// --- calendar tokens ---

func testCalendarTokenCreateAuthenticate(t *testing.T, s store.Store) {
	c := ctx(t)
	apiSecret, owner, err := s.CreateToken(c, "legal-cal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.CreateCalendarToken(c, owner.ID)
	if err != nil {
		t.Fatalf("CreateCalendarToken: %v", err)
	}
	if !calendarSecretPattern.MatchString(secret) {
		t.Errorf("secret %q does not look like bfcal_ + 52 lower-case base32 chars", secret)
	}
	got, err := s.AuthenticateCalendarToken(c, secret)
	if err != nil {
		t.Fatalf("AuthenticateCalendarToken: %v", err)
	}
	if !reflect.DeepEqual(got, owner) {
		t.Errorf("AuthenticateCalendarToken = %+v, want the owner %+v", got, owner)
	}
	second, err := s.CreateCalendarToken(c, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if second == secret {
		t.Error("two calendar tokens share a secret")
	}
	if got, err := s.AuthenticateCalendarToken(c, second); err != nil || got.ID != owner.ID {
		t.Errorf("second calendar token: %+v, %v", got, err)
	}
	for _, wrong := range []string{"", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret),
		"bfcal_" + strings.Repeat("a", 52), apiSecret} {
		if _, err := s.AuthenticateCalendarToken(c, wrong); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AuthenticateCalendarToken(%q) err = %v, want ErrNotFound", wrong, err)
		}
	}
	// A calendar secret is not a bearer token.
	if _, err := s.AuthenticateToken(c, secret); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AuthenticateToken(calendar secret) err = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateCalendarToken(c, owner.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateCalendarToken(unknown owner) err = %v, want ErrNotFound", err)
	}
}

var calendarSecretPattern = regexp.MustCompile(`^bfcal_[a-z2-7]{52}$`)

func testCalendarTokenRevokedOwner(t *testing.T, s store.Store) {
	c := ctx(t)
	_, owner, err := s.CreateToken(c, "leaver", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	_, stays, err := s.CreateToken(c, "stayer", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.CreateCalendarToken(c, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.CreateCalendarToken(c, stays.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(c, owner.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateCalendarToken(c, secret); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("calendar token of a revoked owner: err = %v, want ErrNotFound", err)
	}
	if got, err := s.AuthenticateCalendarToken(c, kept); err != nil || got.ID != stays.ID {
		t.Errorf("revoking one owner broke another's calendar token: %+v, %v", got, err)
	}
	if _, err := s.CreateCalendarToken(c, owner.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateCalendarToken(revoked owner) err = %v, want ErrNotFound", err)
	}
}

func testCalendarTokenSecretNotStored(t *testing.T, s store.Store) {
	c := ctx(t)
	_, owner, err := s.CreateToken(c, "cal", breach.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.CreateCalendarToken(c, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, table := range []string{"calendar_tokens", "api_tokens"} {
		forEachCell(t, withDB(t, s), table, func(col, text string) {
			if table == "calendar_tokens" && col == "id" {
				n++
			}
			if strings.Contains(text, secret) || strings.Contains(text, strings.TrimPrefix(secret, store.CalendarTokenPrefix)) {
				t.Errorf("%s.%s holds the calendar secret", table, col)
			}
		})
	}
	if n != 1 {
		t.Fatalf("calendar_tokens has %d rows, want 1", n)
	}
}

// forEachCell calls fn with every cell of table, as text.
func forEachCell(t *testing.T, db *sql.DB, table string, fn func(col, text string)) {
	t.Helper()
	rows, err := db.QueryContext(ctx(t), `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
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
			fn(cols[i], text)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
