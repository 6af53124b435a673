package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/remedy"
	"github.com/chromedp/chromedp"
	"github.com/jordan-wright/email"
)

// TestNoticePageInBrowser opens two customers' links from their emails
// in headless Chromium: each page shows that customer's code in their
// language (lang attribute), passes axe-core's WCAG 2.1 AA rules in en and
// zh-CN, and the "I have read this notice" button (a plain form, no
// script needed) is counted in the delivery report; a wrong token shows
// a page with nothing on it.
func TestNoticePageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server and a browser")
	}
	chromium := findChromium(t)
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "remedy-check.yaml"), []byte(remedyPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := devConfig(t, dir)
	cfg.PlaybookDir = pbDir
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token
	legal, _, _ := stack.store.CreateToken(ctx, "lou-legal", breach.RoleLegal)
	code, inc := c.do("POST", "/v1/incidents", admin, map[string]any{"playbook": "remedy-check", "title": "CRM export",
		"severity": "high", "aware_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"US-CA"},
		"data_categories": []string{"identity"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	for loc, txt := range map[string]map[string]string{
		"en":    {"what_happened": "A CRM export was public.", "what_we_are_doing": "We removed it.", "faq": "Is my card affected? No.", "contact": "Call 0800 123 456."},
		"zh-CN": {"what_happened": "一份客户数据导出文件曾被公开。", "what_we_are_doing": "我们已将其删除。", "faq": "我的银行卡受影响吗？不受影响。", "contact": "请致电 0800 123 456。"},
	} {
		eventually(t, 30*time.Second, "legal's "+loc+" texts to be taken", func() bool {
			code, _ := c.do("PUT", base+"/notices/texts/"+loc, legal, txt, nil)
			return code == 200
		})
	}
	csvHdr := map[string]string{"Content-Type": "text/csv"}
	if code, body := c.do("POST", base+"/subjects", admin, "external_id,name,email,locale,country,subdivision\n"+
		"A1,Ann Example,ann@example.com,en,US,US-CA\nB2,王小明,wang@example.com,zh-CN,US,US-NY\n", csvHdr); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	by := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	if code, body := c.do("POST", base+"/remedy-codes", legal, "code,product,enrollment_url,enroll_by\n"+
		"EN-CODE-1111,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n"+
		"ZH-CODE-2222,credit-monitoring,https://enroll.example-bureau.com/,"+by+"\n", csvHdr); code != 200 {
		t.Fatalf("pool: %d %v", code, body)
	}
	if code, body := c.do("POST", base+"/notices/send", admin, map[string]any{}, nil); code != 202 {
		t.Fatalf("send: %d %v", code, body)
	}
	eventually(t, time.Minute, "both notices sent", func() bool {
		n := 0
		for _, m := range stack.mail.All() {
			if _, ok := subjectOf(m.MessageID, id); ok {
				n++
			}
		}
		return n == 2
	})
	kr, err := codec.ParseKeys(readFile(t, filepath.Join(dir, "encryption-keys")))
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := stack.store.ListSubjectIDs(ctx, id, 0, 10)
	codes, err := stack.store.RemedyCodesFor(ctx, id, ids)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{} // locale → path
	want := map[string]string{}  // locale → code
	for _, m := range stack.mail.All() {
		sid, ok := subjectOf(m.MessageID, id)
		if !ok {
			continue
		}
		e, err := email.NewEmailFromReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		loc := "en"
		if strings.Contains(string(e.Text), "数据泄露通知") {
			loc = "zh-CN"
		}
		link := regexp.MustCompile(`/n/[A-Za-z0-9_-]{43}`).FindString(string(e.Text))
		if link == "" {
			t.Fatalf("no link in the %s notice", loc)
		}
		links[loc] = link
		if want[loc], err = remedy.Open(codes[sid], kr); err != nil {
			t.Fatal(err)
		}
	}
	if want["en"] != "EN-CODE-1111" && want["en"] != "ZH-CODE-2222" || want["en"] == want["zh-CN"] {
		t.Fatalf("codes %v", want)
	}

	p := newPage(t, chromium, c.base)
	for _, loc := range []string{"en", "zh-CN"} {
		if status := p.open(links[loc]); status != 200 {
			t.Fatalf("%s page: HTTP %d", loc, status)
		}
		var lang string
		p.run("lang", chromedp.AttributeValue("html", "lang", &lang, nil, chromedp.ByQuery))
		if lang != loc {
			t.Errorf("%s page has lang=%q", loc, lang)
		}
		if got := p.text("#remedy-code"); got != want[loc] {
			t.Errorf("%s page shows code %q, want %q", loc, got, want[loc])
		}
		p.checkAccessible("notice page " + loc)
		p.run("acknowledge", chromedp.Click("#ack-button", chromedp.ByQuery), chromedp.WaitVisible("#acked", chromedp.ByQuery))
		p.checkAccessible("acknowledged notice page " + loc)
	}
	_, rep := c.do("GET", base+"/notices/report", legal, nil, nil)
	if tot := rep["delivery"].(map[string]any)["total"].(map[string]any); tot["acknowledged"] != 2.0 || tot["read"] != 2.0 {
		t.Errorf("report: %v reads, %v acknowledgements; want 2 and 2", tot["read"], tot["acknowledged"])
	}
	if status := p.open("/n/" + strings.Repeat("x", 43)); status != 404 {
		t.Errorf("wrong token: HTTP %d", status)
	}
	if n := p.count("#remedy-code, #ack-button"); n != 0 || !strings.Contains(p.text("#not-found"), "does not open a notice") {
		t.Errorf("the wrong token's page shows %d parts of a notice", n)
	}
	p.checkAccessible("notice page, wrong token")
}
