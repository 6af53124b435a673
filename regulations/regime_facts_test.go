package regulations

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
)

func truth(v bool) *bool { return &v }

// TestNIS2NeedsASignificantIncident: NIS2 Art. 23 applies to significant
// incidents only. Unknown keeps the duties with the fact missing; false
// drops them; true runs the 24 h and 72 h clocks.
func TestNIS2NeedsASignificantIncident(t *testing.T) {
	aware := at(t, "2026-06-01T08:00:00Z")
	base := func(significant *bool) breach.Facts {
		return breach.Facts{AwareAt: aware, Jurisdictions: []string{"DE"}, Flags: []string{"essential_entity"}, Significant: significant}
	}
	runDueCases(t, []dueCase{
		{name: "unknown keeps the duty, fact missing", facts: base(nil),
			due:     map[string]string{"nis2-early-warning": "2026-06-02T08:00:00Z"},
			missing: map[string][]string{"nis2-early-warning": {"significant"}, "nis2-notification": {"significant"}}},
		{name: "not significant: no NIS2 duty", facts: base(truth(false)),
			absent: []string{"nis2-early-warning", "nis2-notification", "nis2-final", "nis2-recipients"}},
		{name: "significant", facts: base(truth(true)),
			due: map[string]string{"nis2-early-warning": "2026-06-02T08:00:00Z", "nis2-notification": "2026-06-04T08:00:00Z"}},
	})
	o := find(t, defaultRules(t).Evaluate(base(truth(true))), "nis2-early-warning")
	if len(o.MissingFacts) != 0 || !slices.Contains(o.ReportFacts, "cross_border") {
		t.Errorf("significant early warning: missing %v, report facts %v; want none missing and cross_border asked", o.MissingFacts, o.ReportFacts)
	}
}

// TestCACReportAsksAboutRansom: the CAC report's form asks whether a
// ransom was demanded or paid; the duty names the fact that answers it.
func TestCACReportAsksAboutRansom(t *testing.T) {
	disc := at(t, "2026-03-10T09:30:00+08:00")
	f := breach.Facts{AwareAt: disc, DiscoveredAt: ptr(disc), Jurisdictions: []string{"CN"}, Affected: map[string]int{"CN": 2_000_000}}
	o := find(t, defaultRules(t).Evaluate(f), "cn-cac-report")
	if !slices.Contains(o.ReportFacts, "ransom") || slices.ContainsFunc(o.ReportQuestions, func(q string) bool { return strings.Contains(q, "ransom") }) {
		t.Errorf("cn-cac-report: report facts %v, questions %v; want ransom asked through its fact", o.ReportFacts, o.ReportQuestions)
	}
}

// TestRuleFactConditionsValidated: a rule may only test true/false facts,
// and only report facts the table can ask about.
func TestRuleFactConditionsValidated(t *testing.T) {
	rule := func(extra string) string {
		return `rules:
- id: test-rule
  regime: Test
  jurisdiction: DE
  applies_in: [DE]
  recipient: regulator
  recipient_name: Someone
  anchor: aware_at
  deadline: {amount: 24, unit: hours}
  sources: [https://example.org/law]
` + extra
	}
	for _, tc := range []struct{ yaml, want string }{
		{rule("  when:\n    facts: {vibes: true}\n"), "when.facts.vibes: not a true/false fact"},
		{rule("  when:\n    facts: {aware_at: true}\n"), "when.facts.aware_at: not a true/false fact"},
		{rule("  report_facts: [flags]\n"), `report_facts[0]: "flags" is not a fact with a question`},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
		}
	}
	if _, err := Parse([]byte(rule("  when:\n    facts: {significant: true}\n  report_facts: [ransom]\n"))); err != nil {
		t.Errorf("a rule on a true/false fact refused: %v", err)
	}
}
