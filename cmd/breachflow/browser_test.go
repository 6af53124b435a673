package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findChromium returns a headless-capable Chromium, skipping the test when
// there is none (failing under CI, whose .ci/run installs Debian's).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH; .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); the browser test needs it")
	return ""
}

// page is one headless Chromium driving the dashboard.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (p page) run(what string, actions ...chromedp.Action) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var html string
		_ = chromedp.Run(p.ctx, chromedp.OuterHTML("main", &html, chromedp.ByQuery))
		p.t.Fatalf("%s: %v\npage main:\n%s", what, err, html)
	}
}

// open navigates to path and returns the HTTP status of the document.
func (p page) open(path string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 45*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(p.base+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return int(resp.Status)
}

func (p page) text(sel string) string {
	p.t.Helper()
	var s string
	p.run("text of "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

func (p page) count(sel string) int {
	p.t.Helper()
	var nodes []*cdp.Node
	p.run("count "+sel, chromedp.Nodes(sel, &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0)))
	return len(nodes)
}

// signIn submits the sign-in form and waits for the page it leads to:
// one that shows the signed-in user, or (then) the form's error.
func (p page) signIn(token string, then ...string) {
	p.t.Helper()
	wait := ".who .user"
	if len(then) > 0 {
		wait = then[0]
	}
	p.open("/login")
	p.run("sign in", chromedp.WaitVisible("#token", chromedp.ByQuery),
		chromedp.SendKeys("#token", token, chromedp.ByQuery),
		chromedp.Submit("#login-form", chromedp.ByQuery),
		chromedp.WaitVisible(wait, chromedp.ByQuery))
}

func (p page) signOut() {
	p.t.Helper()
	p.run("sign out", chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible("#token", chromedp.ByQuery))
}

// screenshot writes docs/img/name when BREACHFLOW_WRITE_SCREENSHOTS=1.
func (p page) screenshot(name string) {
	p.t.Helper()
	if os.Getenv("BREACHFLOW_WRITE_SCREENSHOTS") != "1" {
		return
	}
	var buf []byte
	p.run("screenshot "+name, chromedp.FullScreenshot(&buf, 100)) // quality 100 is PNG
	path := filepath.Join("..", "..", "docs", "img", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("wrote %s (%d bytes)", path, len(buf))
}

// TestDashboardInBrowser drives the web dashboard in headless Chromium
// against the real dev stack: sign-in, the incident list, filing from the
// deadline board, completing a step, a viewer's read-only view, a form
// posted without its CSRF token, and an unknown incident.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and a browser")
	}
	chromium := findChromium(t)
	started := time.Now()
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	api := apiClient{t: t, base: "http://" + stack.httpAddr}
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "Rita Responder", breach.RoleResponder)
	legal, _, _ := stack.store.CreateToken(ctx, "Lena Legal", breach.RoleLegal)
	viewer, _, _ := stack.store.CreateToken(ctx, "Vic Viewer", breach.RoleViewer)

	launch := func(title, severity string, aware time.Duration, jurs ...string) string {
		t.Helper()
		code, inc := api.do("POST", "/v1/incidents", responder, map[string]any{
			"playbook": "customer-data-breach", "title": title, "severity": severity,
			"aware_at":        time.Now().Add(-aware).UTC().Format(time.RFC3339),
			"data_categories": []string{"contact", "financial"}, "jurisdictions": jurs,
		}, nil)
		if code != 201 {
			t.Fatalf("launch: %d %v", code, inc)
		}
		return inc["id"].(string)
	}
	id := launch("CRM export on a public bucket", "high", 2*time.Hour, "DE", "US-CA")
	other := launch("Ransom note on the file server", "critical", 67*time.Hour, "FR")
	// Aware 74 hours ago: overdue at once, so the clock escalates by mail.
	late := launch("Payroll export mailed to the wrong client", "medium", 74*time.Hour, "IE")
	onBoard := func(id, ob string) bool {
		_, body := api.do("GET", "/v1/deadlines?incident="+id, viewer, nil, nil)
		return strings.Contains(fmt.Sprint(body["deadlines"]), "obligation:"+ob+" ")
	}
	eventually(t, 30*time.Second, "gdpr-art33 on the deadline index", func() bool {
		return onBoard(id, "gdpr-art33") && onBoard(other, "gdpr-art33") && onBoard(late, "gdpr-art33")
	})
	stepState := func(step string) string { return api.stepState(viewer, id, step) }
	eventually(t, 30*time.Second, "triage ready", func() bool { return stepState("triage") == "ready" })

	p := newPage(t, chromium, "http://"+stack.httpAddr)
	browserUp := time.Now()

	// Signed out, a page sends the browser to sign in; a wrong token is
	// refused with a message.
	p.open("/board")
	p.run("sign-in form", chromedp.WaitVisible("#token", chromedp.ByQuery))
	p.checkAccessible("sign-in page")
	p.signIn("bf_wrongwrongwrongwrong", "#login-error")
	if msg := p.text("#login-error"); !strings.Contains(msg, "unknown, revoked, expired or mistyped") {
		t.Fatalf("wrong token message = %q", msg)
	}

	// Legal signs in and lands on the deadline board, where both incidents'
	// GDPR duties are, soonest first and coloured by urgency.
	p.signIn(legal)
	p.run("board", chromedp.WaitVisible("#ob-"+id+"-gdpr-art33", chromedp.ByQuery))
	if got := p.text(".who .user"); !strings.Contains(got, "Lena Legal") || !strings.Contains(got, "legal") {
		t.Fatalf("signed-in user shown as %q", got)
	}
	var cls string
	p.run("urgency class", chromedp.AttributeValue("#ob-"+other+"-gdpr-art33", "class", &cls, nil, chromedp.ByQuery))
	if cls != "u-urgent" {
		t.Errorf("a duty due in 5 h has class %q, want u-urgent", cls)
	}
	p.run("overdue class", chromedp.AttributeValue("#ob-"+late+"-gdpr-art33", "class", &cls, nil, chromedp.ByQuery))
	if cls != "u-overdue" || !strings.HasPrefix(p.text("#ob-"+late+"-gdpr-art33 .countdown"), "overdue by 2h") {
		t.Errorf("a duty 2 h past its deadline has class %q and countdown %q", cls, p.text("#ob-"+late+"-gdpr-art33 .countdown"))
	}
	if p.count("table.board tbody tr:first-child#ob-"+late+"-gdpr-art33") != 1 {
		t.Error("the overdue duty is not first on the board")
	}
	countdown := p.text("#ob-" + id + "-gdpr-art33 .countdown")
	if !strings.HasPrefix(countdown, "2d 2") || !strings.HasSuffix(countdown, "left") {
		t.Errorf("countdown of a 72 h clock started 2 h ago = %q", countdown)
	}
	p.screenshot("deadline-board.png")
	p.checkAccessible("deadline board")

	// The launched incident is in the list.
	p.open("/incidents")
	p.run("incident list", chromedp.WaitVisible(`tr[data-incident="`+id+`"]`, chromedp.ByQuery))
	if row := p.text(`tr[data-incident="` + id + `"]`); !strings.Contains(row, "CRM export on a public bucket") || !strings.Contains(row, "high") {
		t.Errorf("incident row = %q", row)
	}

	// The draft report opens from the board.
	p.open("/board")
	p.run("draft report", chromedp.Click("#ob-"+id+"-gdpr-art33 a.btn", chromedp.ByQuery), chromedp.WaitVisible("h1", chromedp.ByQuery))
	var loc string
	p.run("report location", chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/incidents/"+id+"/obligations/gdpr-art33/report") || !strings.Contains(p.text("h1"), "GDPR") {
		t.Errorf("draft report at %s with heading %q", loc, p.text("h1"))
	}

	// The outbox (dev) lists the clock mail caught so far, addresses masked.
	eventually(t, 30*time.Second, "clock mail in the outbox", func() bool {
		p.open("/outbox")
		return p.count("table.outbox tbody tr") > 0
	})
	if body := p.text("main"); strings.Contains(body, "legal@localhost") || !strings.Contains(body, "l…@localhost") {
		t.Errorf("outbox recipients are not masked:\n%s", body)
	}

	// File the GDPR duty from the board: it leaves the board.
	p.open("/board")
	row := "#ob-" + id + "-gdpr-art33"
	p.run("record filing",
		chromedp.Click(row+" details.act summary.primary", chromedp.ByQuery),
		chromedp.WaitVisible(row+` form[data-action="file"] input[name="reference"]`, chromedp.ByQuery),
		chromedp.SendKeys(row+` form[data-action="file"] input[name="reference"]`, "BfDI-2026-0042", chromedp.ByQuery),
		chromedp.Click(row+` form[data-action="file"] button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#flash", chromedp.ByQuery))
	if msg := p.text("#flash"); !strings.Contains(msg, "Filing of gdpr-art33 recorded") {
		t.Fatalf("flash after filing = %q", msg)
	}
	eventually(t, 20*time.Second, "the filed duty to leave the board", func() bool {
		p.open("/board")
		return p.count(row) == 0 && p.count("#ob-"+other+"-gdpr-art33") == 1
	})
	_, st := api.do("GET", "/v1/incidents/"+id, viewer, nil, nil)
	if got := fmt.Sprint(st["obligations"]); !strings.Contains(got, "reference:BfDI-2026-0042") || !strings.Contains(got, "filed_by:Lena Legal") {
		t.Fatalf("the filing is not on the incident: %s", got)
	}
	p.signOut()

	// The responder completes triage on the incident page: the progress
	// view moves on.
	p.signIn(responder)
	p.open("/incidents/" + id)
	p.run("incident page", chromedp.WaitVisible("#step-triage form[data-action=complete]", chromedp.ByQuery))
	before := p.text("#step-count")
	if p.count(`#clocks figure.clock svg line.rem`) < 5 || p.count(`#clocks figure.clock svg line.now`) < 1 {
		t.Error("the clock bars lack reminder ticks or the now marker")
	}
	p.run("complete triage",
		chromedp.SendKeys("#step-triage input[name=note]", "Bucket confirmed public; owner paged", chromedp.ByQuery),
		chromedp.Click("#step-triage form[data-action=complete] button", chromedp.ByQuery),
		chromedp.WaitVisible(`#step-triage[data-state="done"]`, chromedp.ByQuery))
	after := p.text("#step-count")
	// Triage readies the two containment actions, which dev's action
	// recorder may have completed by the time the page is drawn again.
	if before == after || !(strings.HasPrefix(after, "1 of ") || strings.HasPrefix(after, "3 of ")) || !strings.HasPrefix(before, "0 of ") {
		t.Fatalf("step count %q → %q, want 0 → 1 done (3 with the recorded actions)", before, after)
	}
	if stepState("triage") != "done" {
		t.Fatal("the API does not show triage done")
	}
	if tl := p.text("#timeline"); !strings.Contains(tl, "Rita Responder") {
		t.Errorf("timeline lacks who completed the step: %q", tl)
	}
	p.run("add remediation",
		chromedp.Click("#remediation details.act summary", chromedp.ByQuery),
		chromedp.SendKeys(`#remediation input[name=title]`, "Block public ACLs on every bucket", chromedp.ByQuery),
		chromedp.SendKeys(`#remediation input[name=owner]`, "platform team", chromedp.ByQuery),
		chromedp.Click(`#remediation form[data-action=add-remediation] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#remediation ul.rems li`, chromedp.ByQuery))
	// The same rendered form submitted twice is applied once: its
	// idempotency key is the Update id.
	var statuses string
	p.run("double submit", chromedp.Evaluate(`(async () => {
		const f = document.querySelector("#remediation form[data-action=add-remediation]");
		const body = new URLSearchParams(new FormData(f));
		body.set("title", "Rotate the backup keys");
		const a = await fetch(f.action, {method: "POST", body});
		const b = await fetch(f.action, {method: "POST", body});
		return a.status + "," + b.status;
	})()`, &statuses, func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
	if statuses != "200,200" {
		t.Fatalf("double submit answered %s, want 200,200 after the redirects", statuses)
	}
	_, st = api.do("GET", "/v1/incidents/"+id, viewer, nil, nil)
	if n := strings.Count(fmt.Sprint(st["remediations"]), "Rotate the backup keys"); n != 1 {
		t.Fatalf("a double-submitted form added %d remediation items, want 1", n)
	}
	eventually(t, 30*time.Second, "contain-source ready", func() bool { return stepState("contain-source") == "ready" })
	p.open("/incidents/" + id)
	p.run("incident page again", chromedp.WaitVisible("#step-contain-source form", chromedp.ByQuery))
	if os.Getenv("BREACHFLOW_WRITE_SCREENSHOTS") == "1" {
		// The picture is of the other incident: its 72-hour clock is still
		// running, five hours from the deadline.
		eventually(t, 30*time.Second, "triage ready on "+other, func() bool { return api.stepState(viewer, other, "triage") == "ready" })
		base := "/v1/incidents/" + other
		if code, body := api.do("POST", base+"/steps/triage/complete", responder, map[string]any{"note": "Ransom note confirmed; servers isolated"}, nil); code != 200 {
			t.Fatalf("complete triage on %s: %d %v", other, code, body)
		}
		if code, body := api.do("POST", base+"/remediations", responder, map[string]any{"title": "Restore the file server from the offline backup", "owner": "infra"}, nil); code != 201 {
			t.Fatalf("add remediation on %s: %d %v", other, code, body)
		}
		p.open("/incidents/" + other)
		p.run("screenshot page", chromedp.WaitVisible(`#step-triage[data-state="done"]`, chromedp.ByQuery))
		p.screenshot("incident-page.png")
	}

	// A form posted without its CSRF token is refused and changes nothing.
	var status int
	p.run("post without CSRF", chromedp.Evaluate(fmt.Sprintf(`fetch("/incidents/%s/steps/contain-source/complete",
		{method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "note=forged"}).then(r => r.status)`, id),
		&status, func(e *runtime.EvaluateParams) *runtime.EvaluateParams { return e.WithAwaitPromise(true) }))
	if status != 403 {
		t.Fatalf("POST without CSRF token: %d, want 403", status)
	}
	if s := stepState("contain-source"); s != "ready" {
		t.Fatalf("contain-source is %q after a CSRF-less post, want still ready", s)
	}

	// An unknown incident id: a 404 page.
	if code := p.open("/incidents/BR-ZZZZZZ"); code != 404 {
		t.Errorf("unknown incident: HTTP %d, want 404", code)
	}
	if h := p.text("main h1"); h != "No such incident" {
		t.Errorf("unknown incident page heading %q", h)
	}
	p.open("/incidents/" + id)
	p.signOut()

	// A viewer sees everything and no action button.
	p.signIn(viewer)
	p.run("viewer board", chromedp.WaitVisible("#ob-"+other+"-gdpr-art33", chromedp.ByQuery))
	// The jurisdiction filter is a GET form that changes nothing; it is
	// everyone's.
	if p.count("main form.filters[method=get]") != 1 {
		t.Error("the viewer's board has no jurisdiction filter")
	}
	if n := p.count("main form:not(.filters), main button:not(.filters button), main details.act"); n != 0 {
		t.Errorf("viewer's board has %d forms or buttons", n)
	}
	p.open("/incidents/" + id)
	p.run("viewer incident", chromedp.WaitVisible("#steps", chromedp.ByQuery))
	if n := p.count("main form, main button, main details.act"); n != 0 {
		t.Errorf("viewer's incident page has %d forms or buttons", n)
	}
	if p.count("#step-contain-source") != 1 || p.count("#clocks article.ob") == 0 {
		t.Error("viewer's incident page lacks the steps or the clocks")
	}

	// Two-person control on the page: legal's approval of the notice
	// waits for a second legal person, and the step says who approved
	// and who is still needed.
	p.signOut()
	if code, body := api.do("PATCH", "/v1/incidents/"+id, stack.token, map[string]any{"affected": map[string]int{"DE": 10, "US-CA": 5}, "risk": "high"}, nil); code != 200 {
		t.Fatalf("patch: %d %v", code, body)
	}
	for _, step := range []string{"contain-source", "preserve-evidence", "scope-impact", "assess-risk", "draft-notice"} {
		eventually(t, 30*time.Second, step+" ready", func() bool { return stepState(step) == "ready" })
		if code, body := api.do("POST", "/v1/incidents/"+id+"/steps/"+step+"/complete", stack.token, map[string]any{"note": "done"}, nil); code != 200 {
			t.Fatalf("complete %s: %d %v", step, code, body)
		}
	}
	eventually(t, 30*time.Second, "approve-notice ready", func() bool { return stepState("approve-notice") == "ready" })
	p.signIn(legal)
	p.open("/incidents/" + id)
	p.run("approve the notice", chromedp.WaitVisible("#step-approve-notice form[data-action=decide]", chromedp.ByQuery),
		chromedp.Click(`#step-approve-notice button[value=approve]`, chromedp.ByQuery),
		chromedp.WaitVisible("#step-approve-notice [data-needs]", chromedp.ByQuery))
	if got := p.text("#step-approve-notice [data-approvals]"); !strings.Contains(got, "approved by Lena Legal (legal,") {
		t.Errorf("approvals shown as %q", got)
	}
	if got := p.text("#step-approve-notice [data-needs]"); got != "needs 1 more approval (legal), not by Lena Legal" {
		t.Errorf("still needed shown as %q", got)
	}
	if got := p.text("#step-approve-notice .state"); got != "waiting for 1 of 2 approvals" {
		t.Errorf("approve-notice state shown as %q", got)
	}
	legal2, _, _ := stack.store.CreateToken(ctx, "Li Legal", breach.RoleLegal)
	if code, body := api.do("POST", "/v1/incidents/"+id+"/steps/approve-notice/decide", legal2, map[string]any{"decision": "approve"}, nil); code != 200 {
		t.Fatalf("second legal approval: %d %v", code, body)
	}
	p.open("/incidents/" + id)
	p.run("notice released", chromedp.WaitVisible(`#step-approve-notice[data-state="done"]`, chromedp.ByQuery))
	if got := p.text("#step-approve-notice [data-approvals]"); !strings.Contains(got, "Lena Legal") || !strings.Contains(got, "Li Legal") ||
		p.count("#step-approve-notice [data-needs]") != 0 {
		t.Errorf("released notice shows approvals %q and %d needs", got, p.count("#step-approve-notice [data-needs]"))
	}

	// Access grants on the page: legal approves a responder's request to
	// read the customers' contacts; their own request has no button.
	code, grant := api.do("POST", "/v1/incidents/"+id+"/grants", responder, map[string]any{"reason": "call the key accounts", "duration": "1h"}, nil)
	if code != 201 {
		t.Fatalf("grant request: %d %v", code, grant)
	}
	if code, _ := api.do("POST", "/v1/incidents/"+id+"/grants", legal, map[string]any{"reason": "check the list", "duration": "30m"}, nil); code != 201 {
		t.Fatalf("legal's grant request: %d", code)
	}
	gid := fmt.Sprint(grant["id"])
	p.open("/incidents/" + id)
	p.run("grants", chromedp.WaitVisible("#grant-"+gid+" form[data-action=approve-grant]", chromedp.ByQuery))
	if got := p.text("#grant-" + gid + " [data-needs]"); !strings.Contains(got, "second person with the legal role (not Rita Responder)") {
		t.Errorf("grant needs shown as %q", got)
	}
	if n := p.count("#grants li[data-status=requested] form"); n != 1 {
		t.Errorf("%d approve buttons, want 1 (none on Lena's own request)", n)
	}
	p.run("approve the grant", chromedp.Click("#grant-"+gid+" form[data-action=approve-grant] button", chromedp.ByQuery),
		chromedp.WaitVisible(`#grant-`+gid+`[data-status="approved"]`, chromedp.ByQuery))
	if code, body := api.do("GET", "/v1/incidents/"+id+"/outreach", responder, nil, nil); code != 200 {
		t.Errorf("the responder's read on the grant Lena approved: %d %v", code, body)
	}

	if os.Getenv("BREACHFLOW_WRITE_SCREENSHOTS") == "1" {
		p.run("phone size", chromedp.EmulateViewport(390, 844))
		p.open("/board")
		p.run("phone board", chromedp.WaitVisible("#ob-"+other+"-gdpr-art33", chromedp.ByQuery))
		p.screenshot("deadline-board-phone.png")
	}
	t.Logf("browser test: stack %s, browser part %s", browserUp.Sub(started).Round(time.Millisecond), time.Since(browserUp).Round(time.Millisecond))
}

// newPage starts headless Chromium for the test (closed with it) and
// returns a page on base. The browser is started on its own context: a
// first Run on a context with a timeout would tie the browser's life to
// that timeout.
func newPage(t *testing.T, chromium, base string) page {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return page{t: t, ctx: bctx, base: base}
}
