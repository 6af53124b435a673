package templates

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/regulations"
)

func TestRenderReportGDPRArt33Complete(t *testing.T) {
	in := fullInput(t)
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "GDPR Art. 33 notification to Lead or competent supervisory authority — BR-7K3F9Q (draft)"; r.Title != want {
		t.Errorf("Title = %q, want %q", r.Title, want)
	}
	if len(r.Missing) != 0 {
		t.Errorf("Missing = %q, want none: every field is known", r.Missing)
	}
	for _, want := range []string{
		"Nothing: every required field is filled from the incident.",
		"without undue delay; at the latest 2026-11-26T08:00:00Z (Thu 26 Nov 2026 08:00 UTC)",
		"due in 46h", // 46 h before the limit
		"**Total:** 1,500",
		"Bucket made private at 10:12 UTC; public links revoked.",
		"Financial data (bank account or payment card details)",
		"<https://gdprlearninghub.com/article-33-gdpr>",
		"11h20m from occurrence to containment",
	} {
		if !strings.Contains(r.Markdown, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") || !strings.Contains(r.HTML, "<style>") || strings.Contains(r.HTML, "<link") || strings.Contains(r.HTML, "<script") {
		t.Error("HTML is not a self-contained document with inline CSS and no external assets")
	}
	golden(t, "gdpr-art33-complete.md.golden", r.Markdown)
	golden(t, "gdpr-art33-complete.html.golden", r.HTML)
}

func TestRenderReportMissingFields(t *testing.T) {
	r, err := RenderReport(sparseInput(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Entity and contact point",
		"Timing",
		"Nature and cause of the breach",
		"Data subjects affected (approximate numbers)",
		"Personal data involved",
		"Likely consequences",
		"Measures taken or proposed",
		"Reasons for delay",
	}
	if !slices.Equal(r.Missing, want) {
		t.Errorf("Missing = %q\nwant      %q", r.Missing, want)
	}
	// The list sits at the top, before the header block and the sections.
	top, rest, ok := strings.Cut(r.Markdown, "## Notification")
	if !ok || !strings.Contains(top, "## Missing before filing") {
		t.Fatalf("no Missing before filing block ahead of the header:\n%s", r.Markdown)
	}
	for _, name := range want {
		if !strings.Contains(top, "- **"+md(name)+":**") {
			t.Errorf("missing field %q not listed at the top", name)
		}
		if !strings.Contains(rest, md(name)+" (missing)") {
			t.Errorf("section %q not marked missing", name)
		}
	}
	if strings.Contains(top, "- **Report type and phase") {
		t.Error("report phase is always known but was listed missing")
	}
	for _, warn := range []string{"The deadline passed 2h ago", "OVERDUE by 2h"} {
		if !strings.Contains(r.Markdown, warn) {
			t.Errorf("Markdown lacks %q", warn)
		}
	}
	golden(t, "gdpr-art33-missing.md.golden", r.Markdown)
	golden(t, "gdpr-art33-missing.html.golden", r.HTML)
}

// rawTag finds an HTML tag opener not escaped by a backslash.
var rawTag = regexp.MustCompile(`(^|[^\\])<(script|img|iframe|b>|/)`)

func TestRenderReportEscapesUserText(t *testing.T) {
	in := fullInput(t)
	in.Incident.Title = "<script>alert(1)</script>"
	in.Incident.Summary = `Found <img src=x onerror="alert(2)"> & [a link](javascript:alert(3)) *bold*`
	in.Incident.Steps[1].Note = "# not a heading\n<b>raw</b>"
	in.Org.Name = "Evil <iframe> Ltd"
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"<script>", "<img", "<iframe>", "<b>raw", `onerror="alert`} {
		if strings.Contains(r.HTML, raw) {
			t.Errorf("HTML contains raw %q", raw)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; [a link]", "Evil &lt;iframe&gt; Ltd"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks escaped %q", want)
		}
	}
	if m := rawTag.FindString(r.Markdown); m != "" {
		t.Errorf("Markdown contains an unescaped tag %q", m)
	}
	for _, want := range []string{`\<script\>alert(1)\</script\>`, `\[a link\](javascript:alert(3)) \*bold\*`, `> \# not a heading`, `\& `} {
		if !strings.Contains(r.Markdown, want) {
			t.Errorf("Markdown lacks escaped %q", want)
		}
	}
	// The title is used as a mail or page title by callers; it stays plain text.
	if !strings.Contains(r.Title, "BR-7K3F9Q") {
		t.Errorf("Title = %q", r.Title)
	}
}

