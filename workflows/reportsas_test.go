package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
)

// TestStatusReportsAs: the status says what each step reports as, read from
// the pinned spec: the role a step declares, whatever its id, and for a spec
// pinned before reports_as existed the role its id had then.
func TestStatusReportsAs(t *testing.T) {
	tests := []struct {
		name   string
		legacy bool // strip reports_as, as in a spec pinned before it existed; else rename contain-source
		want   map[string]string
	}{
		{"declared", false, map[string]string{"stop-the-leak": playbooks.ReportsContainment,
			"assess-risk": playbooks.ReportsAssessment, "draft-notice": ""}},
		{"pinned before reports_as", true, map[string]string{"contain-source": playbooks.ReportsContainment,
			"assess-risk": playbooks.ReportsAssessment, "triage": playbooks.ReportsCause, "draft-notice": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, activities.Webhooks{})
			in := h.input("customer-data-breach", breach.Facts{AwareAt: h.start, Jurisdictions: []string{"DE"}, Risk: "unassessed"})
			pb := *in.Playbook
			pb.Steps = slices.Clone(pb.Steps)
			for i := range pb.Steps {
				s := &pb.Steps[i]
				if tt.legacy {
					s.ReportsAs = ""
					continue
				}
				if s.ID == "contain-source" {
					s.ID = "stop-the-leak"
				}
				s.After = slices.Clone(s.After)
				for j, dep := range s.After {
					if dep == "contain-source" {
						s.After[j] = "stop-the-leak"
					}
				}
			}
			in.Playbook = &pb
			h.check(time.Minute, func(st *breach.Status) {
				for id, want := range tt.want {
					if got := stepState(st, id); got.ID != id || got.ReportsAs != want {
						t.Errorf("step %s reports as %q, want %q", id, got.ReportsAs, want)
					}
				}
			})
			h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 2*time.Minute)
			h.env.ExecuteWorkflow(Incident, in)
		})
	}
}
