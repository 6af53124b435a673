package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/chromedp/chromedp"
)

// TestTriageInBrowser works the triage queue in headless Chromium against
// the dev stack: a responder launches a playbook from one alert (landing
// on the new incident, whose timeline shows the alert) and dismisses the
// other with a reason, until nothing waits.
func TestTriageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and a browser")
	}
	chromium := findChromium(t)
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	base := "http://" + stack.httpAddr
	for _, host := range []string{"db-1", "db-2"} {
		code, out := postAlert(t, base, docSourceToken, "/v1/alerts",
			[]byte(`{"title":"Unusual export volume on `+host+`","severity":"medium","labels":{"host":"`+host+`"},"occurred_at":"2026-11-23T02:00:00Z"}`))
		if code != http.StatusAccepted {
			t.Fatalf("alert: %d %v", code, out)
		}
	}
	responder, _, _ := stack.store.CreateToken(context.Background(), "Rita Responder", breach.RoleResponder)

	p := newPage(t, chromium, base)
	p.signIn(responder)
	p.run("nav link", chromedp.Click(`nav a[href="/triage"]`, chromedp.ByQuery), chromedp.WaitVisible(`tr[data-alert="1"]`, chromedp.ByQuery))
	if n := p.count(`table.triage tbody tr`); n != 2 {
		t.Fatalf("%d alerts in the queue, want 2", n)
	}
	p.run("launch", chromedp.SetValue(`tr[data-alert="1"] form[data-action="launch"] select[name="playbook"]`, "insider-exfiltration", chromedp.ByQuery),
		chromedp.SendKeys(`tr[data-alert="1"] form[data-action="launch"] input[name="jurisdictions"]`, "DE", chromedp.ByQuery),
		chromedp.Click(`tr[data-alert="1"] form[data-action="launch"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(".inc-head", chromedp.ByQuery))
	var url string
	p.run("location", chromedp.Location(&url))
	if !strings.Contains(url, "/incidents/BR-") || !strings.Contains(p.text("main"), "alert.launched") ||
		!strings.Contains(p.text("main"), "Unusual export volume on db-1") {
		t.Fatalf("after launch at %s:\n%s", url, p.text("main"))
	}
	p.open("/triage")
	p.run("dismiss", chromedp.SendKeys(`tr[data-alert="2"] form[data-action="dismiss"] input[name="reason"]`, "load test, planned", chromedp.ByQuery),
		chromedp.Click(`tr[data-alert="2"] form[data-action="dismiss"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(".empty", chromedp.ByQuery))
	if !strings.Contains(p.text("#flash"), "Alert #2 dismissed") {
		t.Fatalf("after dismissal:\n%s", p.text("body"))
	}
	a, err := stack.store.GetAlert(context.Background(), 1)
	if err != nil || a.State != "launched" || a.DecidedBy != "Rita Responder" || a.DecidedAt == nil || time.Since(*a.DecidedAt) > time.Minute {
		t.Fatalf("alert 1 = %+v, %v", a, err)
	}
}
