package templates

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
)

// TestReportAsksForUnknownRegimeFacts: the CAC report asks whether a
// ransom was demanded or paid until the incident knows; then it shows the
// answer and stops asking.
func TestReportAsksForUnknownRegimeFacts(t *testing.T) {
	disc := at(t, "2026-03-10T09:30:00+08:00")
	question := "Whether a ransom was demanded or paid"
	for _, tc := range []struct {
		name   string
		ransom *bool
		ask    bool
		answer string
	}{
		{"unknown", nil, true, ""},
		{"paid", func() *bool { v := true; return &v }(), false, "**" + question + ":** yes"},
		{"none", func() *bool { v := false; return &v }(), false, "**" + question + ":** no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			facts := breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Jurisdictions: []string{"CN"},
				Affected: map[string]int{"CN": 2_000_000}, Ransom: tc.ransom}
			obs := obligations(t, facts)
			inc := &breach.Status{ID: "BR-9X", Title: "Ransomware", Facts: facts, Obligations: obs}
			r, err := RenderReport(ReportInput{Incident: inc, Obligation: find(t, obs, "cn-cac-report"), Org: testOrg(), GeneratedAt: at(t, "2026-03-10T12:00:00+08:00")})
			if err != nil {
				t.Fatal(err)
			}
			regime := r.Markdown[strings.Index(r.Markdown, "Regime-specific information"):]
			if got := strings.Contains(regime, question); got != (tc.ask || tc.answer != "") {
				t.Errorf("report mentions the ransom question: %v", got)
			}
			if tc.answer != "" && !strings.Contains(regime, tc.answer) {
				t.Errorf("report lacks the answer row %q:\n%s", tc.answer, regime)
			}
			if tc.ask && !strings.Contains(regime, "* "+question) {
				t.Errorf("report does not ask %q:\n%s", question, regime)
			}
		})
	}
}
