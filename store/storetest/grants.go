package storetest

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

// testGrantLifecycle: a request is stored with its audit event; its
// requester cannot approve it; a second person's approval starts the time
// box, which only the requester's reads inside it pass; a second approval
// is refused; every step is in the incident's verifying audit chain.
func testGrantLifecycle(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	asked := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	g, err := s.RequestGrant(ctx(t), store.AccessGrant{IncidentID: id, Scope: store.GrantScopeContacts, RequestedBy: "rita",
		RequesterRole: "responder", Reason: "  call the key accounts  ", Duration: 2 * time.Hour, RequestedAt: asked})
	if err != nil {
		t.Fatal(err)
	}
	if g.ID == 0 || g.Status != store.GrantRequested || g.Reason != "call the key accounts" || g.Duration != 2*time.Hour ||
		!g.RequestedAt.Equal(asked) || g.ApprovedAt != nil || g.ExpiresAt != nil || g.Active("rita", asked) {
		t.Fatalf("requested grant %+v", g)
	}
	if _, err := s.ApproveGrant(ctx(t), id, g.ID, "rita", "responder", asked.Add(time.Minute)); !errors.Is(err, store.ErrSelfApproval) {
		t.Fatalf("self-approval: %v, want ErrSelfApproval", err)
	}
	other := newIncident(t, s)
	if _, err := s.ApproveGrant(ctx(t), other, g.ID, "lena", "legal", asked); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("approving through another incident: %v, want ErrNotFound", err)
	}
	at := asked.Add(10 * time.Minute)
	a, err := s.ApproveGrant(ctx(t), id, g.ID, "lena", "legal", at)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != store.GrantApproved || a.ApprovedBy != "lena" || a.ApproverRole != "legal" || !a.ApprovedAt.Equal(at) ||
		!a.ExpiresAt.Equal(at.Add(2*time.Hour)) {
		t.Fatalf("approved grant %+v", a)
	}
	for _, c := range []struct {
		who  string
		at   time.Time
		want bool
	}{
		{"rita", at, true}, {"rita", at.Add(2*time.Hour - time.Second), true},
		{"rita", at.Add(2 * time.Hour), false}, {"rita", at.Add(-time.Second), false}, {"lena", at.Add(time.Minute), false},
	} {
		if got := a.Active(c.who, c.at); got != c.want {
			t.Errorf("Active(%s, %s) = %v, want %v", c.who, c.at, got, c.want)
		}
	}
	if !a.Expired(at.Add(2*time.Hour)) || a.Expired(at) {
		t.Error("Expired does not follow the time box")
	}
	if _, err := s.ApproveGrant(ctx(t), id, g.ID, "lou", "legal", at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second approval: %v, want ErrConflict", err)
	}
	list, err := s.ListGrants(ctx(t), id)
	if err != nil || len(list) != 1 || list[0].ID != g.ID || !list[0].ExpiresAt.Equal(*a.ExpiresAt) {
		t.Fatalf("ListGrants = %+v, %v", list, err)
	}
	if none, err := s.ListGrants(ctx(t), other); err != nil || len(none) != 0 {
		t.Fatalf("ListGrants of another incident = %+v, %v", none, err)
	}
	events, err := s.ListAudit(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+"/"+e.Actor+"/"+e.Target)
		var d map[string]any
		if json.Unmarshal(e.Details, &d) != nil || d["reason"] != "call the key accounts" {
			t.Errorf("event %s details %s lack the reason", e.Action, e.Details)
		}
	}
	want := "grant.requested/rita/grant:" + strconv.FormatInt(g.ID, 10) + " grant.approved/lena/grant:" + strconv.FormatInt(g.ID, 10)
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit = %v, want %s (refused approvals write nothing)", actions, want)
	}
	if r, err := s.VerifyAudit(ctx(t), id); err != nil || !r.OK {
		t.Fatalf("chain = %+v, %v", r, err)
	}
}

// testGrantBadInput: a request without reason, with a time box over the
// cap, of an unknown scope or on an unknown incident writes nothing.
func testGrantBadInput(t *testing.T, s store.Store) {
	id := newIncident(t, s)
	ok := store.AccessGrant{IncidentID: id, Scope: store.GrantScopeContacts, RequestedBy: "rita", Reason: "r", Duration: time.Hour}
	for _, c := range []struct {
		name   string
		mutate func(*store.AccessGrant)
		want   error
	}{
		{"no reason", func(g *store.AccessGrant) { g.Reason = " " }, store.ErrInvalid},
		{"over the cap", func(g *store.AccessGrant) { g.Duration = store.MaxGrantDuration + time.Minute }, store.ErrInvalid},
		{"no duration", func(g *store.AccessGrant) { g.Duration = 0 }, store.ErrInvalid},
		{"scope", func(g *store.AccessGrant) { g.Scope = "everything" }, store.ErrInvalid},
		{"no requester", func(g *store.AccessGrant) { g.RequestedBy = "" }, store.ErrInvalid},
		{"long reason", func(g *store.AccessGrant) { g.Reason = strings.Repeat("x", store.MaxGrantReason+1) }, store.ErrInvalid},
		{"unknown incident", func(g *store.AccessGrant) { g.IncidentID = "BR-NOPE00" }, store.ErrNotFound},
	} {
		g := ok
		c.mutate(&g)
		if _, err := s.RequestGrant(ctx(t), g); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if list, _ := s.ListGrants(ctx(t), id); len(list) != 0 {
		t.Errorf("refused requests stored %+v", list)
	}
	if events, _ := s.ListAudit(ctx(t), id); len(events) != 0 {
		t.Errorf("refused requests audited %d events", len(events))
	}
	if _, err := s.ApproveGrant(ctx(t), id, 999, "lena", "legal", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("approving an unknown grant: %v", err)
	}
}
