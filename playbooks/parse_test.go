package playbooks

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// header is a valid playbook head; steps start on line 5.
const header = "id: t\nversion: 1\ntitle: T\nsteps:\n"

// taskStep is a valid four-line step with the given id.
func taskStep(id string) string {
	return "  - id: " + id + "\n    title: X\n    kind: task\n    owner: responder\n"
}

// approvalStep is a valid four-line approval step owned by legal.
func approvalStep(id string) string {
	return "  - id: " + id + "\n    title: X\n    kind: approval\n    owner: legal\n"
}

// problemsOf parses doc and returns its problems, failing if it parsed.
func problemsOf(t *testing.T, doc string) []Problem {
	t.Helper()
	p, err := Parse("case.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("Parse accepted:\n%s\ngot %+v", doc, p)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T, want *ValidationError: %v", err, err)
	}
	if len(ve.Problems) == 0 {
		t.Fatal("ValidationError without problems")
	}
	return ve.Problems
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		line  int
		field string
		msg   string // substring of the message
	}{
		{"unknown kind", header + "  - id: a\n    title: A\n    kind: nope\n    owner: legal\n",
			7, "steps[0].kind", `unknown step kind "nope"`},
		{"unknown owner", header + "  - id: a\n    title: A\n    kind: task\n    owner: boss\n",
			8, "steps[0].owner", `unknown role "boss"`},
		{"unknown step escalation role", header + taskStep("a") + "    due: {after: 4h, from: aware}\n    escalation:\n      to: ceo\n      every: 1h\n",
			11, "steps[0].escalation.to", `unknown role "ceo"`},
		{"unknown playbook escalation role", "id: t\nversion: 1\ntitle: T\nescalation: {to: ceo, every: 1h}\nsteps:\n" + taskStep("a"),
			4, "escalation.to", `unknown role "ceo"`},
		{"bad duration", header + taskStep("a") + "    due: {after: 3x, from: aware}\n",
			9, "steps[0].due.after", `bad duration "3x"`},
		{"units out of order", header + taskStep("a") + "    due: {after: 30m2h, from: aware}\n",
			9, "steps[0].due.after", `bad duration "30m2h"`},
		{"zero duration", "id: t\nversion: 1\ntitle: T\nreminders: [1h, 0m]\nsteps:\n" + taskStep("a"),
			4, "reminders[1]", "longer than zero"},
		{"number as duration", header + "  - id: a\n    title: A\n    kind: outreach\n    owner: responder\n    hold: 60\n",
			9, "steps[0].hold", "bad duration 60"},
		{"bad escalation interval", "id: t\nversion: 1\ntitle: T\nescalation:\n  to: admin\n  every: often\nsteps:\n" + taskStep("a"),
			6, "escalation.every", `bad duration "often"`},
		{"bad due anchor", header + taskStep("a") + "    due:\n      after: 4h\n      from: now\n",
			11, "steps[0].due.from", `unknown due anchor "now"`},
		{"duplicate step id", header + taskStep("a") + taskStep("a"),
			9, "steps[1].id", `duplicate step id "a" (first used at line 5)`},
		{"after unknown step", header + taskStep("a") + taskStep("b") + "    after: [a, zz]\n",
			13, "steps[1].after[1]", `unknown step "zz"`},
		{"after itself", header + taskStep("a") + "    after:\n      - a\n",
			10, "steps[0].after[0]", "cannot come after itself"},
		{"after twice", header + taskStep("a") + taskStep("b") + "    after: [a, a]\n",
			13, "steps[1].after[1]", "listed twice"},
		{"cycle", header + taskStep("a") + "    after: [c]\n" + taskStep("b") + "    after: [a]\n" + taskStep("c") + "    after: [b]\n",
			14, "steps[1].after[0]", "cycle in after: b -> a -> c -> b"},
		{"action without action", header + "  - id: a\n    title: A\n    kind: action\n    owner: responder\n",
			5, "steps[0].action", "needs an action"},
		{"action on a task", header + taskStep("a") + "    action: block-ip\n",
			9, "steps[0].action", "only steps of kind action"},
		{"on_reject unknown step", header + taskStep("a") + "  - id: b\n    title: B\n    kind: approval\n    owner: legal\n    after: [a]\n    on_reject: [nope]\n",
			14, "steps[1].on_reject[0]", `unknown step "nope"`},
		{"on_reject later step", header + "  - id: b\n    title: B\n    kind: approval\n    owner: legal\n    on_reject: [a]\n" + taskStep("a") + "    after: [b]\n",
			9, "steps[0].on_reject[0]", "does not come before this approval"},
		{"on_reject on a task", header + taskStep("a") + taskStep("b") + "    after: [a]\n    on_reject: [a]\n",
			14, "steps[1].on_reject", "only steps of kind approval"},
		{"quorum on a task", header + taskStep("a") + "    quorum: 2\n",
			9, "steps[0].quorum", "only steps of kind approval take quorum"},
		{"quorum zero", header + approvalStep("b") + "    quorum: 0\n",
			9, "steps[0].quorum", "quorum must be between 1 and 5"},
		{"quorum too large", header + approvalStep("b") + "    quorum: 12\n",
			9, "steps[0].quorum", "quorum must be between 1 and 5"},
		{"approvers unknown role", header + approvalStep("b") + "    quorum: 2\n    approvers: [legal, dpo]\n",
			10, "steps[0].approvers[1]", `unknown role "dpo"`},
		{"approvers twice", header + approvalStep("b") + "    quorum: 2\n    approvers:\n      - legal\n      - legal\n",
			12, "steps[0].approvers[1]", `role "legal" is listed twice`},
		{"exclude_launcher alone", header + approvalStep("b") + "    exclude_launcher: true\n",
			9, "steps[0].exclude_launcher", "needs a quorum of 2 or more"},
		{"exclude_launcher on a task", header + taskStep("a") + "    exclude_launcher: true\n",
			9, "steps[0].exclude_launcher", "only steps of kind approval"},
		{"hold on a task", header + taskStep("a") + "    hold: 48h\n",
			9, "steps[0].hold", "only steps of kind outreach"},
		{"unknown risk level", header + taskStep("a") + "    when:\n      - risk: [high, severe]\n",
			10, "steps[0].when[0].risk[1]", `unknown risk level "severe"`},
		{"unknown duty", header + taskStep("a") + "    when: [{risk: [high]}, {duty: press}]\n",
			9, "steps[0].when[1].duty", `unknown duty recipient "press"`},
		{"unknown flag", header + taskStep("a") + "    when:\n      - flag: gdpr\n",
			10, "steps[0].when[0].flag", `unknown flag "gdpr"`},
		{"empty clause", header + taskStep("a") + "    when:\n      - {}\n",
			10, "steps[0].when[0]", "must set risk, duty or flag"},
		{"unknown requirement", header + taskStep("a") + "    requires: [risk, vibes]\n",
			9, "steps[0].requires[1]", `unknown fact "vibes"`},
		{"unknown reports_as", header + taskStep("a") + "    reports_as: contained\n",
			9, "steps[0].reports_as", `unknown reports_as "contained" (want one of containment, mitigation`},
		{"reminders without due", header + taskStep("a") + "    reminders: [1h]\n",
			9, "steps[0].reminders", "no due"},
		{"escalation without due", header + taskStep("a") + "    escalation: {to: admin, every: 1h}\n",
			9, "steps[0].escalation", "no due"},
		{"version zero", "id: t\nversion: 0\ntitle: T\nsteps:\n" + taskStep("a"),
			2, "version", "version must be 1 or more"},
		{"version not a number", "id: t\nversion: one\ntitle: T\nsteps:\n" + taskStep("a"),
			2, "version", "got string, want integer"},
		{"version fractional", "id: t\nversion: 1.5\ntitle: T\nsteps:\n" + taskStep("a"),
			2, "version", "whole number"},
		{"version missing", "id: t\ntitle: T\nsteps:\n" + taskStep("a"),
			1, "version", "required field is missing"},
		{"step title missing", header + "  - id: a\n    kind: task\n    owner: legal\n",
			5, "steps[0].title", "required field is missing"},
		{"bad playbook id", "id: Customer_Breach\nversion: 1\ntitle: T\nsteps:\n" + taskStep("a"),
			1, "id", `bad playbook id "Customer_Breach"`},
		{"bad step id", header + taskStep("Step One"),
			5, "steps[0].id", `bad step id "Step One"`},
		{"unknown top-level key", "id: t\nversion: 1\ntitle: T\nowner: legal\nsteps:\n" + taskStep("a"),
			4, "owner", `unknown field "owner"`},
		{"unknown step key", header + taskStep("a") + "    colour: red\n",
			9, "steps[0].colour", `unknown field "colour"`},
		{"unknown due key", header + taskStep("a") + "    due: {after: 1h, from: start, before: 2h}\n",
			9, "steps[0].due.before", `unknown field "before"`},
		{"no steps", "id: t\nversion: 1\ntitle: T\nsteps: []\n",
			4, "steps", "minItems"},
		{"steps not a list", "id: t\nversion: 1\ntitle: T\nsteps: many\n",
			4, "steps", "got string, want array"},
		{"tiering inverted", "id: t\nversion: 1\ntitle: T\ntiering:\n  medium_annual_value: 500000\nsteps:\n" + taskStep("a"),
			5, "tiering.medium_annual_value", "above high_annual_value"},
		{"tiering negative", "id: t\nversion: 1\ntitle: T\ntiering:\n  high_years: -1\nsteps:\n" + taskStep("a"),
			5, "tiering.high_years", "minimum"},
		{"duplicate key", header + "  - id: a\n    title: A\n    kind: task\n    kind: review\n    owner: legal\n",
			8, "steps[0].kind", "duplicate key (first at line 7)"},
		{"alias", "id: t\nversion: 1\ntitle: T\nreminders: &r [1h]\nsteps:\n" + taskStep("a") + "    due: {after: 2h, from: start}\n    reminders: *r\n",
			11, "steps[0].reminders", "aliases are not supported"},
		// yaml.v3 reports the line of the enclosing construct, not of the bad token.
		{"syntax error", "id: t\nversion: 1\ntitle: T\nsteps:\n  - id: a\n   title: [\n",
			4, "", "YAML syntax: did not find expected '-' indicator"},
		{"syntax error on its line", "id: t\nversion: 1\ntitle: T\nsteps: x: y\n",
			4, "", "YAML syntax: mapping values are not allowed"},
		{"not a mapping", "- id: t\n",
			1, "", "got array, want object"},
		{"two documents", header + taskStep("a") + "---\n" + header + taskStep("b"),
			9, "", "exactly one playbook"},
		{"empty file", "# nothing here\n",
			1, "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problemsOf(t, tt.doc)
			for _, p := range ps {
				if p.File != "case.yaml" {
					t.Errorf("problem %v names file %q", p, p.File)
				}
				if p.Line == tt.line && p.Field == tt.field && strings.Contains(p.Message, tt.msg) {
					return
				}
			}
			t.Errorf("want %d: %s: ...%s...; got\n%v", tt.line, tt.field, tt.msg, (&ValidationError{Problems: ps}).Error())
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	doc := header +
		"  - id: a\n    title: A\n    kind: nope\n    owner: boss\n" + // lines 5-8
		"  - id: b\n    title: B\n    kind: task\n    owner: legal\n    after: [zz]\n" // lines 9-13
	ps := problemsOf(t, doc)
	want := []string{
		"case.yaml:7: steps[0].kind: ",
		"case.yaml:8: steps[0].owner: ",
		"case.yaml:13: steps[1].after[0]: ",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), (&ValidationError{Problems: ps}).Error())
	}
	for i, p := range ps {
		if !strings.HasPrefix(p.String(), want[i]) {
			t.Errorf("problem %d = %q, want prefix %q", i, p.String(), want[i])
		}
	}
}

