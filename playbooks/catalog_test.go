package playbooks

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// shippedIDs are the playbooks the binary must carry.
var shippedIDs = []string{"customer-data-breach", "insider-exfiltration", "ransomware-extortion"}

func TestEmbedded(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range c.List() {
		ids = append(ids, p.ID)
		if want := "embedded:" + p.ID + ".yaml"; p.Source != want {
			t.Errorf("%s: Source = %q, want %q", p.ID, p.Source, want)
		}
		if p.Version < 1 {
			t.Errorf("%s: version %d", p.ID, p.Version)
		}
		for _, s := range p.Steps {
			if len(s.Description) < 80 {
				t.Errorf("%s/%s: description too thin to guide a responder: %q", p.ID, s.ID, s.Description)
			}
		}
		assertReachesEveryStep(t, p)
		assertHasKinds(t, p, KindTask, KindAction, KindScope, KindRegulatorNotices, KindApproval,
			KindCustomerNotices, KindRemediation, KindReview)
	}
	if !slices.Equal(ids, shippedIDs) {
		t.Errorf("List ids = %v, want %v", ids, shippedIDs)
	}
	if _, ok := c.Get("no-such-playbook"); ok {
		t.Error("Get found an unknown id")
	}
}

// assertReachesEveryStep walks the DAG from the roots through Dependents.
func assertReachesEveryStep(t *testing.T, p *Playbook) {
	t.Helper()
	roots := p.Roots()
	if len(roots) == 0 {
		t.Fatalf("%s: no root step", p.ID)
	}
	seen := map[string]bool{}
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		queue = append(queue, p.Dependents(id)...)
	}
	for _, s := range p.Steps {
		if !seen[s.ID] {
			t.Errorf("%s: step %q is not reachable from the roots %v", p.ID, s.ID, roots)
		}
	}
}

// assertHasKinds checks the playbook uses each kind at least once.
func assertHasKinds(t *testing.T, p *Playbook, kinds ...string) {
	t.Helper()
	for _, k := range kinds {
		if !slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == k }) {
			t.Errorf("%s: no step of kind %s", p.ID, k)
		}
	}
}

// stepOf returns a step or fails the test.
func stepOf(t *testing.T, p *Playbook, id string) *Step {
	t.Helper()
	s, ok := p.Step(id)
	if !ok {
		t.Fatalf("%s: no step %q", p.ID, id)
	}
	return s
}

func TestShippedPlaybookContent(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	notify := []Clause{{Risk: []string{breach.RiskHigh}}, {Duty: "subjects"}}
	for _, id := range shippedIDs {
		p, _ := c.Get(id)
		assess := stepOf(t, p, "assess-risk")
		if assess.Owner != breach.RoleLegal || !slices.Contains(assess.Requires, "risk") ||
			*assess.Due != (Due{After: Duration(48 * time.Hour), From: FromAware}) {
			t.Errorf("%s: assess-risk = %+v", id, assess)
		}
		reg := stepOf(t, p, "regulator-notices")
		if reg.Owner != breach.RoleLegal || reg.Kind != KindRegulatorNotices ||
			!reflect.DeepEqual(reg.When, []Clause{{Duty: "regulator"}}) ||
			*reg.Due != (Due{After: Duration(72 * time.Hour), From: FromAware}) {
			t.Errorf("%s: regulator-notices = %+v", id, reg)
		}
		approve := stepOf(t, p, "approve-notice")
		if approve.Kind != KindApproval || approve.Owner != breach.RoleLegal || !slices.Equal(approve.OnReject, []string{"draft-notice"}) ||
			approve.Needed() != 2 || !slices.Equal(approve.ApproverRoles(), []string{breach.RoleLegal}) {
			// Two-person control: two legal approvals release the notice.
			t.Errorf("%s: approve-notice = %+v", id, approve)
		}
		notices := stepOf(t, p, "customer-notices")
		if notices.Owner != breach.RoleResponder || !reflect.DeepEqual(notices.When, notify) || !slices.Contains(notices.After, "approve-notice") {
			t.Errorf("%s: customer-notices = %+v", id, notices)
		}
		if e := p.Escalation; e == nil || e.To != breach.RoleAdmin {
			t.Errorf("%s: escalation = %+v", id, e)
		}
	}

	cdb, _ := c.Get("customer-data-breach")
	outreach := stepOf(t, cdb, "high-tier-outreach")
	if outreach.Kind != KindOutreach || outreach.Hold == nil || outreach.Hold.D() != 48*time.Hour ||
		!slices.Contains(stepOf(t, cdb, "customer-notices").After, "high-tier-outreach") {
		t.Errorf("customer-data-breach: outreach = %+v", outreach)
	}
	if d := stepOf(t, cdb, "contain-source").Due; d == nil || d.From != FromLaunch || d.After.D() != 4*time.Hour {
		t.Errorf("customer-data-breach: contain-source due = %+v", d)
	}

	rw, _ := c.Get("ransomware-extortion")
	report := stepOf(t, rw, "extortion-payment-report")
	if !reflect.DeepEqual(report.When, []Clause{{Flag: "extortion_payment"}}) || report.Due.After.D() != 24*time.Hour {
		t.Errorf("ransomware-extortion: extortion-payment-report = %+v", report)
	}
	paid := Facts{Flags: []string{"extortion_payment"}}
	if !report.Applies(paid) || report.Applies(Facts{}) {
		t.Error("ransomware-extortion: the payment report must apply exactly when a payment was made")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var all []*Playbook
	c, err := Load("testdata/override")
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, c.List()...)
	e, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, e.List()...)
	for _, p := range all {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("%s: %v", p.Source, err)
		}
		var back Playbook
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", p.Source, err)
		}
		back.Source = p.Source // not part of the JSON form
		if !reflect.DeepEqual(&back, p) {
			t.Errorf("%s: JSON round trip differs\nwant %+v\ngot  %+v", p.Source, p, &back)
		}
		if back.Digest() != p.Digest() {
			t.Errorf("%s: digest changed in the round trip", p.Source)
		}
	}
}

