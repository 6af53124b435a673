package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/breachflow/breachflow/store"
)

func restrictedIncident(t *testing.T, s store.Store, members ...string) string {
	t.Helper()
	in := sampleIncident()
	in.Restricted, in.Members = true, members
	got, created, err := s.CreateIncident(ctx(t), in)
	if err != nil || !created {
		t.Fatalf("create restricted incident: created=%v err=%v", created, err)
	}
	return got.ID
}

func testMembersAtCreate(t *testing.T, s store.Store) {
	c := ctx(t)
	id := restrictedIncident(t, s, "rita-responder", "slack:U024BE7LH", "ann@example.com")
	got, err := s.GetIncident(c, id)
	if err != nil || !got.Restricted {
		t.Fatalf("GetIncident: restricted=%v err=%v, want restricted", got.Restricted, err)
	}
	members, err := s.IncidentMembers(c, id)
	if want := []string{"ann@example.com", "rita-responder", "slack:U024BE7LH"}; err != nil || !reflect.DeepEqual(members, want) {
		t.Errorf("IncidentMembers = %v, %v; want %v", members, err, want)
	}
	open := newIncident(t, s)
	if got, _ := s.GetIncident(c, open); got.Restricted {
		t.Errorf("an incident created without Restricted reads as restricted")
	}
	if m, err := s.IncidentMembers(c, open); err != nil || len(m) != 0 {
		t.Errorf("unrestricted incident's members = %v, %v; want none", m, err)
	}
	if _, err := s.IncidentMembers(c, "BR-NOPE00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IncidentMembers(unknown) err = %v, want ErrNotFound", err)
	}
}

func testMembersAddRemove(t *testing.T, s store.Store) {
	c := ctx(t)
	id := restrictedIncident(t, s, "rita-responder")
	for i, want := range []bool{true, false} {
		added, err := s.AddIncidentMember(c, id, "lou-legal", "ada-admin")
		if err != nil || added != want {
			t.Fatalf("AddIncidentMember #%d = %v, %v; want %v", i+1, added, err, want)
		}
	}
	if ok, err := s.IsIncidentMember(c, id, "lou-legal"); err != nil || !ok {
		t.Errorf("IsIncidentMember(lou-legal) after add = %v, %v", ok, err)
	}
	for i, want := range []bool{true, false} {
		removed, err := s.RemoveIncidentMember(c, id, "rita-responder")
		if err != nil || removed != want {
			t.Fatalf("RemoveIncidentMember #%d = %v, %v; want %v", i+1, removed, err, want)
		}
	}
	if ok, err := s.IsIncidentMember(c, id, "rita-responder"); err != nil || ok {
		t.Errorf("IsIncidentMember(rita-responder) after removal = %v, %v", ok, err)
	}
	if m, _ := s.IncidentMembers(c, id); !reflect.DeepEqual(m, []string{"lou-legal"}) {
		t.Errorf("members = %v, want [lou-legal]", m)
	}
}

func testMembersHidden(t *testing.T, s store.Store) {
	c := ctx(t)
	open := newIncident(t, s)
	mine := restrictedIncident(t, s, "rita-responder")
	theirs := restrictedIncident(t, s, "lou-legal")
	hidden, err := s.HiddenIncidents(c, "rita-responder")
	if err != nil {
		t.Fatal(err)
	}
	if hidden[open] || hidden[mine] || !hidden[theirs] || len(hidden) != 1 {
		t.Errorf("hidden from rita = %v; want only %s (open %s, hers %s)", hidden, theirs, open, mine)
	}
	hidden, _ = s.HiddenIncidents(c, "vic-viewer")
	if !hidden[mine] || !hidden[theirs] || hidden[open] {
		t.Errorf("hidden from a non-member = %v; want both restricted incidents", hidden)
	}
	for _, id := range []string{open, mine, theirs} {
		put(t, s, id, ob("gdpr-art33", nil))
	}
	deadlinesOf := func(who string) []string {
		t.Helper()
		rows, err := s.ListDeadlines(c, store.DeadlineFilter{VisibleTo: who})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.IncidentID)
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := deadlinesOf("rita-responder"), sorted(open, mine); !slices.Equal(got, want) {
		t.Errorf("deadlines visible to rita = %v, want %v", got, want)
	}
	if got, want := deadlinesOf(""), sorted(open, mine, theirs); !slices.Equal(got, want) {
		t.Errorf("deadlines with no VisibleTo = %v, want all %v", got, want)
	}
	if _, err := s.AddIncidentMember(c, theirs, "rita-responder", "ada-admin"); err != nil {
		t.Fatal(err)
	}
	if hidden, _ = s.HiddenIncidents(c, "rita-responder"); len(hidden) != 0 {
		t.Errorf("hidden from rita after she was added = %v; want none", hidden)
	}
}

