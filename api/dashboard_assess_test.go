package api

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

// TestDashboardBoardFiltersByJurisdiction: ?jurisdiction=US-CA keeps
// California's duties; US keeps every state's; a bad code is a 400 page
// that says so. The filter is a plain GET form: no script needed.
func TestDashboardBoardFiltersByJurisdiction(t *testing.T) {
	e := newDashEnv(t)
	ctx := context.Background()
	due := func(d time.Duration) *time.Time { t := e.now.Add(d); return &t }
	if _, _, err := e.store.CreateIncident(ctx, store.Incident{ID: "BR-7K3F9Q", PlaybookID: "customer-data-breach",
		PlaybookVersion: 1, Severity: "high", CreatedBy: "t", CreatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutObligations(ctx, "BR-7K3F9Q", []store.ObligationRow{
		{ObligationID: "gdpr-art33", Regime: "GDPR Art. 33", Jurisdiction: "EU", Recipient: "regulator", RecipientName: "Lead DPA",
			Deadline: "72 hours", DueAt: due(70 * time.Hour), Status: store.ObligationPending},
		{ObligationID: "us-ca-ag", Regime: "Cal. Civ. Code 1798.82", Jurisdiction: "US-CA", Recipient: "regulator", RecipientName: "California AG",
			Deadline: "with the notices", DueAt: due(3 * time.Hour), Status: store.ObligationPending},
		{ObligationID: "us-tx-ag", Regime: "Tex. Bus. & Com. Code 521.053", Jurisdiction: "US-TX", Recipient: "regulator", RecipientName: "Texas AG",
			Deadline: "30 days", DueAt: due(30 * 24 * time.Hour), Status: store.ObligationPending},
	}); err != nil {
		t.Fatal(err)
	}
	c := e.browser()
	e.signIn(c, e.viewer)
	shows := func(page string) (out []string) {
		for _, id := range []string{"gdpr-art33", "us-ca-ag", "us-tx-ag"} {
			if strings.Contains(page, `id="ob-BR-7K3F9Q-`+id+`"`) {
				out = append(out, id)
			}
		}
		return out
	}
	for _, tc := range []struct{ filter, want string }{
		{"", "gdpr-art33,us-ca-ag,us-tx-ag"}, {"US-CA", "us-ca-ag"}, {"US", "us-ca-ag,us-tx-ag"}, {"EU", "gdpr-art33"}, {"FR", ""},
	} {
		resp, page := e.get(c, "/board?jurisdiction="+url.QueryEscape(tc.filter))
		if got := strings.Join(shows(page), ","); resp.StatusCode != 200 || got != tc.want {
			t.Errorf("?jurisdiction=%s: %d shows %q, want %q", tc.filter, resp.StatusCode, got, tc.want)
		}
		if tc.filter != "" && !strings.Contains(page, `<option value="`+tc.filter+`" selected>`) {
			t.Errorf("?jurisdiction=%s: the select does not keep the choice", tc.filter)
		}
	}
	resp, page := e.get(c, "/board?jurisdiction=XX-YY")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "is not an ISO 3166 code") {
		t.Errorf("a bad code: %d, want 400 saying so", resp.StatusCode)
	}
}

// TestDashboardAssess: the Assess page answers the example as a
// timeline without storing anything, names bad facts, refuses a POST
// without the CSRF token, and its launch button launches an incident
// with exactly the assessed facts.
func TestDashboardAssess(t *testing.T) {
	tc := &launchTemporal{}
	e := newDashEnvWith(t, func(d *Deps) { d.Temporal = tc })
	c := e.browser()
	csrf := e.signIn(c, e.admin)
	_, page := e.get(c, "/assess")
	if !strings.Contains(page, `id="assess-form"`) || !strings.Contains(page, `aria-current="page">Assess`) {
		t.Fatalf("no assess form:\n%s", page)
	}
	form := url.Values{"csrf": {csrf}, "aware_at": {"2026-11-24T09:00:00Z"}, "jurisdictions": {"US-CA, US-TX"},
		"affected": {"US-CA=600, US-TX=40"}, "data_categories": {"health"}}
	resp, page := e.post(c, "/assess", form)
	if resp.StatusCode != 200 {
		t.Fatalf("assess: %d\n%s", resp.StatusCode, page)
	}
	timeline := page[strings.Index(page, `id="assess-timeline"`):]
	ca, tx := strings.Index(timeline, `data-obligation="us-ca-residents"`), strings.Index(timeline, `data-obligation="us-tx-individuals"`)
	if ca < 0 || tx < ca || !strings.Contains(timeline, "2026-12-25") || !strings.Contains(timeline, "waiting for determined_at") {
		t.Fatalf("the timeline does not show California due first and Texas waiting:\n%s", timeline)
	}
	if !strings.Contains(page, `value="health" checked`) || !strings.Contains(page, `value="US-CA=600, US-TX=40"`) {
		t.Error("the form does not keep what was entered")
	}
	if rows, _ := e.store.ListDeadlines(context.Background(), store.DeadlineFilter{}); len(rows) != 0 {
		t.Errorf("assessing stored %d obligations", len(rows))
	}
	bad := url.Values{"csrf": {csrf}, "jurisdictions": {"US-CA"}, "flags": {"evil"}}
	if resp, page := e.post(c, "/assess", bad); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "flags[0]") || !strings.Contains(page, "hipaa_covered_entity") {
		t.Errorf("a bad flag: %d, want 422 naming flags[0] with the accepted flags", resp.StatusCode)
	}
	if resp, _ := e.post(c, "/assess", url.Values{"aware_at": {"2026-11-24T09:00:00Z"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("assess without CSRF: %d, want 403", resp.StatusCode)
	}

	// Launch with exactly these facts.
	_, page = e.post(c, "/assess", form)
	facts := regexp.MustCompile(`name="facts" value="([^"]+)"`).FindStringSubmatch(page)
	if facts == nil {
		t.Fatalf("no launch form:\n%s", page)
	}
	launch := url.Values{"csrf": {csrf}, "idem": {"k1"}, "facts": {html.UnescapeString(facts[1])},
		"playbook": {"customer-data-breach"}, "title": {"Clinic export"}, "severity": {"high"}}
	resp, body := e.post(c, "/assess/launch", launch)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/incidents/BR-") {
		t.Fatalf("launch: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/incidents/")
	st := tc.started[id]
	if st == nil || !st.Facts.AwareAt.Equal(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)) || st.Facts.Affected["US-CA"] != 600 ||
		st.Facts.Affected["US-TX"] != 40 || strings.Join(st.Facts.DataCategories, ",") != "health" || strings.Join(st.Facts.Jurisdictions, ",") != "US-CA,US-TX" {
		t.Fatalf("launched with %+v, want the assessed facts", st)
	}
	if inc, err := e.store.GetIncident(context.Background(), id); err != nil || inc.Severity != "high" {
		t.Fatalf("the launch is not recorded: %+v %v", inc, err)
	}
	// A viewer sees the duties but no launch button, and may not launch.
	v := e.browser()
	vcsrf := e.signIn(v, e.viewer)
	form.Set("csrf", vcsrf)
	if _, page := e.post(v, "/assess", form); strings.Contains(page, `id="assess-launch"`) || !strings.Contains(page, `id="assess-timeline"`) {
		t.Error("a viewer is offered the launch button, or sees no timeline")
	}
	launch.Set("csrf", vcsrf)
	if resp, _ := e.post(v, "/assess/launch", launch); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's launch: %d, want 403", resp.StatusCode)
	}
}
