package store_test

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

// TestSQLitePagesReadThroughIndexes checks SQLite's plans for a page of
// the deadline board and of the incident list: the board walks
// obligations_due in its order and stops at the page (no sort of every
// open obligation), and the list finds each row's next deadline by its
// incident (not by reading every open obligation per row). SQLite plans a
// fresh database without statistics, as it does in dev, so these plans
// are what a store of any size gets.
func TestSQLitePagesReadThroughIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 20 {
		in, _, err := s.CreateIncident(ctx, store.Incident{PlaybookID: "p", PlaybookVersion: 1, Severity: "high", CreatedBy: "t",
			Title: fmt.Sprint("incident ", i)})
		if err != nil {
			t.Fatal(err)
		}
		due := now.Add(time.Duration(i) * time.Hour)
		if err := s.PutObligations(ctx, in.ID, []store.ObligationRow{
			{ObligationID: "a", Regime: "r", Jurisdiction: "GB", Recipient: "regulator", RecipientName: "ICO", Deadline: "72 hours", DueAt: &due, Status: store.ObligationPending},
			{ObligationID: "b", Regime: "r", Jurisdiction: "US-CA", Recipient: "subjects", RecipientName: "residents", Deadline: "expedient", Status: store.ObligationPending},
		}); err != nil {
			t.Fatal(err)
		}
	}
	plan := func(query string, args []any) string {
		rows, err := s.DB().QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "\n")
	}
	for _, f := range []store.DeadlineFilter{
		{ActiveOnly: true},
		{ActiveOnly: true, VisibleTo: "someone"},
		{Statuses: []string{store.ObligationPending}},
	} {
		q, args, err := s.DeadlineQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		p := plan(q, args)
		if !strings.Contains(p, "obligations_due") || strings.Contains(p, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("deadlines %+v: the page is not read in index order:\n%s", f, p)
		}
	}
	for _, f := range []store.IncidentFilter{{}, {VisibleTo: "someone"}, {Status: store.StatusActive}} {
		q, args, err := s.IncidentListQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		if p := plan(q, args); !strings.Contains(p, "obligations_incident_open (incident_id=?") {
			t.Errorf("incidents %+v: next deadlines not looked up by incident:\n%s", f, p)
		}
	}
}
