package workflows

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"go.temporal.io/sdk/testsuite"
)

var admin = breach.Actor{Name: "ada", Role: breach.RoleAdmin}

// TestEveryShippedPlaybookEndToEnd works each shipped playbook to close in
// simulated time: every hour a diligent admin completes or approves what
// is ready, files the regulator duties and waives the rest.
func TestEveryShippedPlaybookEndToEnd(t *testing.T) {
	for _, pb := range []string{"customer-data-breach", "insider-exfiltration", "ransomware-extortion"} {
		t.Run(pb, func(t *testing.T) {
			h := newHarness(t, activities.Webhooks{})
			paid := h.start.Add(-time.Hour)
			in := h.input(pb, breach.Facts{AwareAt: h.start.Add(-2 * time.Hour), Jurisdictions: []string{"DE", "US-NY"},
				Affected: map[string]int{"DE": 10, "US-NY": 5}, Risk: "high", Flags: []string{"nydfs_regulated", "extortion_payment"},
				ExtortionPaidAt: &paid, DataCategories: []string{"contact"}})
			n := 0
			var tick func()
			tick = func() {
				v, err := h.env.QueryWorkflow(QueryStatus)
				if err != nil {
					return
				}
				var st breach.Status
				_ = v.Get(&st)
				if st.Status == breach.StatusClosed {
					return
				}
				send := func(name string, arg any) {
					n++
					h.env.UpdateWorkflow(name, "tick-"+strconv.Itoa(n), &testsuite.TestUpdateCallback{
						OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {},
					}, arg)
				}
				acted := false
				for _, s := range st.Steps {
					if s.State != breach.StepReady {
						continue
					}
					acted = true
					if s.Kind == "approval" {
						// Two-person control: whoever has not approved yet approves.
						by := admin
						if s.Needs != nil && slices.Contains(s.Needs.Excluded, admin.Name) {
							by = breach.Actor{Name: "lin", Role: breach.RoleLegal}
						}
						send(UpdateDecide, breach.Decide{Actor: by, Step: s.ID, Decision: "approve"})
					} else {
						send(UpdateCompleteStep, breach.CompleteStep{Actor: admin, Step: s.ID, Note: "done"})
					}
				}
				for _, o := range st.Obligations {
					if o.Status == breach.ObligationFiled || o.Status == breach.ObligationWaived || o.Exempt {
						continue
					}
					acted = true
					if o.Recipient == "regulator" {
						send(UpdateFileObligation, breach.FileObligation{Actor: admin, Obligation: o.ID, FiledAt: h.env.Now(), DelayReason: "test"})
					} else {
						send(UpdateWaiveObligation, breach.WaiveObligation{Actor: admin, Obligation: o.ID, Reason: "test"})
					}
				}
				if !acted {
					send(UpdateClose, breach.CloseIncident{Actor: admin, Note: "done"})
				}
				h.env.RegisterDelayedCallback(tick, time.Hour)
			}
			h.env.RegisterDelayedCallback(tick, time.Minute)
			h.env.ExecuteWorkflow(Incident, in)
			if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
				t.Fatalf("%s did not close: %v", pb, h.env.GetWorkflowError())
			}
			var res IncidentResult
			if err := h.env.GetWorkflowResult(&res); err != nil || res.ID != in.ID {
				t.Fatalf("result = %+v, %v", res, err)
			}
			report, err := h.store.VerifyAudit(context.Background(), in.ID)
			if err != nil || !report.OK {
				t.Fatalf("audit = %+v, %v", report, err)
			}
			if len(in.Playbook.Steps) < 8 {
				t.Fatalf("%s has %d steps; a credible plan has more", pb, len(in.Playbook.Steps))
			}
		})
	}
}

func TestRestrictedIncidentRefusesOutsiders(t *testing.T) {
	h := newHarness(t, activities.Webhooks{})
	in := h.input("insider-exfiltration", breach.Facts{AwareAt: h.start, Risk: "unassessed"})
	in.Restricted, in.Members = true, []string{"rita"}
	outsider := breach.Actor{Name: "otto", Role: breach.RoleResponder}
	h.act(time.Minute, UpdateCompleteStep, breach.CompleteStep{Actor: outsider, Step: "triage"}, "restricted to its members")
	h.act(2*time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: outsider, Title: "x"}, "restricted to its members")
	h.act(3*time.Minute, UpdateCompleteStep, breach.CompleteStep{Actor: responder, Step: "triage"}, "")
	h.act(4*time.Minute, UpdateAddRemediation, breach.AddRemediation{Actor: admin, Title: "admins may act"}, "")
	h.check(5*time.Minute, func(st *breach.Status) {
		if stepState(st, "triage").DoneBy != "rita" || len(st.Remediations) != 1 {
			t.Errorf("triage done by %q, %d remediations", stepState(st, "triage").DoneBy, len(st.Remediations))
		}
	})
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 6*time.Minute)
	h.env.ExecuteWorkflow(Incident, in)
}
