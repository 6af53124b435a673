package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
)

const quorumPlaybook = `id: quorum-test
version: 1
title: Quorum test
description: Draft, release with two legal approvals, send.
steps:
  - id: draft
    title: Draft
    kind: task
    owner: responder
  - id: release
    title: Release the notice
    kind: approval
    owner: legal
    after: [draft]
    on_reject: [draft]
    quorum: 2
    approvers: [legal]
    exclude_launcher: true
  - id: send
    title: Send
    kind: task
    owner: responder
    after: [release]
`

// TestQuorumApproval: a quorum-2 approval waits after one approval, refuses
// the same person twice and the launcher, loses its approvals on a
// rejection, and is done on the second distinct legal approval.
func TestQuorumApproval(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start})
	h.pinPlaybook(in, "quorum.yaml", quorumPlaybook)
	launcher := breach.Actor{Name: "lars", Role: breach.RoleLegal}
	in.LaunchedBy = launcher.Name
	lou := breach.Actor{Name: "lou", Role: breach.RoleLegal}
	approve := func(a breach.Actor) breach.Decide {
		return breach.Decide{Actor: a, Step: "release", Decision: "approve"}
	}
	m := time.Minute
	checked := 0
	h.act(1*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "draft"}, "")
	h.act(2*m, UpdateDecide, approve(responder), "step release belongs to legal; rita has responder")
	h.act(2*m, UpdateDecide, approve(launcher), "step release needs 2 approvers other than lars, who launched the incident")
	h.act(2*m, UpdateDecide, breach.Decide{Actor: launcher, Step: "release", Decision: "reject", Reason: "no"}, "other than lars")
	h.act(3*m, UpdateDecide, approve(legal), "")
	h.check(4*m, func(st *breach.Status) {
		checked++
		s := stepState(st, "release")
		if s.State != breach.StepReady || len(s.Approvals) != 1 || s.Approvals[0].By != "lena" || s.Approvals[0].Role != breach.RoleLegal ||
			!s.Approvals[0].At.Equal(h.start.Add(3*m)) {
			t.Errorf("after one approval: state %s, approvals %+v; want ready with lena's", s.State, s.Approvals)
		}
		if n := s.Needs; n == nil || n.Quorum != 2 || n.Count != 1 || !slices.Equal(n.Roles, []string{"legal"}) ||
			!slices.Contains(n.Excluded, "lena") || !slices.Contains(n.Excluded, "lars") {
			t.Errorf("needs = %+v; want 1 more legal, not lena or lars", n)
		}
		if timelineHas(st, "step.approval_recorded", "step:release") != 1 || stepState(st, "send").State != breach.StepPending {
			t.Errorf("timeline %v, send %s; want one approval recorded and send still waiting", st.Timeline, stepState(st, "send").State)
		}
	})
	h.act(5*m, UpdateDecide, approve(legal), "step release is already approved by lena; needs a second approver (1 of 2 approvals)")
	// A rejection by an allowed approver sends the draft back and clears
	// the approvals given to it.
	h.act(6*m, UpdateDecide, breach.Decide{Actor: lou, Step: "release", Decision: "reject", Reason: "wrong date"}, "")
	h.check(7*m, func(st *breach.Status) {
		checked++
		s := stepState(st, "release")
		if s.State != breach.StepPending || len(s.Approvals) != 0 || stepState(st, "draft").State != breach.StepReady {
			t.Errorf("after the rejection: release %s with %+v, draft %s", s.State, s.Approvals, stepState(st, "draft").State)
		}
		if s.Needs == nil || s.Needs.Count != 2 {
			t.Errorf("needs after the rejection = %+v, want 2", s.Needs)
		}
	})
	h.act(8*m, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "draft", Note: "date fixed"}, "")
	h.act(9*m, UpdateDecide, approve(legal), "")
	h.check(10*m, func(st *breach.Status) {
		checked++
		if s := stepState(st, "release"); s.State != breach.StepReady || len(s.Approvals) != 1 {
			t.Errorf("one approval of the new draft: %s %+v; want waiting", s.State, s.Approvals)
		}
	})
	h.act(11*m, UpdateDecide, approve(lou), "")
	h.check(12*m, func(st *breach.Status) {
		checked++
		s := stepState(st, "release")
		if s.State != breach.StepDone || s.DoneBy != "lou" || len(s.Approvals) != 2 || s.Approvals[1].By != "lou" || s.Needs != nil {
			t.Errorf("after two distinct approvals: %+v; want done by lena and lou", s)
		}
		if stepState(st, "send").State != breach.StepReady || timelineHas(st, "step.approved", "step:release") != 1 {
			t.Errorf("send %s, timeline %v; want send ready after one step.approved", stepState(st, "send").State, st.Timeline)
		}
	})
	h.act(13*m, UpdateDecide, approve(launcher), "already done")
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, time.Hour)
	h.env.ExecuteWorkflow(Incident, in)
	if checked != 4 {
		t.Fatalf("%d of 4 checks ran", checked)
	}
}