// TestEveryRuleContentFieldHasASection walks the embedded rules: each content
// field they name must have its own builder, never the generic fallback.
func TestEveryRuleContentFieldHasASection(t *testing.T) {
	rs, err := regulations.Default()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, r := range rs.Rules() {
		for _, f := range r.ContentFields {
			if !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
	}
	if len(all) < 10 {
		t.Fatalf("only %d content fields found in the rules; the walk is broken", len(all))
	}
	in := fullInput(t)
	c := &reportCtx{in: in, inc: in.Incident, ob: in.Obligation, now: in.GeneratedAt}
	titles := map[string]string{}
	for _, f := range all {
		s := c.section(f)
		if builderFor(f) == nil || s.Generic {
			t.Errorf("content field %q renders as a generic section", f)
		}
		if b := builderFor(f); b != nil && b(c).Title == "" {
			t.Errorf("content field %q has no title of its own", f)
		}
		if other, dup := titles[s.Title]; dup {
			t.Errorf("content fields %q and %q share the title %q", f, other, s.Title)
		}
		titles[s.Title] = f
		if len(s.Rows)+len(s.Items)+len(s.Notes) == 0 && s.Text == "" && s.Remark == "" && !s.Missing {
			t.Errorf("content field %q renders an empty section", f)
		}
	}
	// One report asking for every field renders each as a numbered section.
	in.Obligation.ContentFields = all
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if !strings.Contains(r.HTML, `<section id="`+f+`">`) {
			t.Errorf("report lacks a section for %q", f)
		}
	}
}

func TestRenderReportUnknownField(t *testing.T) {
	in := fullInput(t)
	in.Obligation.ContentFields = []string{"timing", "ransom_amount"}
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Missing, []string{"Ransom amount"}) {
		t.Errorf("Missing = %q, want the unknown field only", r.Missing)
	}
	if !strings.Contains(r.Markdown, "## 2. Ransom amount (missing)") || !strings.Contains(r.Markdown, `content field "ransom\_amount"`) {
		t.Errorf("unknown field has no generic section:\n%s", r.Markdown)
	}
}

func TestRenderReportDelayReasons(t *testing.T) {
	tests := []struct {
		name        string
		now         string
		reason      string
		filedAt     string
		wantMissing bool
		wantText    string
	}{
		{name: "in time", now: "2026-11-25T08:00:00Z", wantText: "Not applicable while the notification is made by 2026-11-26T08:00:00Z"},
		{name: "late without reason", now: "2026-11-26T14:00:00Z", wantMissing: true, wantText: "passed 6h ago"},
		{name: "late with reason", now: "2026-11-26T14:00:00Z", reason: "Forensic imaging took 80 hours", wantText: "Forensic imaging took 80 hours"},
		{name: "filed in time, rendered later", now: "2026-11-30T08:00:00Z", filedAt: "2026-11-25T08:00:00Z", wantText: "Not applicable"},
		{name: "filed late", now: "2026-11-30T08:00:00Z", filedAt: "2026-11-26T09:30:00Z", wantMissing: true, wantText: "passed 1h30m ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fullInput(t)
			in.GeneratedAt = at(t, tt.now)
			in.Obligation.DelayReason = tt.reason
			if tt.filedAt != "" {
				in.Obligation.Status = breach.ObligationFiled
				in.Obligation.FiledAt = ptr(at(t, tt.filedAt))
			}
			r, err := RenderReport(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(r.Missing, "Reasons for delay"); got != tt.wantMissing {
				t.Errorf("reasons for delay missing = %v, want %v (%q)", got, tt.wantMissing, r.Missing)
			}
			_, section, _ := strings.Cut(r.Markdown, ". Reasons for delay")
			if !strings.Contains(section, tt.wantText) {
				t.Errorf("delay section lacks %q:\n%s", tt.wantText, section)
			}
		})
	}
}

func TestRenderReportPhasedLink(t *testing.T) {
	facts := breach.Facts{
		AwareAt:       at(t, "2026-11-23T08:00:00Z"),
		Jurisdictions: []string{"DE"},
		Flags:         []string{breach.FlagEssentialEntity},
		Filed:         map[string]time.Time{},
	}
	tests := []struct {
		name        string
		filed       bool
		reference   string
		wantMissing bool
		wantText    string
	}{
		{name: "earlier not filed", wantMissing: true, wantText: "not filed yet"},
		{name: "earlier filed without reference", filed: true, wantMissing: true, wantText: "no reference recorded"},
		{name: "earlier filed", filed: true, reference: "CSIRT-2026-0042", wantText: "reference CSIRT-2026-0042"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := obligations(t, facts)
			for i := range obs {
				if obs[i].ID == "nis2-early-warning" && tt.filed {
					obs[i].Status = breach.ObligationFiled
					obs[i].FiledAt = ptr(at(t, "2026-11-23T20:00:00Z"))
					obs[i].Reference = tt.reference
				}
			}
			inc := &breach.Status{ID: "BR-9X", Title: "Ransomware", Facts: facts, Obligations: obs}
			r, err := RenderReport(ReportInput{Incident: inc, Obligation: find(t, obs, "nis2-notification"), Org: testOrg(), GeneratedAt: at(t, "2026-11-24T00:00:00Z")})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(r.Missing, "Report type and phase"); got != tt.wantMissing {
				t.Errorf("phase missing = %v, want %v", got, tt.wantMissing)
			}
			if !strings.Contains(r.Markdown, tt.wantText) {
				t.Errorf("Markdown lacks %q", tt.wantText)
			}
			if !strings.HasPrefix(r.Title, "NIS2 Art. 23 intermediate report to CSIRT") {
				t.Errorf("Title = %q", r.Title)
			}
		})
	}
}

