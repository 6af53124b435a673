package playbooks

import (
	"slices"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

func TestClauseHolds(t *testing.T) {
	facts := Facts{Risk: breach.RiskHigh, Flags: []string{"nydfs_regulated"}, Duties: []string{"regulator"}}
	tests := []struct {
		name   string
		clause Clause
		facts  Facts
		want   bool
	}{
		{"empty clause", Clause{}, facts, true},
		{"risk in set", Clause{Risk: []string{breach.RiskRisk, breach.RiskHigh}}, facts, true},
		{"risk not in set", Clause{Risk: []string{breach.RiskNone}}, facts, false},
		{"empty risk is unassessed", Clause{Risk: []string{breach.RiskUnassessed}}, Facts{}, true},
		{"empty risk is not high", Clause{Risk: []string{breach.RiskHigh}}, Facts{}, false},
		{"duty present", Clause{Duty: "regulator"}, facts, true},
		{"duty absent", Clause{Duty: "subjects"}, facts, false},
		{"flag present", Clause{Flag: "nydfs_regulated"}, facts, true},
		{"flag absent", Clause{Flag: "extortion_payment"}, facts, false},
		{"all fields hold", Clause{Risk: []string{breach.RiskHigh}, Duty: "regulator", Flag: "nydfs_regulated"}, facts, true},
		{"one field fails", Clause{Risk: []string{breach.RiskHigh}, Duty: "regulator", Flag: "public_company"}, facts, false},
		{"risk fails, duty holds", Clause{Risk: []string{breach.RiskNone}, Duty: "regulator"}, facts, false},
	}
	for _, tt := range tests {
		if got := tt.clause.Holds(tt.facts); got != tt.want {
			t.Errorf("%s: Holds = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStepApplies(t *testing.T) {
	notify := Step{When: []Clause{{Risk: []string{breach.RiskHigh}}, {Duty: "subjects"}}}
	tests := []struct {
		name  string
		step  Step
		facts Facts
		want  bool
	}{
		{"no conditions", Step{}, Facts{}, true},
		{"first clause", notify, Facts{Risk: breach.RiskHigh}, true},
		{"second clause", notify, Facts{Risk: breach.RiskRisk, Duties: []string{"subjects"}}, true},
		{"both", notify, Facts{Risk: breach.RiskHigh, Duties: []string{"subjects"}}, true},
		{"neither", notify, Facts{Risk: breach.RiskRisk, Duties: []string{"regulator"}}, false},
		{"unassessed", notify, Facts{}, false},
	}
	for _, tt := range tests {
		if got := tt.step.Applies(tt.facts); got != tt.want {
			t.Errorf("%s: Applies = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestGraphHelpers(t *testing.T) {
	p := mustParse(t, header+taskStep("a")+taskStep("b")+taskStep("c")+"    after: [a, b]\n"+taskStep("d")+"    after: [a]\n")
	if got := p.Roots(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Roots = %v", got)
	}
	if got := p.Dependents("a"); !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("Dependents(a) = %v", got)
	}
	if got := p.Dependents("d"); len(got) != 0 {
		t.Errorf("Dependents(d) = %v", got)
	}
	s, ok := p.Step("c")
	if !ok || s.ID != "c" || !slices.Equal(s.After, []string{"a", "b"}) {
		t.Errorf("Step(c) = %+v, %v", s, ok)
	}
	if _, ok := p.Step("zz"); ok {
		t.Error("Step(zz) found")
	}
}

func TestDefaultsForSteps(t *testing.T) {
	p := mustParse(t, "id: t\nversion: 1\ntitle: T\nreminders: [4h]\nescalation: {to: admin, every: 4h}\nsteps:\n"+
		taskStep("plain")+
		taskStep("due")+"    due: {after: 1d, from: aware}\n"+
		taskStep("own")+"    due: {after: 1d, from: aware}\n    reminders: [30m]\n    escalation: {to: legal, every: 1h}\n")
	plain, _ := p.Step("plain")
	due, _ := p.Step("due")
	own, _ := p.Step("own")
	if p.RemindersFor(plain) != nil || p.EscalationFor(plain) != nil {
		t.Error("a step without due got reminders or escalation")
	}
	if got := p.RemindersFor(due); !slices.Equal(got, []Duration{Duration(4 * time.Hour)}) {
		t.Errorf("RemindersFor(due) = %v", got)
	}
	if got := p.EscalationFor(due); got == nil || got.To != breach.RoleAdmin {
		t.Errorf("EscalationFor(due) = %+v", got)
	}
	if got := p.RemindersFor(own); !slices.Equal(got, []Duration{Duration(30 * time.Minute)}) {
		t.Errorf("RemindersFor(own) = %v", got)
	}
	if got := p.EscalationFor(own); got == nil || got.To != breach.RoleLegal || got.Every.D() != time.Hour {
		t.Errorf("EscalationFor(own) = %+v", got)
	}
}

func TestDueDeadline(t *testing.T) {
	launch := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	aware := launch.Add(-5 * time.Hour)
	start := launch.Add(10 * time.Hour)
	for _, tt := range []struct {
		from string
		want time.Time
	}{
		{FromLaunch, launch.Add(72 * time.Hour)},
		{FromAware, aware.Add(72 * time.Hour)},
		{FromStart, start.Add(72 * time.Hour)},
	} {
		d := Due{After: Duration(72 * time.Hour), From: tt.from}
		if got := d.Deadline(launch, aware, start); !got.Equal(tt.want) {
			t.Errorf("%s: Deadline = %v, want %v", tt.from, got, tt.want)
		}
	}
}

func TestTier(t *testing.T) {
	tr := DefaultTiering()
	for _, tt := range []struct {
		value, years float64
		want         string
	}{
		{100000, 0, "high"}, {99999, 5, "high"}, {99999, 4.9, "medium"},
		{10000, 0, "medium"}, {9999, 1, "low"}, {0, 0, "low"},
	} {
		if got := tr.Tier(tt.value, tt.years); got != tt.want {
			t.Errorf("Tier(%v, %v) = %q, want %q", tt.value, tt.years, got, tt.want)
		}
	}
}

func TestDigest(t *testing.T) {
	a := mustParse(t, header+taskStep("a"))
	b := mustParse(t, header+taskStep("a"))
	c := mustParse(t, header+taskStep("b"))
	if a.Digest() != b.Digest() || len(a.Digest()) != 64 {
		t.Errorf("equal playbooks: %q vs %q", a.Digest(), b.Digest())
	}
	if a.Digest() == c.Digest() {
		t.Error("different playbooks share a digest")
	}
}

// mustParse parses doc or fails the test.
func mustParse(t *testing.T, doc string) *Playbook {
	t.Helper()
	p, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestReportRole(t *testing.T) {
	tests := []struct {
		id, reportsAs, want string
	}{
		{"stop-the-leak", ReportsContainment, ReportsContainment},
		{"contain-source", "", ReportsContainment},               // pinned before reports_as existed
		{"contain-source", ReportsMitigation, ReportsMitigation}, // a declared role wins
		{"restore-systems", "", ReportsMitigation},
		{"assess-exfiltration", "", ReportsAssessment},
		{"preserve-evidence", "", ReportsCause},
		{"post-incident-review", "", ReportsRootCause},
		{"stop-the-leak", "", ""},
		{"draft-notice", "", ""},
	}
	for _, tt := range tests {
		if got := ReportRole(tt.id, tt.reportsAs); got != tt.want {
			t.Errorf("ReportRole(%q, %q) = %q, want %q", tt.id, tt.reportsAs, got, tt.want)
		}
	}
	for _, id := range []string{"contain-source", "assess-risk", "triage", "post-incident-review", "rotate-credentials"} {
		if r := LegacyReportsAs(id); !slices.Contains(ReportRoles(), r) {
			t.Errorf("LegacyReportsAs(%q) = %q, not one of %v", id, r, ReportRoles())
		}
	}
}
