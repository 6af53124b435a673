package templates

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
)

// TestRenderReportCountsChannels: the notice sections count customers by
// the channel that reached them — email, letter, substitute notice, or
// failed with a recorded reason — each on its own line, in all and in the
// obligation's jurisdiction; without counts they say nothing of them.
func TestRenderReportCountsChannels(t *testing.T) {
	in := fullInput(t)
	in.Obligation.Jurisdiction = "US-CA"
	in.Obligation.ContentFields = []string{"individual_notice", "channel"}
	in.Reach = map[string]breach.Reach{
		"US-CA": {Email: 1200, Letter: 40, Substitute: 7, Failed: 3},
		"US-NY": {Email: 300, Letter: 2, Failed: 1},
		"CN":    {Email: 5, Letter: 1, Failed: 2, Pending: 4},
	}
	r, err := RenderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []sectionText{
		{"Notice to individuals", "Customers reached by email | 1,505 (US-CA: 1,200)"},
		{"Notice to individuals", "Customers reached by letter | 43 (US-CA: 40)"},
		{"Notice to individuals", "Customers covered by substitute notice | 7 (US-CA: 7)"},
		{"Notice to individuals", "Customers not reached (failed, reason recorded) | 6 (US-CA: 3)"},
		{"Notice to individuals", "Customers not reached yet (sending, or waiting for a letter) | 4 (US-CA: 0)"},
		{"Notification channel", "Customers reached by letter | 43 (US-CA: 40)"},
		{"Notification channel", "Letter by post"},
	}
	checkRows(t, r, want)

	// A national obligation counts the country's subdivisions; with no
	// customer of it, totals only.
	in.Obligation.Jurisdiction = "US"
	if r, err = RenderReport(in); err != nil {
		t.Fatal(err)
	}
	checkRows(t, r, []sectionText{{"Notice to individuals", "Customers reached by email | 1,505 (US: 1,500)"}})
	in.Obligation.Jurisdiction = "EU"
	if r, err = RenderReport(in); err != nil {
		t.Fatal(err)
	}
	checkRows(t, r, []sectionText{{"Notice to individuals", "Customers reached by email | 1,505"}})

	in.Reach = map[string]breach.Reach{"US-CA": {Email: 10}}
	if r, err = RenderReport(in); err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, nil, []sectionText{{"Notice to individuals", "not reached yet"}})
	in.Reach = nil
	if r, err = RenderReport(in); err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, nil, []sectionText{{"Notice to individuals", "Customers reached"}, {"Notification channel", "Customers reached"}})
}

// checkRows finds each "Label | value" as the row "- **Label:** value" of
// its section in the Markdown, the whole line.
func checkRows(t *testing.T, r *Report, rows []sectionText) {
	t.Helper()
	for _, w := range rows {
		label, value, ok := strings.Cut(w.text, " | ")
		sec := sectionOf(t, r.Markdown, w.section)
		if !ok {
			if !strings.Contains(sec, w.text) {
				t.Errorf("section %q lacks %q:\n%s", w.section, w.text, sec)
			}
			continue
		}
		if line := "- **" + label + ":** " + value + "\n"; !strings.Contains(sec, line) {
			t.Errorf("section %q lacks the line %q:\n%s", w.section, line, sec)
		}
	}
}