func TestRenderReportHeader(t *testing.T) {
	in := fullInput(t)
	in.Obligation.NeedsLegalConfirmation = true
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Markdown, "> **Warning:** Needs legal confirmation") || !strings.Contains(r.HTML, "Needs legal confirmation") {
		t.Error("no needs-legal-confirmation warning")
	}
	for _, want := range []string{"**Regime:** GDPR Art. 33", "**Jurisdiction:** EU", "**Clock:** 72 hours from aware\\_at, 2026-11-23T08:00:00Z"} {
		if !strings.Contains(r.Markdown, want) {
			t.Errorf("header lacks %q", want)
		}
	}
	sources := strings.Fields(in.Obligation.Source)
	if len(sources) < 2 || strings.Count(r.Markdown, "\n- <https://") != len(sources) {
		t.Errorf("want the rule's %d source URLs listed", len(sources))
	}
	if !strings.Contains(r.Markdown, "\n- <"+sources[0]+">") {
		t.Errorf("first source %s (the law itself) not listed", sources[0])
	}
}

func TestRenderReportEveryObligation(t *testing.T) {
	// Every obligation a wide incident gives rise to renders without error and
	// with one section per content field.
	in := fullInput(t)
	in.Incident.Facts.Jurisdictions = []string{"DE", "GB", "CN", "US-CA", "US-TX", "US-FL", "US-NY", "CA", "AU", "SG", "BR", "IN"}
	in.Incident.Facts.Flags = []string{"essential_entity", "nydfs_regulated", "extortion_payment", "hipaa_covered_entity", "public_company", "financial_entity"}
	in.Incident.Obligations = obligations(t, in.Incident.Facts)
	if len(in.Incident.Obligations) < 30 {
		t.Fatalf("only %d obligations", len(in.Incident.Obligations))
	}
	for _, ob := range in.Incident.Obligations {
		in.Obligation = ob
		r, err := RenderReport(in)
		if err != nil {
			t.Fatalf("%s: %v", ob.ID, err)
		}
		if got := strings.Count(r.HTML, "<section id="); got != len(ob.ContentFields) {
			t.Errorf("%s: %d sections, want %d", ob.ID, got, len(ob.ContentFields))
		}
	}
}

func TestRenderReportErrors(t *testing.T) {
	in := fullInput(t)
	tests := map[string]func(*ReportInput){
		"no incident":      func(in *ReportInput) { in.Incident = nil },
		"no obligation id": func(in *ReportInput) { in.Obligation.ID = "" },
		"no time":          func(in *ReportInput) { in.GeneratedAt = time.Time{} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			bad := in
			mutate(&bad)
			if _, err := RenderReport(bad); err == nil || !strings.HasPrefix(err.Error(), "render report: ") {
				t.Errorf("err = %v, want a render report error", err)
			}
		})
	}
}

func TestCountJurisdictions(t *testing.T) {
	tests := []struct {
		name          string
		facts         breach.Facts
		wantTotal     int
		wantUncounted []string
	}{
		{name: "countries", facts: breach.Facts{Jurisdictions: []string{"DE", "FR"}, Affected: map[string]int{"DE": 1200, "FR": 300}}, wantTotal: 1500},
		{name: "subdivision inside its country", facts: breach.Facts{Affected: map[string]int{"US": 500, "US-CA": 200}}, wantTotal: 500},
		{name: "subdivisions only", facts: breach.Facts{Jurisdictions: []string{"US"}, Affected: map[string]int{"US-CA": 200, "US-TX": 1000}}, wantTotal: 1200},
		{name: "uncounted jurisdiction", facts: breach.Facts{Jurisdictions: []string{"DE", "FR", "US-CA"}, Affected: map[string]int{"DE": 10}}, wantTotal: 10, wantUncounted: []string{"FR", "US-CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, total, uncounted := countJurisdictions(tt.facts)
			if total != tt.wantTotal || !slices.Equal(uncounted, tt.wantUncounted) {
				t.Errorf("total %d uncounted %q, want %d %q", total, uncounted, tt.wantTotal, tt.wantUncounted)
			}
		})
	}
}

// TestRenderReportAssumedDiscovery: a discovery time breachflow assumed
// at launch is shown as an assumption, not as a finding; once stated it
// is shown plain.
func TestRenderReportAssumedDiscovery(t *testing.T) {
	in := fullInput(t)
	in.Obligation.ContentFields = []string{"timing"}
	in.Incident.Facts.DiscoveredAt = ptr(in.Incident.Facts.AwareAt)
	in.Incident.Facts.Assumed = []string{"discovered_at"}
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, []sectionText{{"Timing", "08:00 UTC) (assumed to be the time of awareness; not yet established)"}}, nil)
	in.Incident.Facts.Assumed = nil
	if r, err = RenderReport(in); err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, nil, []sectionText{{"Timing", "assumed"}})
}
