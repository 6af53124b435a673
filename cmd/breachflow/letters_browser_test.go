package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// lettersRemedyPlaybook offers US customers a code and sends notices after
// a review.
const lettersRemedyPlaybook = `id: letters-remedy-check
version: 1
title: Letters and remedy check
remedy:
  product: credit-monitoring
  jurisdictions: [US]
steps:
  - id: review
    title: Review the facts
    kind: task
    owner: responder
  - id: send
    title: Send customer notices
    kind: customer_notices
    owner: responder
    after: [review]
`

// fetch requests path from the page (with its session cookie) and answers
// "status content-type first-bytes" and the body's text.
func (p page) fetch(path string) (string, string) {
	p.t.Helper()
	var out []string
	p.run("fetch "+path, chromedp.Evaluate(fmt.Sprintf(`fetch(%q).then(async r => { const b = await r.text(); return [r.status + " " + r.headers.get("content-type") + " " + b.slice(0, 5), b]; })`, path),
		&out, func(ep *runtime.EvaluateParams) *runtime.EvaluateParams { return ep.WithAwaitPromise(true) }))
	return out[0], out[1]
}

// TestLettersAndRemedyPoolInBrowser drives the two customer-side pages
// legal had only through the API, in headless Chromium on the dev stack:
// the remedy-code pool on the notice page (its warning the same text as the
// waiting step's, a refused file's lines with their reasons and no code
// shown, a top-up that lets the waiting send go on) and the letters page
// (customers waiting by subject id, a batch with an unprintable address,
// the PDF and manifest refused without an access grant and served with
// one, the printer's reference, a returned letter, and a substitute notice
// with its website notice and media draft). Bad input is refused beside
// its form with what was typed kept; axe-core passes on every state.
func TestLettersAndRemedyPoolInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and a browser")
	}
	chromium := findChromium(t)
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "letters-remedy-check.yaml"), []byte(lettersRemedyPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := devConfig(t, t.TempDir())
	cfg.PlaybookDir = pbDir
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := startDev(sctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	if _, err := os.Stat(cfg.LetterFontCJK); err != nil {
		t.Skipf("letter fonts missing (apt-get install fonts-droid-fallback): %v", err)
	}
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	ctx := context.Background()
	responder, _, _ := stack.store.CreateToken(ctx, "rita-responder", breach.RoleResponder)
	lena, _, _ := stack.store.CreateToken(ctx, "lena-legal", breach.RoleLegal)

	// The incident, its customers and legal's texts come through the API:
	// the pages under test are the pool and the letters.
	code, inc := c.do("POST", "/v1/incidents", responder, map[string]any{"playbook": "letters-remedy-check", "title": "Order export leaked",
		"severity": "high", "jurisdictions": []string{"US-CA", "CN"}, "data_categories": []string{"identity"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	// E1 is reached by email; N1 (US) and N2 (China) have no email; N4's
	// address has no postal code. E1, N1 and N4 are offered a code.
	const upload = "external_id,name,email,locale,country,subdivision,address_line1,city,address_region,postal_code\n" +
		"E1,Erin Email,erin@example.com,en,US,US-CA,1 Ok St,Fresno,,93650\n" +
		"N1,Nora Nomail,,en,US,US-CA,3 Paper Rd,Oakland,,94607\n" +
		"N2,王小明,,zh-CN,CN,,朝阳区建国路88号,北京市,北京,100022\n" +
		"N4,Zoe Zipless,,en,US,US-CA,4 Lost Ln,Sacramento,,\n"
	if code, body := c.do("POST", base+"/subjects", responder, upload, map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	subject := map[string]string{} // external id → subject id
	ids, _ := stack.store.ListSubjectIDs(ctx, id, 0, 10)
	recs, err := stack.store.GetSubjects(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		subject[r.ExternalID] = fmt.Sprint(r.ID)
	}
	for locale, body := range map[string]map[string]any{
		"en":    {"what_happened": "An order export was readable by anyone with its link.", "what_we_are_doing": "We removed the link."},
		"zh-CN": {"what_happened": "一份订单导出文件可被任何持有链接的人读取。", "what_we_are_doing": "我们已删除该链接。"},
	} {
		eventually(t, 30*time.Second, "legal's "+locale+" texts to be taken", func() bool {
			code, _ := c.do("PUT", base+"/notices/texts/"+locale, lena, body, nil)
			return code == 200
		})
	}
	if code, body := c.do("POST", base+"/steps/review/complete", responder, map[string]any{"note": "ok"}, nil); code != 200 {
		t.Fatalf("complete review: %d %v", code, body)
	}

	p := newPage(t, chromium, c.base)
	inc1 := "/incidents/" + id
	notices, letters := inc1+"/notices", inc1+"/letters"

	// The send waits for codes; the notice page gives legal the same
	// warning as the waiting step.
	p.signIn(lena)
	p.reach(inc1, "#step-send [data-waiting]", "the send waiting for codes")
	waiting := strings.TrimPrefix(p.text("#step-send [data-waiting]"), "Waiting: ")
	p.open(notices)
	if got := p.text("#pool-short"); got != waiting || !strings.HasPrefix(got, "3 codes missing: 3 customers are offered credit-monitoring") {
		t.Errorf("the pool's warning reads %q; the waiting step %q", got, waiting)
	}
	if got := p.text("#pool-in-scope") + "/" + p.text("#pool-missing"); got != "3/3" || p.count("#pool-empty") != 1 {
		t.Errorf("an empty pool shows in scope/missing %s", got)
	}
	p.checkAccessible("notice page, pool empty")

	poolFile := func(name, rows string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte("code,product,enrollment_url,enroll_by\n"+rows), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	importPool := func(what, file string) {
		t.Helper()
		if p.count("#remedy-form") == 0 {
			p.open(notices)
		}
		p.run(what, chromedp.Evaluate(`document.querySelectorAll("details#remedy-import").forEach(d => d.open = true);
			document.querySelectorAll("#remedy-report").forEach(e => e.remove())`, nil),
			chromedp.SetUploadFiles("#remedy-file", []string{file}, chromedp.ByQuery),
			chromedp.Click("#remedy-upload", chromedp.ByQuery), chromedp.WaitVisible("#remedy-report", chromedp.ByQuery))
	}
	by := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	// A refused file: a duplicate, a blank code, a date in the past, a URL
	// that is not https. Every bad line is named; nothing is imported and
	// no code is shown back.
	importPool("a refused pool", poolFile("bad.csv",
		"SECRET-AAAA-1,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"+
			"SECRET-AAAA-1,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"+
			",credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"+
			"SECRET-BBBB-2,credit-monitoring,https://enroll.example-bureau.com/,2020-01-01\n"+
			"SECRET-CCCC-3,credit-monitoring,ftp://enroll.example-bureau.com/,"+by+"\n"))
	if got := p.text("#remedy-accepted"); got != "0" {
		t.Errorf("a refused pool accepted %q codes", got)
	}
	for line, reason := range map[string]string{"3": "duplicate code: the same code is on line 2", "4": "code is blank",
		"5": "enroll_by 2020-01-01 is in the past", "6": "enrollment_url is not an absolute https URL"} {
		if got := p.text(`#remedy-lines tr[data-line="` + line + `"]`); !strings.Contains(got, reason) {
			t.Errorf("line %s refused as %q, want %q", line, got, reason)
		}
	}
	if got := p.text("#remedy-error"); !strings.Contains(got, "4 rows are refused; nothing was imported") {
		t.Errorf("refusal %q", got)
	}
	if html := p.text("body"); strings.Contains(html, "SECRET-") {
		t.Errorf("the report shows a code:\n%s", html)
	}
	if n, _ := stack.store.RemedyCounts(ctx, id); n.Total != 0 {
		t.Errorf("a refused file stored %d codes", n.Total)
	}
	p.checkAccessible("remedy import refused")
	p.screenshot("remedy-import-refused.png")

	// Two good codes: the pool is still one short, and says so.
	importPool("two codes", poolFile("two.csv",
		"SECRET-GOOD-1,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"+
			"SECRET-GOOD-2,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"))
	want := breach.RemedyCodesMissing(breach.RemedyCoverage{InScope: 3, Free: 2}, "credit-monitoring")
	if got := p.text("#remedy-accepted"); got != "2" || p.text("#pool-short") != want || p.text(`#pool-products tr[data-product="credit-monitoring"]`) != "credit-monitoring\t2\t0\t2" {
		t.Errorf("after two codes: accepted %q, warning %q (want %q), products %q", got, p.text("#pool-short"), want, p.text("#pool-products tbody"))
	}
	p.checkAccessible("remedy import accepted")
	// A top-up with a code already in the pool is refused whole.
	importPool("a code already in the pool", poolFile("dup.csv",
		"SECRET-GOOD-2,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"+
			"SECRET-GOOD-3,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"))
	if got := p.text(`#remedy-lines tr[data-line="2"]`); !strings.Contains(got, "duplicate code: it is already in the pool") || p.text("#remedy-accepted") != "0" {
		t.Errorf("a code already in the pool refused as %q", got)
	}
	importPool("the top-up", poolFile("top.csv", "SECRET-GOOD-3,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"))
	if got := p.text("#pool-missing"); got != "0" || p.count("#pool-short") != 0 {
		t.Errorf("after the top-up %s codes are missing, warning shown: %v", got, p.count("#pool-short") != 0)
	}
	// The waiting send goes on by itself: Erin's email, and three codes.
	eventually(t, 60*time.Second, "Erin's notice sent and every code given", func() bool {
		p.open(notices)
		sent := `#delivery tr.total td[data-label="Sent"]`
		return p.count(sent) > 0 && strings.HasPrefix(p.text(sent), "1 ") && p.text("#pool-covered") == "3"
	})
	p.signOut()

	// Letters: the three customers email cannot reach wait, by subject id.
	p.signIn(responder)
	p.reach(letters, "#generate-letters", "customers waiting for a letter")
	if got := p.text("#waiting-count"); got != "3" {
		t.Errorf("%s customers wait for a letter, want 3", got)
	}
	for _, ext := range []string{"N1", "N2", "N4"} {
		if !strings.Contains(p.text("#waiting-ids"), subject[ext]) {
			t.Errorf("subject %s (%s) is not listed as waiting: %q", subject[ext], ext, p.text("#waiting-ids"))
		}
	}
	if body := p.text("main"); strings.Contains(body, "Nora") || strings.Contains(body, "Paper Rd") {
		t.Errorf("the letters page names a customer:\n%s", body)
	}
	p.checkAccessible("letters page, customers waiting")
	if msg := p.submit("generate", "#generate-letters"); !strings.Contains(msg, "Batch 1 generated: 2 letters, 1 customer whose letter cannot be printed (recorded as a failed letter)") ||
		!strings.Contains(msg, "customer "+subject["N4"]+": no postal code") {
		t.Fatalf("generate: %q", msg)
	}
	if got := p.text(`#failed-table tr[data-subject="` + subject["N4"] + `"]`); !strings.Contains(got, "address cannot be printed: no postal code") {
		t.Errorf("N4's failed letter reads %q", got)
	}
	// Without a grant: no download link, and the download itself is refused.
	if p.count("#batch-1 a.dl-pdf") != 0 {
		t.Error("the PDF is offered without an access grant")
	}
	status, _ := p.fetch(letters + "/1/letters.pdf")
	if !strings.HasPrefix(status, "403 text/html") {
		t.Errorf("the PDF without a grant: %s", status)
	}
	if st := p.open(letters + "/1/manifest.csv"); st != 403 || !strings.Contains(p.text("h1"), "need an access grant") {
		t.Errorf("the manifest without a grant: HTTP %d, %q", st, p.text("h1"))
	}
	p.checkAccessible("download refused without a grant")
	p.open(letters)
	p.checkAccessible("letters page, a batch, no grant")
	p.run("grant reason", chromedp.SendKeys("#grant-request input[name=reason]", "hand the letters to the mailing house", chromedp.ByQuery))
	if msg := p.submit("request access", "#grant-request button"); !strings.Contains(msg, "requested") {
		t.Fatalf("grant request: %q", msg)
	}
	p.signOut()
	p.signIn(lena)
	p.reach(inc1, "#grants form[data-action=approve-grant]", "the grant to approve")
	if msg := p.submit("approve access", "#grants form[data-action=approve-grant] button"); !strings.Contains(msg, "approved") {
		t.Fatalf("grant approval: %q", msg)
	}
	p.signOut()
	p.signIn(responder)
	p.open(letters)
	var pdfHref, manifestHref string
	p.run("download links", chromedp.AttributeValue("#batch-1 a.dl-pdf", "href", &pdfHref, nil, chromedp.ByQuery),
		chromedp.AttributeValue("#batch-1 a.dl-manifest", "href", &manifestHref, nil, chromedp.ByQuery))
	if status, _ := p.fetch(pdfHref); status != "200 application/pdf %PDF-" {
		t.Errorf("the PDF under a grant: %s", status)
	}
	status, manifest := p.fetch(manifestHref)
	if !strings.HasPrefix(status, "200 text/csv") || strings.Count(manifest, "\n") != 3 || !strings.Contains(manifest, "Nora Nomail") || strings.Contains(manifest, "Zoe Zipless") {
		t.Errorf("the manifest under a grant: %s\n%s", status, manifest)
	}
	p.checkAccessible("letters page under a grant")
	p.signOut()

	// Legal records the printer's reference (a blank one is refused beside
	// the form), then a letter that came back.
	p.signIn(lena)
	p.open(letters)
	printed := `#batch-1 form[data-action=printed]`
	p.run("blank reference", chromedp.SetValue(printed+" input[name=reference]", "   ", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("input").forEach(e => e.removeAttribute("required"))`, nil),
		chromedp.Click(printed+" button", chromedp.ByQuery), chromedp.WaitVisible("#printed-error-1", chromedp.ByQuery))
	if got := p.text("#printed-ref-error-1"); !strings.Contains(got, "1 to 200 characters") {
		t.Errorf("a blank reference refused with %q", got)
	}
	p.checkAccessible("printed form refused")
	p.run("reference", chromedp.SetValue(printed+" input[name=reference]", "MAILHOUSE-2026-7", chromedp.ByQuery))
	if msg := p.submit("printed", printed+" button"); !strings.Contains(msg, "Batch 1 recorded as handed to the printer under MAILHOUSE-2026-7") {
		t.Fatalf("printed: %q", msg)
	}
	if got := p.text("#batch-1 .batch-printed"); !strings.Contains(got, "lena-legal") || !strings.Contains(got, "MAILHOUSE-2026-7") {
		t.Errorf("the printed batch reads %q", got)
	}
	returned := "form[data-action=returned]"
	p.run("bad return", chromedp.SetValue(returned+" input[name=subject_id]", "Nora", chromedp.ByQuery),
		chromedp.SetValue(returned+" input[name=reason]", "addressee unknown", chromedp.ByQuery),
		chromedp.Click(returned+" button", chromedp.ByQuery), chromedp.WaitVisible("#return-subject-error", chromedp.ByQuery))
	var keptReason string
	p.run("kept reason", chromedp.Value(returned+" input[name=reason]", &keptReason, chromedp.ByQuery))
	if got := p.text("#return-subject-error"); !strings.Contains(got, "a whole number") || keptReason != "addressee unknown" {
		t.Errorf("a bad subject id refused with %q, reason kept %q", got, keptReason)
	}
	p.checkAccessible("return form refused")
	p.run("return", chromedp.SetValue(returned+" input[name=subject_id]", subject["N1"], chromedp.ByQuery))
	if msg := p.submit("return", returned+" button"); !strings.Contains(msg, "returned undeliverable: addressee unknown") {
		t.Fatalf("return: %q", msg)
	}
	if got := p.text(`#failed-table tr[data-subject="` + subject["N1"] + `"]`); !strings.Contains(got, "returned undeliverable: addressee unknown") {
		t.Errorf("N1's returned letter reads %q", got)
	}
	if got := p.text(`#letter-delivery tr.total`); got != "all\t1\t0\t2\t3" {
		t.Errorf("letters in total %q, want 1 handed over, 2 failed of 3", got)
	}

	// Substitute notice for the Californians nobody reached (N1 returned,
	// N4 unprintable): a missing reason is refused beside the form first.
	sub := "form[data-action=substitute]"
	p.run("substitute without a reason", chromedp.Click("#substitute details.act summary", chromedp.ByQuery),
		chromedp.Click(sub+` input[value="contact_info"]`, chromedp.ByQuery),
		chromedp.SetValue(sub+" input[name=jurisdictions]", "US-CA", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("textarea").forEach(e => e.removeAttribute("required"))`, nil),
		chromedp.Click(sub+" button", chromedp.ByQuery), chromedp.WaitVisible("#substitute-reason-error", chromedp.ByQuery))
	var keptJur string
	p.run("kept jurisdictions", chromedp.Value(sub+" input[name=jurisdictions]", &keptJur, chromedp.ByQuery))
	if keptJur != "US-CA" || p.count(sub+` input[value="contact_info"]:checked`) != 1 {
		t.Errorf("the refused decision kept jurisdictions %q and its basis: %v", keptJur, p.count(sub+` input[value="contact_info"]:checked`) == 1)
	}
	p.checkAccessible("substitute form refused")
	p.run("reason", chromedp.SetValue(sub+" textarea[name=reason]", "no usable email or postal address for these Californians", chromedp.ByQuery))
	if msg := p.submit("substitute", sub+" button"); !strings.Contains(msg, "does not have sufficient contact information") || !strings.Contains(msg, "2 customers' notices are covered") {
		t.Fatalf("substitute notice: %q", msg)
	}
	if got := p.text("#substitute-decisions"); !strings.Contains(got, "lena-legal") || !strings.Contains(got, "no usable email or postal address") {
		t.Errorf("the decision reads %q", got)
	}
	p.checkAccessible("letters page after the decision")
	p.screenshot("letters.png")
	p.run("website notice", chromedp.Click("#link-website-notice", chromedp.ByQuery), chromedp.WaitVisible("#website-en", chromedp.ByQuery))
	if got := p.text("#website-en"); !strings.Contains(got, "Posted conspicuously on our website for at least 30 days") || !strings.Contains(got, "readable by anyone with its link") {
		t.Errorf("the website notice reads %.300q", got)
	}
	if got := p.text("#media-zh-CN"); !strings.Contains(got, "新闻稿草稿") || strings.Contains(got, "王小明") {
		t.Errorf("the zh-CN media draft reads %.300q", got)
	}
	p.checkAccessible("substitute notice page")
	// At a phone's width neither page scrolls sideways (the whole-breach
	// test does this for the other pages).
	p.run("phone", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{letters, inc1 + "/substitute-notice"} {
		p.open(path)
		p.fitsPhone(path)
		p.checkAccessible(path + " at phone width")
	}
	eventually(t, 60*time.Second, "the send step done once everyone is reached or accounted for", func() bool {
		return c.stepState(responder, id, "send") == "done"
	})
}