func TestLoadOverride(t *testing.T) {
	dir := "testdata/override"
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Get("customer-data-breach")
	if !ok || p.Version != 2 || p.Source != filepath.Join(dir, "customer-data-breach.yaml") {
		t.Errorf("override not applied: %+v", p)
	}
	if _, ok := p.Step("notify-insurer"); !ok {
		t.Error("override's own step missing")
	}
	if p.Tiering.HighAnnualValue != 250000 || p.Tiering.MediumAnnualValue != DefaultTiering().MediumAnnualValue {
		t.Errorf("override tiering = %+v", p.Tiering)
	}
	if v, ok := c.Get("vendor-breach"); !ok || v.Source != filepath.Join(dir, "vendor-breach.yml") {
		t.Errorf("added playbook missing: %+v", v)
	}
	if r, ok := c.Get("ransomware-extortion"); !ok || r.Source != "embedded:ransomware-extortion.yaml" {
		t.Errorf("embedded playbook lost: %+v", r)
	}
	if n := len(c.List()); n != 4 {
		t.Errorf("List has %d playbooks, want 4", n)
	}
}

func TestLoadRefuses(t *testing.T) {
	valid, err := os.ReadFile("testdata/override/vendor-breach.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		file  string // file the error must name
		line  int
		field string
	}{
		{"invalid file", map[string]string{"ok.yaml": string(valid), "bad.yaml": header + taskStep("a") + "    after: [nope]\n"},
			"bad.yaml", 9, "steps[0].after[0]"},
		{"two files with one id", map[string]string{"a.yaml": string(valid), "b.yml": string(valid)},
			"b.yml", 2, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(dir)
			if c != nil {
				t.Error("Load returned a catalog along with an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			want := filepath.Join(dir, tt.file)
			for _, p := range ve.Problems {
				if p.File == want && p.Line == tt.line && p.Field == tt.field {
					return
				}
			}
			t.Errorf("no problem at %s:%d %s in\n%v", want, tt.line, tt.field, err)
		})
	}
}

func TestLoadDirectory(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), EnvDir) {
		t.Errorf("missing dir: err = %v", err)
	}
	dir := t.TempDir()
	// Only *.yaml and *.yml directly in the directory count.
	for name, body := range map[string]string{"README.md": "not yaml: [", "notes.txt": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "old.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.List()); n != len(shippedIDs) {
		t.Errorf("List has %d playbooks, want %d", n, len(shippedIDs))
	}
}

// TestShippedReportsAs: each shipped playbook says which step contains the
// breach and which assess it, and declares for every step exactly the role
// its id had before reports_as existed, so a version-1 incident reports the
// same whether it pinned the file before or after the attribute was added.
func TestShippedReportsAs(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range shippedIDs {
		p, _ := c.Get(id)
		roles := map[string]int{}
		for _, s := range p.Steps {
			roles[s.ReportsAs]++
			if want := LegacyReportsAs(s.ID); s.ReportsAs != want {
				t.Errorf("%s/%s: reports_as %q, want %q as before the attribute existed", id, s.ID, s.ReportsAs, want)
			}
		}
		if roles[ReportsContainment] != 1 || roles[ReportsAssessment] == 0 || roles[ReportsRootCause] != 1 {
			t.Errorf("%s: reports_as counts %v, want one containment, one root_cause and an assessment", id, roles)
		}
	}
}
