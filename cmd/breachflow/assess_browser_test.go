package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/chromedp/chromedp"
)

// TestAssessInBrowser fills the dashboard's Assess form in headless
// Chromium (the example), reads the duties' timeline, and
// launches an incident with exactly those facts.
func TestAssessInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and a browser")
	}
	chromium := findChromium(t)
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "Rita Responder", breach.RoleResponder)
	p := newPage(t, chromium, "http://"+stack.httpAddr)
	p.signIn(responder)
	p.open("/assess")
	aware := time.Now().Add(-6 * 24 * time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	p.run("fill the facts",
		chromedp.SetValue(`input[name="aware_at"]`, aware, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="jurisdictions"]`, "US-CA, US-TX", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="affected"]`, "US-CA=600, US-TX=40", chromedp.ByQuery),
		chromedp.Click(`input[name="data_categories"][value="health"]`, chromedp.ByQuery),
		chromedp.Click(`#assess-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#assess-timeline", chromedp.ByQuery))
	timeline := p.text("#assess-timeline")
	if !strings.Contains(timeline, "+30d") || !strings.Contains(timeline, "waiting for determined_at") {
		t.Fatalf("timeline:\n%s", timeline)
	}
	if missing := p.text("#assess-missing"); !strings.Contains(missing, "determined_at") {
		t.Errorf("missing facts: %s", missing)
	}
	p.run("launch with these facts",
		chromedp.SendKeys(`#assess-launch input[name="title"]`, "Clinic export", chromedp.ByQuery),
		chromedp.Click(`#assess-launch button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#flash", chromedp.ByQuery))
	if flash := p.text("#flash"); !strings.Contains(flash, "with the assessed facts") {
		t.Fatalf("flash after launch: %s", flash)
	}
	var loc string
	p.run("location", chromedp.Location(&loc))
	id := loc[strings.LastIndex(loc, "/")+1:]
	api := apiClient{t: t, base: p.base}
	_, st := api.do("GET", "/v1/incidents/"+id, responder, nil, nil)
	facts, _ := st["facts"].(map[string]any)
	affected, _ := facts["affected"].(map[string]any)
	if facts["aware_at"] != aware || affected["US-CA"] != 600.0 || affected["US-TX"] != 40.0 || len(affected) != 2 ||
		obligation(st, "us-ca-residents") == nil {
		t.Fatalf("the launched incident's facts %v, want those assessed", facts)
	}
}
