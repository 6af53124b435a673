package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

// heldIncident creates a closed incident with two customers.
func heldIncident(t *testing.T, s store.Store, id string) []int64 {
	t.Helper()
	createIncidentID(t, s, id, "high")
	ids := seedSubjects(t, s, id, "US-CA", "US-TX")
	if err := s.SetIncidentStatus(ctx(t), id, store.StatusClosed); err != nil {
		t.Fatal(err)
	}
	return ids
}

// testHoldBlocksPurge: a held incident's customers survive a purge, and
// the refusal writes nothing; lifted, the purge deletes them. Placing,
// lifting and purging are each one audit event of a chain that verifies.
func testHoldBlocksPurge(t *testing.T, s store.Store) {
	c := ctx(t)
	const id = "BR-H0LD01"
	heldIncident(t, s, id)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	h, err := s.PlaceHold(c, store.HoldChange{IncidentID: id, By: "lou-legal", Reason: "litigation hold, case 26-1187", At: at})
	if err != nil || !h.Active() || h.PlacedBy != "lou-legal" || !h.PlacedAt.Equal(at) {
		t.Fatalf("PlaceHold = %+v, %v", h, err)
	}
	if _, err := s.PlaceHold(c, store.HoldChange{IncidentID: id, By: "lou-legal", Reason: "again"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second hold: %v, want ErrConflict", err)
	}
	if n, err := s.PurgeSubjects(c, store.HoldChange{IncidentID: id, By: "ada-admin", Reason: "retention"}); !errors.Is(err, store.ErrHeld) || n != 0 {
		t.Fatalf("purge under hold = %d, %v; want ErrHeld", n, err)
	}
	// Any other path is stopped by the database itself.
	if _, err := withDB(t, s).ExecContext(c, rebind(s, `DELETE FROM subjects WHERE incident_id = ?`), id); err == nil ||
		!strings.Contains(err.Error(), "legal hold") {
		t.Fatalf("a raw DELETE under hold: %v, want the legal-hold trigger", err)
	}
	if _, err := withDB(t, s).ExecContext(c, rebind(s, `DELETE FROM incidents WHERE id = ?`), id); err == nil ||
		!strings.Contains(err.Error(), "legal hold") {
		t.Fatalf("deleting the held incident: %v, want the legal-hold trigger", err)
	}
	if counts, _, err := s.SubjectCounts(c, id); err != nil || counts["US-CA"] != 1 || counts["US-TX"] != 1 {
		t.Fatalf("customers after the refused purges: %v, %v", counts, err)
	}
	events, err := s.ListAudit(c, id)
	if err != nil || len(events) != 1 || events[0].Action != "hold.placed" || events[0].Actor != "lou-legal" ||
		!strings.Contains(string(events[0].Details), "case 26-1187") {
		t.Fatalf("audit after placing and refusals: %+v, %v", events, err)
	}

	if _, err := s.LiftHold(c, store.HoldChange{IncidentID: id, By: "lou-legal", Reason: ""}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("lift without a reason: %v, want ErrInvalid", err)
	}
	lifted, err := s.LiftHold(c, store.HoldChange{IncidentID: id, By: "lou-legal", Reason: "case settled", At: at.Add(time.Hour)})
	if err != nil || lifted.Active() || lifted.LiftReason != "case settled" {
		t.Fatalf("LiftHold = %+v, %v", lifted, err)
	}
	if _, err := s.LiftHold(c, store.HoldChange{IncidentID: id, By: "lou-legal", Reason: "twice"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lifting a lifted hold: %v, want ErrNotFound", err)
	}
	n, err := s.PurgeSubjects(c, store.HoldChange{IncidentID: id, By: "ada-admin", Reason: "retention period over"})
	if err != nil || n != 2 {
		t.Fatalf("purge after the lift = %d, %v; want 2", n, err)
	}
	if counts, _, err := s.SubjectCounts(c, id); err != nil || len(counts) != 0 {
		t.Fatalf("customers after the purge: %v, %v", counts, err)
	}
	holds, err := s.ListHolds(c, id)
	if err != nil || len(holds) != 1 || holds[0].Active() || holds[0].LiftedBy != "lou-legal" {
		t.Fatalf("ListHolds = %+v, %v", holds, err)
	}
	events, err = s.ListAudit(c, id)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if err != nil || strings.Join(actions, ",") != "hold.placed,hold.lifted,subjects.purged" {
		t.Fatalf("audit actions %v, %v", actions, err)
	}
	if rep, err := s.VerifyAudit(c, id); err != nil || !rep.OK {
		t.Fatalf("chain after hold events: %+v, %v", rep, err)
	}
	// A new hold may be placed after a lift.
	if _, err := s.PlaceHold(c, store.HoldChange{IncidentID: id, By: "lou-legal", Reason: "regulator inquiry"}); err != nil {
		t.Fatalf("a hold after a lift: %v", err)
	}
}

// testHoldRefusals: unknown incidents, missing reasons, and purging an
// active incident are refused and write nothing.
func testHoldRefusals(t *testing.T, s store.Store) {
	c := ctx(t)
	if _, err := s.PlaceHold(c, store.HoldChange{IncidentID: "BR-NONE00", By: "lou", Reason: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("hold on an unknown incident: %v, want ErrNotFound", err)
	}
	const id = "BR-ACT1VE"
	createIncidentID(t, s, id, "low")
	seedSubjects(t, s, id, "US-CA")
	if _, err := s.PlaceHold(c, store.HoldChange{IncidentID: id, By: "lou", Reason: "  "}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("hold without a reason: %v, want ErrInvalid", err)
	}
	if _, err := s.PurgeSubjects(c, store.HoldChange{IncidentID: id, By: "ada", Reason: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("purge of an active incident: %v, want ErrConflict", err)
	}
	if events, err := s.ListAudit(c, id); err != nil || len(events) != 0 {
		t.Errorf("refusals wrote audit events: %+v, %v", events, err)
	}
	if holds, err := s.ListHolds(c, id); err != nil || len(holds) != 0 {
		t.Errorf("refusals wrote holds: %+v, %v", holds, err)
	}
}
