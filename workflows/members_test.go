package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
)

// TestMembersDecideWhoActs: a restricted incident takes actions only from
// its members and admins; an admin adds and removes members through the
// set_member Update, each change is in the audit trail, and the change
// takes effect for the very next action.
func TestMembersDecideWhoActs(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("insider-exfiltration", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"DE"}, Risk: "unassessed"})
	in.Restricted, in.Members = true, []string{"rita"}
	restrictInStore(t, h, in)
	admin := breach.Actor{Name: "ada", Role: breach.RoleAdmin}
	lena := breach.Actor{Name: "lena", Role: breach.RoleResponder}
	add := func(p string) breach.SetMember { return breach.SetMember{Actor: admin, Principal: p, Member: true} }
	h.act(time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: lena, Title: "Offboarding"}, "restricted to its members")
	h.act(2*time.Minute, UpdateSetMember, breach.SetMember{Actor: responder, Principal: "lena", Member: true}, "needs the admin role")
	h.act(3*time.Minute, UpdateSetMember, breach.SetMember{Actor: admin, Principal: "two words", Member: true}, "without spaces")
	h.act(4*time.Minute, UpdateSetMember, add("lena"), "")
	h.act(5*time.Minute, UpdateSetMember, add("lena"), "") // no change, no audit entry
	h.act(6*time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: lena, Title: "Offboarding"}, "")
	h.act(7*time.Minute, UpdateSetMember, breach.SetMember{Actor: admin, Principal: "rita"}, "")
	h.act(8*time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: responder, Title: "Review DLP rules"}, "restricted to its members")
	h.act(9*time.Minute, UpdateOutreachDone, breach.OutreachDone{Actor: legal, Task: 3}, "needs the responder role")
	h.check(10*time.Minute, func(st *breach.Status) {
		if !slices.Equal(st.Members, []string{"lena"}) {
			t.Errorf("members = %v, want [lena]", st.Members)
		}
		if timelineHas(st, "member.added", "member:lena") != 1 || timelineHas(st, "member.removed", "member:rita") != 1 {
			t.Errorf("timeline lacks exactly one member.added lena and one member.removed rita: %+v", st.Timeline)
		}
		if len(st.Remediations) != 1 {
			t.Errorf("remediations = %+v; want only lena's", st.Remediations)
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 11*time.Minute)
	h.env.ExecuteWorkflow(Incident, in)
	events, err := h.store.ListAudit(context.Background(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The store's index, which the API's authorization reads, followed.
	if m, err := h.store.IncidentMembers(context.Background(), in.ID); err != nil || !slices.Equal(m, []string{"lena"}) {
		t.Errorf("store members = %v, %v; want [lena]", m, err)
	}
	var got []string
	for _, e := range events {
		if e.Action == "member.added" || e.Action == "member.removed" {
			got = append(got, e.Actor+" "+e.Action+" "+e.Target)
		}
	}
	if want := []string{"ada member.added member:lena", "ada member.removed member:rita"}; !slices.Equal(got, want) {
		t.Errorf("audit chain member events = %v, want %v", got, want)
	}
}

// TestOutreachDoneIsAudited: a personal call recorded through the API
// lands in the audit chain under the caller's name, without its note.
func TestOutreachDoneIsAudited(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("insider-exfiltration", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"DE"}, Risk: "unassessed"})
	h.act(time.Minute, UpdateOutreachDone, breach.OutreachDone{Actor: responder, Task: 7}, "")
	h.act(2*time.Minute, UpdateOutreachDone, breach.OutreachDone{Actor: responder, Task: 0}, "no outreach task 0")
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 3*time.Minute)
	h.env.ExecuteWorkflow(Incident, in)
	events, err := h.store.ListAudit(context.Background(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == "outreach.done" && e.Target == "outreach:7" && e.Actor == "rita" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("outreach.done for task 7 by rita in the audit chain %d times, want 1", n)
	}
}

// TestRestrictedRemindersNameTheMembers: a restricted incident's clock
// mail carries its members as they are when it is sent, so the mailer
// and Slack tell only them; an unrestricted one carries none.
func TestRestrictedRemindersNameTheMembers(t *testing.T) {
	for _, restricted := range []bool{true, false} {
		h := newHarness(t, activities.Webhooks{})
		in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"FR"}, Risk: "unassessed"})
		if restricted {
			in.Restricted, in.Members = true, []string{"rita"}
			restrictInStore(t, h, in)
			h.act(time.Hour, UpdateSetMember, breach.SetMember{Actor: breach.Actor{Name: "ada", Role: breach.RoleAdmin}, Principal: "lena@example.org", Member: true}, "")
		}
		h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 25*time.Hour)
		h.env.ExecuteWorkflow(Incident, in)
		if len(h.mails) == 0 {
			t.Fatalf("restricted=%v: no reminder by 25 h", restricted)
		}
		for _, m := range h.mails {
			want := []string(nil)
			if restricted {
				want = []string{"rita", "lena@example.org"}
			}
			if m.Restricted != restricted || !slices.Equal(m.Members, want) {
				t.Errorf("restricted=%v: mail %s carries restricted=%v members=%v, want %v", restricted, m.Key, m.Restricted, m.Members, want)
			}
		}
	}
}

// restrictInStore marks the harness's incident restricted in the store,
// with in's members, as a restricted launch records it.
func restrictInStore(t *testing.T, h *harness, in *IncidentInput) {
	t.Helper()
	if _, err := h.store.DB().Exec("UPDATE incidents SET restricted = 1 WHERE id = ?", in.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range in.Members {
		if _, err := h.store.AddIncidentMember(context.Background(), in.ID, m, "test"); err != nil {
			t.Fatal(err)
		}
	}
}
