package templates

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
)

// TestStateFormReports: where a state's regulator prescribes a form, the draft
// report to it asks what the form asks and no fact answers. The questions are
// written here from each form, not read from the rules.
func TestStateFormReports(t *testing.T) {
	det := at(t, "2026-03-02T10:00:00-05:00")
	for _, tc := range []struct {
		state, obligation string
		ask               []string
	}{
		{"US-MA", "us-ma-ag", []string{"written information security program", "electronic or paper", "credit monitoring"}},
		{"US-NY", "us-ny-ag", []string{"Manner of notice", "identity-theft protection services", "total number affected"}},
		{"US-MD", "us-md-ag", []string{"Number of Maryland residents affected"}},
		{"US-NJ", "us-nj-ag", []string{"Number of New Jersey residents affected"}},
		{"US-UT", "us-ut-ag", []string{"including the number of Utah residents"}},
		{"US-OK", "us-ok-ag", []string{"Estimated monetary impact", "Reasonable safeguards"}},
		{"US-VA", "us-va-ag", nil}, // no prescribed form questions
	} {
		t.Run(tc.state, func(t *testing.T) {
			facts := breach.Facts{AwareAt: det, DiscoveredAt: ptr(det), DeterminedAt: ptr(det),
				Jurisdictions: []string{tc.state}, Affected: map[string]int{tc.state: 20000}}
			obs := obligations(t, facts)
			inc := &breach.Status{ID: "BR-ST4T3", Title: "CRM export", Facts: facts, Obligations: obs}
			r, err := RenderReport(ReportInput{Incident: inc, Obligation: find(t, obs, tc.obligation), Org: testOrg(), GeneratedAt: det})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.ask {
				if !strings.Contains(r.Markdown, q) {
					t.Errorf("%s report does not ask about %q", tc.obligation, q)
				}
			}
			if tc.ask == nil && strings.Contains(r.Markdown, "legal supplies the answers") {
				t.Errorf("%s report asks form questions the state does not prescribe", tc.obligation)
			}
		})
	}
}
