package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

// testListIncidents: the incident list from the store's index pages
// newest first with full pages for a non-member (the restricted incidents
// are left out by the query, not after it), filters by status, severity
// and playbook, keeps the title, and gives each incident the soonest due
// time of its open obligations.
func testListIncidents(t *testing.T, s store.Store) {
	c := ctx(t)
	base := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var ids []string // oldest first
	for i := range 12 {
		in := store.Incident{PlaybookID: "customer-data-breach", PlaybookVersion: 1, Severity: []string{"high", "low"}[i%2],
			CreatedBy: "ada", CreatedAt: base.Add(time.Duration(i) * time.Minute), Title: fmt.Sprintf("Incident %d", i)}
		if i%3 == 0 {
			in.Restricted, in.Members = true, []string{"bob"}
		}
		if i == 11 {
			in.PlaybookID = "ransomware-extortion"
		}
		got, _, err := s.CreateIncident(c, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	if err := s.SetIncidentStatus(c, ids[10], store.StatusClosed); err != nil {
		t.Fatal(err)
	}
	soon, later := base.Add(72*time.Hour), base.Add(30*24*time.Hour)
	if err := s.PutObligations(c, ids[1], []store.ObligationRow{
		{ObligationID: "a", Regime: "GDPR Art. 33", Jurisdiction: "EU", Recipient: "regulator", RecipientName: "DPA", Deadline: "72 hours", DueAt: &later, Status: store.ObligationPending},
		{ObligationID: "b", Regime: "GDPR Art. 33", Jurisdiction: "DE", Recipient: "regulator", RecipientName: "DPA", Deadline: "72 hours", DueAt: &soon, Status: store.ObligationOverdue},
		{ObligationID: "c", Regime: "GDPR Art. 34", Jurisdiction: "EU", Recipient: "subjects", RecipientName: "people", Deadline: "72 hours", DueAt: &base, Status: store.ObligationFiled},
	}); err != nil {
		t.Fatal(err)
	}

	// carol is no member of any restricted incident: 8 of 12 are hers,
	// in pages of 3, 3 and 2.
	var seen []string
	var after *store.IncidentCursor
	for page := 0; ; page++ {
		rows, err := s.ListIncidents(c, store.IncidentFilter{VisibleTo: "carol", Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if page < 2 && len(rows) != 3 {
			t.Fatalf("page %d holds %d rows, want a full page of 3", page, len(rows))
		}
		for _, r := range rows {
			if r.Restricted {
				t.Errorf("carol sees restricted incident %s", r.ID)
			}
			seen = append(seen, r.ID)
		}
		if len(rows) < 3 {
			break
		}
		last := rows[len(rows)-1]
		after = &store.IncidentCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	var want []string
	for i := 11; i >= 0; i-- {
		if i%3 != 0 {
			want = append(want, ids[i])
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("carol's pages list %v, want newest first %v", seen, want)
	}
	all, err := s.ListIncidents(c, store.IncidentFilter{VisibleTo: "bob"})
	if err != nil || len(all) != 12 {
		t.Fatalf("bob (a member of every restricted one) sees %d, %v; want 12", len(all), err)
	}
	admin, err := s.ListIncidents(c, store.IncidentFilter{})
	if err != nil || len(admin) != 12 {
		t.Fatalf("no principal filter lists %d, %v; want 12", len(admin), err)
	}
	for _, r := range admin {
		switch {
		case r.ID == ids[1]:
			if r.NextDeadline == nil || !r.NextDeadline.Equal(soon) {
				t.Errorf("next deadline of %s = %v, want the overdue one's %s (filed ones do not count)", r.ID, r.NextDeadline, soon)
			}
			if r.Title != "Incident 1" {
				t.Errorf("title %q, want %q", r.Title, "Incident 1")
			}
		case r.NextDeadline != nil:
			t.Errorf("%s has next deadline %v without obligations", r.ID, r.NextDeadline)
		}
	}
	for _, tc := range []struct {
		f    store.IncidentFilter
		want int
	}{
		{store.IncidentFilter{Status: store.StatusClosed}, 1},
		{store.IncidentFilter{Status: store.StatusActive}, 11},
		{store.IncidentFilter{Severity: "low"}, 6},
		{store.IncidentFilter{PlaybookID: "ransomware-extortion"}, 1},
		{store.IncidentFilter{Status: store.StatusActive, Severity: "low", VisibleTo: "carol"}, 4}, // 1, 5, 7, 11 (3 and 9 are restricted)
	} {
		rows, err := s.ListIncidents(c, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != tc.want {
			t.Errorf("%+v lists %d incidents, want %d", tc.f, len(rows), tc.want)
		}
	}
	if _, err := s.ListIncidents(c, store.IncidentFilter{Status: "open"}); err == nil {
		t.Error("an unknown status was accepted")
	}
}