func testMembersBadInput(t *testing.T, s store.Store) {
	c := ctx(t)
	open := newIncident(t, s)
	if _, err := s.AddIncidentMember(c, open, "rita-responder", "ada-admin"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddIncidentMember(unrestricted) err = %v, want ErrInvalid", err)
	}
	id := restrictedIncident(t, s)
	for _, bad := range []string{"", "two words", "line\nbreak", string(make([]byte, 201))} {
		if _, err := s.AddIncidentMember(c, id, bad, "ada-admin"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddIncidentMember(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.AddIncidentMember(c, "BR-NOPE00", "rita-responder", "ada-admin"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddIncidentMember(unknown incident) err = %v, want ErrNotFound", err)
	}
	if _, err := s.RemoveIncidentMember(c, "BR-NOPE00", "rita-responder"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveIncidentMember(unknown incident) err = %v, want ErrNotFound", err)
	}
	in := sampleIncident()
	in.Members = []string{"rita-responder"}
	if _, _, err := s.CreateIncident(c, in); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CreateIncident(members, not restricted) err = %v, want ErrInvalid", err)
	}
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// testMembersBackfill: an incident the index holds as unrestricted is
// listed, and restricting it writes the flag and its members once; an
// unknown incident is ErrNotFound and a blank member is refused.
func testMembersBackfill(t *testing.T, s store.Store) {
	c := ctx(t)
	open := newIncident(t, s)
	closedOff := restrictedIncident(t, s, "rita-responder")
	ids, err := s.UnrestrictedIncidents(c)
	if err != nil || !slices.Contains(ids, open) || slices.Contains(ids, closedOff) {
		t.Fatalf("UnrestrictedIncidents = %v, %v; want %s and not %s", ids, err, open, closedOff)
	}
	if _, err := s.RestrictIncident(c, open, []string{"lena-legal", " "}, "backfill"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("blank member: %v, want ErrInvalid", err)
	}
	if got, _ := s.GetIncident(c, open); got.Restricted {
		t.Fatal("a refused backfill restricted the incident")
	}
	changed, err := s.RestrictIncident(c, open, []string{"alice", "lena-legal"}, "backfill")
	if err != nil || !changed {
		t.Fatalf("RestrictIncident = %v, %v; want changed", changed, err)
	}
	if got, _ := s.GetIncident(c, open); !got.Restricted {
		t.Error("the backfilled incident reads as unrestricted")
	}
	if m, _ := s.IncidentMembers(c, open); !reflect.DeepEqual(m, []string{"alice", "lena-legal"}) {
		t.Errorf("members = %v", m)
	}
	if changed, err := s.RestrictIncident(c, open, []string{"mallory"}, "backfill"); err != nil || changed {
		t.Errorf("second backfill = %v, %v; want unchanged", changed, err)
	}
	if ok, _ := s.IsIncidentMember(c, open, "mallory"); ok {
		t.Error("a second backfill added a member")
	}
	if _, err := s.RestrictIncident(c, "BR-ZZZZZZ", []string{"x"}, "backfill"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v, want ErrNotFound", err)
	}
}
