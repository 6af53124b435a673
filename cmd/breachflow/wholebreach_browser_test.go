package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/chromedp/chromedp"
)

// reach opens path until sel is on it: the workflow moves on its own time.
func (p page) reach(path, sel, what string) {
	p.t.Helper()
	eventually(p.t, 60*time.Second, what, func() bool {
		p.open(path)
		return p.count(sel) > 0
	})
}

// submit clicks a form's button and answers the flash of the page the
// post redirects to.
func (p page) submit(what, button string) string {
	p.t.Helper()
	p.run(what, chromedp.Evaluate(`document.querySelectorAll("#flash").forEach(e => e.remove())`, nil),
		chromedp.Click(button, chromedp.ByQuery), chromedp.WaitVisible("#flash", chromedp.ByQuery))
	return p.text("#flash")
}

// fitsPhone fails the test when the page body scrolls sideways at the
// width the page has now (390 px: a phone).
func (p page) fitsPhone(what string) {
	p.t.Helper()
	var wide int
	p.run("width of "+what, chromedp.Evaluate(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &wide))
	if wide > 0 {
		var culprits []string
		p.run("wide elements", chromedp.Evaluate(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 &&
			!(e.parentElement && e.parentElement.getBoundingClientRect().right > document.documentElement.clientWidth + 1)).slice(0, 5).map(e => e.outerHTML.slice(0, 160))`, &culprits))
		p.t.Errorf("%s scrolls sideways by %d px at phone width; widest:\n\t%s", what, wide, strings.Join(culprits, "\n\t"))
	}
}

// TestWholeBreachInBrowser carries a restricted incident from launch to
// close with the dashboard alone — no API call: launch, customer upload,
// facts, the steps, the notice's texts and preview per locale, the
// remedy-code pool for the Californian customer imported on the notice
// page, two legal approvals of one version (a change of wording in between
// takes the first back), the outreach call list under a two-person access grant,
// sending, filing, remediation and close; an admin manages its members
// and makes a token shown once; the viewer's time zone is remembered;
// every page passes axe-core and fits a phone.
func TestWholeBreachInBrowser(t *testing.T) {
	chromium := findChromium(t)
	// The replay key: the run is saved for the replay test.
	stack, _ := replayStack(t)
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	lena, _, _ := stack.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)
	li, _, _ := stack.store.CreateToken(ctx, "li-legal", breach.RoleLegal)
	p := newPage(t, chromium, "http://"+stack.httpAddr)

	// Launch: a restricted incident whose members are legal's two people
	// (members are principals without spaces: the token names here).
	p.signIn(responder)
	p.open("/launch")
	p.run("launch form", chromedp.WaitVisible("#launch-form", chromedp.ByQuery))
	p.checkAccessible("launch page")
	p.run("fill the launch form",
		chromedp.Click("#pb-customer-data-breach", chromedp.ByQuery),
		chromedp.SendKeys("#launch-title", "CRM export on a public bucket", chromedp.ByQuery),
		chromedp.SetValue("#launch-severity", "high", chromedp.ByQuery),
		chromedp.SendKeys("#fact-jurisdictions", "DE, US-CA", chromedp.ByQuery),
		chromedp.Click(`#fact-data_categories input[value="contact"]`, chromedp.ByQuery),
		chromedp.Click("#launch-restricted", chromedp.ByQuery),
		chromedp.SendKeys("#launch-members", "lena-legal, li-legal", chromedp.ByQuery))
	if msg := p.submit("launch", "#launch-submit"); !strings.HasPrefix(msg, "Launched BR-") {
		t.Fatalf("launch flash = %q", msg)
	}
	var loc string
	p.run("incident location", chromedp.Location(&loc))
	id := regexp.MustCompile(`BR-[0-9A-Z]+$`).FindString(loc)
	if id == "" {
		t.Fatalf("launch led to %s, not an incident page", loc)
	}
	inc := "/incidents/" + id
	p.checkAccessible("incident page")

	// Customers: one high-tier German customer (with an account manager),
	// one in Chinese, one Californian, whom the playbook offers credit
	// monitoring: legal imports the code pool on the notice page below.
	csv := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(csv, []byte("external_id,name,email,locale,country,subdivision,tier,account_manager\n"+
		"C-1,Anna Keller,anna.keller@example.com,en,DE,,high,Max Manager\n"+
		"C-2,Wang Fang,wang.fang@example.com,zh-CN,DE,,low,\n"+
		"C-3,Carl Diaz,carl.diaz@example.com,en,US,US-CA,medium,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.run("upload customers", chromedp.WaitVisible("#subjects-file", chromedp.ByQuery),
		chromedp.SetUploadFiles("#subjects-file", []string{csv}, chromedp.ByQuery),
		chromedp.Click("#subjects-upload", chromedp.ByQuery),
		chromedp.WaitVisible("#import-report", chromedp.ByQuery))
	if got := p.text("#import-accepted"); got != "3" {
		t.Fatalf("import accepted %q customers, want 3", got)
	}
	p.checkAccessible("import report")

	complete := func(step string) {
		t.Helper()
		p.reach(inc, "#step-"+step+" form[data-action=complete]", step+" ready")
		if msg := p.submit("complete "+step, "#step-"+step+" form[data-action=complete] button"); !strings.Contains(msg, "Step "+step+" completed") {
			t.Fatalf("complete %s: %q", step, msg)
		}
	}
	for _, step := range []string{"triage", "contain-source", "preserve-evidence", "scope-impact"} {
		complete(step)
	}
	p.signOut()

	// Facts: legal sets the risk, sees what it does to the clocks, saves.
	p.signIn(lena)
	p.reach(inc, "#step-assess-risk[data-state=ready]", "assess-risk ready")
	p.run("risk high", chromedp.SetValue("#fact-risk", "high", chromedp.ByQuery), chromedp.Click("#facts-preview", chromedp.ByQuery),
		chromedp.WaitVisible("#facts-save", chromedp.ByQuery))
	p.checkAccessible("facts preview")
	if msg := p.submit("save the risk", "#facts-save"); strings.Contains(msg, "rror") {
		t.Fatalf("saving the risk: %q", msg)
	}
	complete("assess-risk")

	// The notice: legal writes both locales' texts on the notice page and
	// reads each as a (sample) customer receives it.
	notices := inc + "/notices"
	writeTexts := func(locale, happened, doing string) {
		t.Helper()
		p.open(notices)
		form := "#locale-" + locale + " form[data-action=notice-texts]"
		p.run("texts "+locale, chromedp.Click("#locale-"+locale+" details.act summary", chromedp.ByQuery),
			chromedp.SetValue(form+" textarea[name=what_happened]", happened, chromedp.ByQuery),
			chromedp.SetValue(form+" textarea[name=what_we_are_doing]", doing, chromedp.ByQuery))
		if msg := p.submit("save texts "+locale, form+" button"); !strings.Contains(msg, "The "+locale+" notice texts are saved") {
			t.Fatalf("save %s texts: %q", locale, msg)
		}
	}
	// A blank text is refused beside the form, keeping what was typed.
	p.open(notices)
	form := "#locale-en form[data-action=notice-texts]"
	p.run("blank text", chromedp.Click("#locale-en details.act summary", chromedp.ByQuery),
		chromedp.SetValue(form+" textarea[name=what_happened]", "A CRM export was public.", chromedp.ByQuery),
		chromedp.SetValue(form+" textarea[name=what_we_are_doing]", "   ", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("textarea").forEach(e => e.removeAttribute("required"))`, nil),
		chromedp.Click(form+" button", chromedp.ByQuery), chromedp.WaitVisible("#locale-en .field-error", chromedp.ByQuery))
	if got := p.text("#locale-en .field-error"); !strings.Contains(got, "what_we_are_doing is required") {
		t.Errorf("blank text refused with %q", got)
	}
	var kept string
	p.run("kept text", chromedp.Value(form+" textarea[name=what_happened]", &kept, chromedp.ByQuery))
	if kept != "A CRM export was public." {
		t.Errorf("the refused form kept %q", kept)
	}
	writeTexts("en", "A CRM export was readable on a public storage bucket for two days.", "We closed the bucket and rotated every key.")
	writeTexts("zh-CN", "一份客户关系管理导出文件曾在公共存储桶中可读两天。", "我们已关闭该存储桶并更换了所有密钥。")
	p.open(notices + "/preview/zh-CN")
	if body := p.text("body"); !strings.Contains(body, "张示例") || !strings.Contains(body, "一份客户关系管理导出文件") || strings.Contains(body, "Wang Fang") {
		t.Errorf("the zh-CN preview does not greet the sample customer with legal's text:\n%.400s", body)
	}
	p.open(notices)
	p.run("notice page", chromedp.WaitVisible("#locale-en iframe.notice-preview", chromedp.ByQuery))
	if n := p.count("iframe.notice-preview"); n != 2 {
		t.Errorf("%d notice previews, want en and zh-CN", n)
	}
	p.checkAccessible("notice page")

	// The remedy pool: the Californian needs a code, so the notice page
	// warns until legal imports the provider's pool through its form.
	if got := p.text("#pool-short"); !strings.HasPrefix(got, "1 codes missing: 1 customers are offered credit-monitoring") {
		t.Errorf("the empty pool's warning reads %q", got)
	}
	pool := filepath.Join(t.TempDir(), "pool.csv")
	if err := os.WriteFile(pool, []byte("code,product,enrollment_url,enroll_by\n"+
		"CM-7Q2K-99XA,credit-monitoring,https://enroll.example-bureau.com/,"+time.Now().AddDate(1, 0, 0).Format(time.DateOnly)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.run("import the pool", chromedp.SetUploadFiles("#remedy-file", []string{pool}, chromedp.ByQuery),
		chromedp.Click("#remedy-upload", chromedp.ByQuery), chromedp.WaitVisible("#remedy-report", chromedp.ByQuery))
	if got := p.text("#remedy-accepted"); got != "1" || p.text("#pool-missing") != "0" || p.count("#pool-short") != 0 {
		t.Errorf("the pool import accepted %q codes, %s missing", got, p.text("#pool-missing"))
	}
	p.signOut()

	p.signIn(responder)
	complete("draft-notice")
	p.signOut()

	// Two approvals of one version; a change of wording between them takes
	// the first back.
	approve := func(who string) string {
		t.Helper()
		p.reach(notices, "#approval form[data-action=decide-notice]", "approval open for "+who)
		return p.submit("approve as "+who, `#approval button[value=approve]`)
	}
	p.signIn(lena)
	if msg := approve("Lena"); !strings.Contains(msg, "approved") {
		t.Fatalf("Lena's approval: %q", msg)
	}
	v1 := p.text("#notice-version")
	if got := p.text(`#approval-list li[data-by="lena-legal"]`); !strings.Contains(got, "version "+v1) {
		t.Errorf("Lena's approval shown as %q, want of version %s", got, v1)
	}
	writeTexts("en", "A CRM export was readable on a public storage bucket for 49 hours.", "We closed the bucket and rotated every key.")
	v2 := p.text("#notice-version")
	if v2 == v1 || p.count("#approval-list li") != 0 || !strings.Contains(p.text("#approval [data-needs]"), "2 more approvals") {
		t.Errorf("after a change of wording: version %s (was %s), %d approvals, needs %q", v2, v1, p.count("#approval-list li"), p.text("#approval [data-needs]"))
	}
	approve("Lena")
	p.signOut()
	p.signIn(li)
	approve("Li")
	p.reach(notices, `#approval[data-state="done"]`, "the notice approved")
	for _, who := range []string{"lena-legal", "li-legal"} {
		if got := p.text(`#approval-list li[data-by="` + who + `"]`); !strings.Contains(got, "version "+v2) || strings.Contains(got, "earlier wording") {
			t.Errorf("%s's approval shown as %q, want of version %s", who, got, v2)
		}
	}
	if got := p.text("#approved-version"); !strings.Contains(got, v2) {
		t.Errorf("released version shown as %q, want %s", got, v2)
	}
	p.screenshot("notice-approval.png")
	p.signOut()

	// Outreach: the call list names no one until a second person approves
	// the responder's access grant.
	outreach := inc + "/outreach"
	p.signIn(responder)
	p.reach(outreach, "table.outreach tr[data-task]", "the outreach calls")
	if body := p.text("main"); strings.Contains(body, "Anna Keller") || strings.Contains(body, "@example.com") {
		t.Errorf("the call list shows a contact without a grant:\n%s", body)
	}
	p.checkAccessible("outreach page without a grant")
	p.run("grant reason", chromedp.SendKeys("#grant-request input[name=reason]", "call Anna's account manager's customers", chromedp.ByQuery))
	if msg := p.submit("request access", "#grant-request button"); !strings.Contains(msg, "requested") {
		t.Fatalf("grant request: %q", msg)
	}
	p.signOut()
	p.signIn(lena)
	p.reach(inc, "#grants form[data-action=approve-grant]", "the grant to approve")
	if msg := p.submit("approve access", "#grants form[data-action=approve-grant] button"); !strings.Contains(msg, "approved") {
		t.Fatalf("grant approval: %q", msg)
	}
	p.signOut()
	p.signIn(responder)
	p.open(outreach)
	row := "table.outreach tr[data-task]"
	if got := p.text(row); !strings.Contains(got, "Anna Keller") || !strings.Contains(got, "Max Manager") {
		t.Errorf("with the grant the call reads %q", got)
	}
	p.screenshot("outreach-calls.png")
	p.run("call note", chromedp.SendKeys(row+" input[name=note]", "Spoke to Anna; she will watch her account", chromedp.ByQuery))
	if msg := p.submit("called", row+" form[data-action=called] button"); !strings.Contains(msg, "outreach step is complete") {
		t.Fatalf("the last call: %q", msg)
	}

	// Sending starts by itself once the notice is approved and the calls
	// are made; the notice page follows delivery per jurisdiction.
	p.reach(notices, `#delivery tr.total td[data-label="Sent"]`, "delivery")
	eventually(t, 60*time.Second, "every notice sent", func() bool {
		p.open(notices)
		return strings.HasPrefix(p.text(`#delivery tr.total td[data-label="Sent"]`), "3 ")
	})
	if got := p.text(`#delivery tr[data-jurisdiction="DE"] td[data-label="Sent"]`); !strings.HasPrefix(got, "2 ") {
		t.Errorf("DE sent %q, want 2", got)
	}
	if got := p.text("#pool-covered"); got != "1" {
		t.Errorf("%s customers were given a code, want the Californian", got)
	}
	p.checkAccessible("notice page after sending")
	complete("remediation")
	p.signOut()

	// Filing: legal files every regulator duty from the incident page.
	p.signIn(lena)
	for i := 0; i < 10; i++ {
		p.open(inc)
		sel := `#clocks form[data-action=file]`
		if p.count(sel) == 0 {
			break
		}
		p.run("open filing", chromedp.Click(`#clocks details.act summary.primary`, chromedp.ByQuery),
			chromedp.SendKeys(sel+` input[name=reference]`, "REF-"+strconv.Itoa(i), chromedp.ByQuery))
		if msg := p.submit("file", sel+" button"); !strings.Contains(msg, "recorded") {
			t.Fatalf("filing: %q", msg)
		}
	}
	p.signOut()

	// An admin sees who may see it, adds and removes a member, and makes a
	// token whose secret is shown once.
	p.signIn(stack.token)
	members := inc + "/members"
	p.open(members)
	for _, m := range []string{"rita-responder", "lena-legal", "li-legal"} {
		if p.count(`#members li[data-member="`+m+`"]`) != 1 {
			t.Errorf("%s is not listed as a member: %q", m, p.text("#members"))
		}
	}
	p.run("new member", chromedp.SendKeys("form[data-action=add-member] input[name=principal]", "dora@example.com", chromedp.ByQuery))
	if msg := p.submit("add member", "form[data-action=add-member] button"); !strings.Contains(msg, "dora@example.com may now see") {
		t.Fatalf("add member: %q", msg)
	}
	p.checkAccessible("members page")
	p.screenshot("members.png")
	if msg := p.submit("remove member", `#members li[data-member="dora@example.com"] button`); !strings.Contains(msg, "no longer a member") ||
		p.count(`#members li[data-member="dora@example.com"]`) != 0 {
		t.Fatalf("remove member: %q", msg)
	}
	p.open("/tokens")
	p.run("create token", chromedp.Click("details.act summary", chromedp.ByQuery),
		chromedp.SendKeys("form[data-action=create-token] input[name=name]", "Calendar robot", chromedp.ByQuery),
		chromedp.Click("form[data-action=create-token] button", chromedp.ByQuery), chromedp.WaitVisible("#new-token", chromedp.ByQuery))
	var secret string
	p.run("secret", chromedp.Value("#new-secret", &secret, chromedp.ByQuery))
	if tok, err := stack.store.AuthenticateToken(ctx, secret); err != nil || tok.Name != "Calendar robot" || tok.Role != breach.RoleViewer {
		t.Errorf("the secret shown does not authenticate the new token: %+v %v", tok, err)
	}
	p.checkAccessible("tokens page")
	p.open("/tokens")
	if p.count("#new-secret") != 0 {
		t.Error("the secret is shown again")
	}
	p.signOut()

	// The responder finishes: review, then close.
	p.signIn(responder)
	complete("post-incident-review")
	p.open(inc)
	if msg := p.submit("close", "#close form[data-action=close] button"); msg != "Incident closed." {
		t.Fatalf("close: %q", msg)
	}
	p.reach(inc, `#inc-status`, "closed incident")
	if got := p.text("#inc-status"); got != "closed" {
		t.Fatalf("incident status %q after the close", got)
	}
	// The run replays (workflows/replay_test.go): the notice approvals of
	// a version and the reopening behind GetVersion "notice-approval-version".
	saveHistory(t, stack, id, "dashflow-customer-data-breach")

	// The viewer's zone: chosen once, remembered, UTC on hover.
	p.run("choose a zone", chromedp.Click("details.zone summary", chromedp.ByQuery),
		chromedp.SetValue("#zone-form input[name=zone]", "America/New_York", chromedp.ByQuery))
	if msg := p.submit("save zone", "#zone-form button"); !strings.Contains(msg, "America/New_York") {
		t.Fatalf("zone flash: %q", msg)
	}
	p.open(inc)
	if got := p.text(".foot"); !strings.Contains(got, "Times are in America/New_York") {
		t.Errorf("footer %q", got)
	}
	var title string
	p.run("hover title", chromedp.AttributeValue(".timeline li time", "title", &title, nil, chromedp.ByQuery))
	if !strings.HasSuffix(title, " UTC") || !regexp.MustCompile(` E[SD]T$`).MatchString(p.text(".timeline li time")) {
		t.Errorf("a timeline time reads %q with title %q; want New York time, UTC on hover", p.text(".timeline li time"), title)
	}

	// Every page, wide and at phone width: axe passes, and on a phone the
	// page never scrolls sideways.
	pages := []string{"/board", "/incidents", inc, notices, outreach, members, "/assess", "/launch", "/outbox", "/incidents/BR-ZZZZZZ"}
	for _, path := range pages {
		p.open(path)
		p.checkAccessible(path)
	}
	p.run("phone", chromedp.EmulateViewport(390, 844))
	for _, path := range pages {
		p.open(path)
		p.fitsPhone(path)
		p.checkAccessible(path + " at phone width")
	}
	if os.Getenv("BREACHFLOW_WRITE_SCREENSHOTS") == "1" {
		p.open(notices)
		p.screenshot("notice-approval-phone.png")
	}
	p.signOut()
	p.signIn(stack.token)
	admin := []string{"/tokens", members}
	if p.open("/triage") == 200 {
		admin = append(admin, "/triage")
	}
	for _, path := range admin {
		p.open(path)
		p.fitsPhone(path)
		p.checkAccessible(path + " at phone width")
	}
	p.signOut()
	p.fitsPhone("sign-in page")
	p.checkAccessible("sign-in page at phone width")
}
