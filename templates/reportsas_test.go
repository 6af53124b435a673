package templates

import (
	"regexp"
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/playbooks"
)

// Sections of the GDPR Art. 33 report that read step notes.
const (
	secTiming       = "Timing"
	secCause        = "Nature and cause of the breach"
	secConsequences = "Likely consequences"
	secMeasures     = "Measures taken or proposed"
)

// Notes of fullInput's steps, and the line the timing shows once containment is known.
const (
	containNote   = "Bucket made private at 10:12 UTC; public links revoked."
	assessNote    = "High risk: payment data was downloaded by unknown parties; fraud and phishing are likely."
	containedSpan = "11h20m from occurrence to containment"
)

// withStep rewrites the step of inc with id old: a new id and reports_as.
func withStep(t *testing.T, inc *breach.Status, old, id, reportsAs string) {
	t.Helper()
	for i := range inc.Steps {
		if inc.Steps[i].ID == old {
			inc.Steps[i].ID, inc.Steps[i].ReportsAs = id, reportsAs
			return
		}
	}
	t.Fatalf("no step %q", old)
}

// sectionOf returns the Markdown of the numbered section with this title.
func sectionOf(t *testing.T, markdown, title string) string {
	t.Helper()
	loc := regexp.MustCompile(`(?m)^## \d+\. ` + regexp.QuoteMeta(title) + `( \(missing\))?$`).FindStringIndex(markdown)
	if loc == nil {
		t.Fatalf("no section %q in:\n%s", title, markdown)
	}
	rest := markdown[loc[1]:]
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// sectionText is text expected (or not) in a section of the report.
type sectionText struct{ section, text string }

func checkReport(t *testing.T, r *Report, has, hasNot []sectionText) {
	t.Helper()
	for _, w := range has {
		if !strings.Contains(sectionOf(t, r.Markdown, w.section), md(w.text)) {
			t.Errorf("section %q lacks %q:\n%s", w.section, w.text, sectionOf(t, r.Markdown, w.section))
		}
	}
	for _, w := range hasNot {
		if strings.Contains(sectionOf(t, r.Markdown, w.section), md(w.text)) {
			t.Errorf("section %q has %q", w.section, w.text)
		}
	}
}

// TestRenderReportReadsReportsAs: the report finds containment and assessment
// notes by what the steps report as, not by their ids.
func TestRenderReportReadsReportsAs(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(t *testing.T, inc *breach.Status)
		has, hasNot []sectionText
	}{
		{"renamed steps that declare their role", func(t *testing.T, inc *breach.Status) {
			withStep(t, inc, "contain-source", "stop-the-leak", playbooks.ReportsContainment)
			withStep(t, inc, "assess-risk", "weigh-the-harm", playbooks.ReportsAssessment)
		}, []sectionText{{secMeasures, containNote}, {secTiming, containedSpan}, {secConsequences, assessNote}}, nil},
		{"renamed steps that declare nothing", func(t *testing.T, inc *breach.Status) {
			withStep(t, inc, "contain-source", "stop-the-leak", "")
			withStep(t, inc, "assess-risk", "weigh-the-harm", "")
		}, []sectionText{{secTiming, "not yet recorded as contained"}},
			[]sectionText{{secMeasures, containNote}, {secTiming, containedSpan}, {secConsequences, assessNote}}},
		{"a declared role wins over a legacy id", func(t *testing.T, inc *breach.Status) {
			withStep(t, inc, "contain-source", "contain-source", playbooks.ReportsMitigation)
			withStep(t, inc, "assess-risk", "assess-risk", playbooks.ReportsCause)
		}, []sectionText{{secMeasures, containNote}, {secTiming, "not yet recorded as contained"}, {secCause, assessNote}},
			[]sectionText{{secTiming, containedSpan}, {secConsequences, assessNote}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fullInput(t)
			tt.edit(t, in.Incident)
			r, err := RenderReport(in)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, r, tt.has, tt.hasNot)
		})
	}
}

// TestRenderReportLegacyStepIDs: a status whose steps carry no reports_as
// (from a worker older than the attribute) still reports the shipped
// playbooks' steps by their ids.
func TestRenderReportLegacyStepIDs(t *testing.T) {
	in := fullInput(t)
	for _, st := range in.Incident.Steps {
		if st.ReportsAs != "" {
			t.Fatalf("fixture step %s declares reports_as %q; this test needs none", st.ID, st.ReportsAs)
		}
	}
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Missing) != 0 {
		t.Errorf("Missing = %q, want none", r.Missing)
	}
	checkReport(t, r, []sectionText{{secMeasures, containNote}, {secTiming, containedSpan}, {secConsequences, assessNote},
		{secCause, "Bucket made public by a misapplied storage policy on 22 Nov."}}, nil)
}

// TestRenderNoticeReadsReportsAs: the notice says the breach was stopped when
// the step that reports as containment is done, whatever its id.
func TestRenderNoticeReadsReportsAs(t *testing.T) {
	l := enNotice()
	for _, tc := range []struct {
		id, reportsAs string
		contained     bool
	}{
		{"stop-the-leak", playbooks.ReportsContainment, true},
		{"contain-source", "", true}, // legacy id, no attribute
		{"stop-the-leak", "", false},
	} {
		in := noticeInput(t, "en", "")
		withStep(t, in.Incident, "contain-source", tc.id, tc.reportsAs)
		n := renderNotice(t, in)
		if got := strings.Contains(n.Text, "We stopped it on 23 November 2026."); got != tc.contained {
			t.Errorf("%s reports_as %q: notice says stopped = %v, want %v", tc.id, tc.reportsAs, got, tc.contained)
		}
		if got := strings.Contains(n.Text, l.doingContaining); got == tc.contained {
			t.Errorf("%s reports_as %q: says still containing = %v, want %v", tc.id, tc.reportsAs, got, !tc.contained)
		}
	}
}