func TestValidationErrorFormat(t *testing.T) {
	e := &ValidationError{Problems: []Problem{
		{File: "a.yaml", Line: 3, Field: "steps[0].kind", Message: "bad"},
		{File: "a.yaml", Line: 0, Message: "unreadable"},
	}}
	want := "a.yaml:3: steps[0].kind: bad\na.yaml: unreadable"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseDefaults(t *testing.T) {
	p, err := Parse("d.yaml", []byte(header+taskStep("a")))
	if err != nil {
		t.Fatal(err)
	}
	if p.Tiering == nil || *p.Tiering != DefaultTiering() {
		t.Errorf("Tiering = %+v, want defaults %+v", p.Tiering, DefaultTiering())
	}
	if p.Source != "d.yaml" {
		t.Errorf("Source = %q", p.Source)
	}

	p, err = Parse("d.yaml", []byte("id: t\nversion: 1\ntitle: T\ntiering: {high_years: 8}\nsteps:\n"+taskStep("a")))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultTiering()
	want.HighYears = 8
	if *p.Tiering != want {
		t.Errorf("partial tiering = %+v, want %+v", *p.Tiering, want)
	}
}

func TestSchemaIsJSONSchema(t *testing.T) {
	s := Schema()
	if !strings.Contains(string(s), `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Fatal("schema does not declare draft 2020-12")
	}
	s[0] = 'x' // callers get a copy
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
	if Schema()[0] != '{' {
		t.Error("Schema() returned the embedded bytes, not a copy")
	}
}

// TestSchemaReportRoles keeps the schema's reports_as values, which editors
// complete from, equal to ReportRoles, which validation and templates use.
func TestSchemaReportRoles(t *testing.T) {
	var doc struct {
		Defs struct {
			Step struct {
				Properties struct {
					ReportsAs struct {
						Enum []string `json:"enum"`
					} `json:"reports_as"`
				} `json:"properties"`
			} `json:"step"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Defs.Step.Properties.ReportsAs.Enum; !slices.Equal(got, ReportRoles()) {
		t.Errorf("schema reports_as enum = %v, want ReportRoles() %v", got, ReportRoles())
	}
}
