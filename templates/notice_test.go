package templates

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// noticeInput is the notice for one person of the incident in fullInput, with
// the regulator notification already filed.
func noticeInput(t *testing.T, locale, name string) NoticeInput {
	t.Helper()
	inc := fullInput(t).Incident
	for i := range inc.Obligations {
		if inc.Obligations[i].ID == "gdpr-art33" {
			inc.Obligations[i].Status = breach.ObligationFiled
		}
	}
	inc.NoticeTexts = legalTexts()
	return NoticeInput{
		Incident:    inc,
		Org:         testOrg(),
		Locale:      locale,
		Name:        name,
		GeneratedAt: at(t, "2026-11-24T10:00:00Z"),
	}
}

// legalTexts are legal's texts of the notice in both locales.
func legalTexts() map[string]breach.NoticeText {
	return map[string]breach.NoticeText{
		"en": {WhatHappened: "A file with customer contact and payment details was stored where anyone on the internet could read it.\nRecords show it was downloaded twice by people we do not know.",
			WhatWeAreDoing: "We closed access to the file and are working with payment providers to watch for fraud."},
		"zh-CN": {WhatHappened: "一个包含客户联系方式和支付信息的文件曾被存放在互联网上任何人都可以读取的位置。\n记录显示，该文件曾被不明人士下载两次。",
			WhatWeAreDoing: "我们已关闭对该文件的访问，并正与支付服务商合作监测欺诈行为。"},
	}
}

func renderNotice(t *testing.T, in NoticeInput) *Notice {
	t.Helper()
	n, err := RenderNotice(in)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRenderNoticeGolden(t *testing.T) {
	for _, tc := range []struct{ locale, name string }{
		{"en", "Jane Doe"},
		{"zh-CN", "张伟"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			in := noticeInput(t, tc.locale, tc.name)
			in.Steps = []string{"Sign in at shop.example/security to review your recent orders."}
			in.LawEnforcementDelay = true
			in.CreditMonitoringMonths = 12
			n := renderNotice(t, in)
			if n.Locale != tc.locale {
				t.Errorf("locale = %q, want %q", n.Locale, tc.locale)
			}
			golden(t, "notice-"+tc.locale+".txt.golden", "Subject: "+n.Subject+"\n\n"+n.Text)
			golden(t, "notice-"+tc.locale+".html.golden", n.HTML)
		})
	}
}

// TestRenderNoticeHeadings checks the California title and five headings, in
// order, in both parts of both locales.
func TestRenderNoticeHeadings(t *testing.T) {
	for _, tc := range []struct {
		locale  string
		subject string
		want    []string
	}{
		{"en", "Notice of Data Breach — Example Shop GmbH", []string{"Notice of Data Breach",
			"What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"}},
		{"zh-CN", "数据泄露通知 — Example Shop GmbH", []string{"数据泄露通知", "Notice of Data Breach",
			"发生了什么", "涉及哪些信息", "我们正在采取的措施", "您可以采取的措施", "更多信息"}},
	} {
		n := renderNotice(t, noticeInput(t, tc.locale, ""))
		if n.Subject != tc.subject {
			t.Errorf("%s: subject = %q, want %q", tc.locale, n.Subject, tc.subject)
		}
		for part, doc := range map[string]string{"text": n.Text, "html": n.HTML} {
			pos := -1
			for _, h := range tc.want {
				i := strings.Index(doc[pos+1:], h)
				if i < 0 {
					t.Errorf("%s %s: %q missing or out of order", tc.locale, part, h)
					continue
				}
				pos += 1 + i
			}
		}
	}
}

func TestRenderNoticeEscapes(t *testing.T) {
	const name = `<img src=x onerror=alert(1)>`
	in := noticeInput(t, "en", name)
	in.Incident.NoticeTexts["en"] = breach.NoticeText{WhatHappened: `<script>alert("t")</script> <b>Bucket</b>`, WhatWeAreDoing: "Fixing it."}
	in.DataElements = []string{`<i>email</i>`}
	in.Org.Name = "Evil\r\nBcc: all@example.com"
	n := renderNotice(t, in)
	for _, raw := range []string{"<img", "<script", "<b>", "<i>"} {
		if strings.Contains(n.HTML, raw) {
			t.Errorf("HTML contains unescaped %q", raw)
		}
	}
	for _, esc := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;", "&lt;b&gt;Bucket&lt;/b&gt;", "&lt;i&gt;email&lt;/i&gt;"} {
		if !strings.Contains(n.HTML, esc) {
			t.Errorf("HTML lacks escaped %q", esc)
		}
	}
	if !strings.Contains(n.Text, "Dear "+name+",") || !strings.Contains(n.Text, "<b>Bucket</b>") {
		t.Errorf("text part should carry the name and legal's text verbatim:\n%s", n.Text)
	}
	if strings.ContainsAny(n.Subject, "\r\n") || n.Subject != "Notice of Data Breach — Evil Bcc: all@example.com" {
		t.Errorf("subject not header-safe: %q", n.Subject)
	}
}

func TestNormalizeLocale(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"en", "en"}, {"EN-gb", "en"}, {"en_US", "en"},
		{"zh", "zh-CN"}, {"zh-CN", "zh-CN"}, {"zh_CN", "zh-CN"}, {"zh-Hans", "zh-CN"}, {"zh-Hans-CN", "zh-CN"},
		{"ZH-cn", "zh-CN"}, {"zh-SG", "zh-CN"}, {" zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"}, {"zh;q=0.5", "zh-CN"},
		{"zh-TW", "en"}, {"zh-Hant", "en"}, {"de-DE", "en"}, {"", "en"}, {"xx", "en"}, {"zhx", "en"},
	} {
		if got := NormalizeLocale(tc.in); got != tc.want {
			t.Errorf("NormalizeLocale(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRenderNoticeUnknownLocale(t *testing.T) {
	n := renderNotice(t, noticeInput(t, "fr-FR", "Jane Doe"))
	if n.Locale != "en" || !strings.Contains(n.Text, "What Happened") || !strings.Contains(n.HTML, `<html lang="en">`) {
		t.Errorf("unknown locale did not fall back to en: locale %q\n%s", n.Locale, n.Text)
	}
	zh := renderNotice(t, noticeInput(t, "zh_CN", "Jane Doe"))
	if zh.Locale != "zh-CN" || !strings.Contains(zh.HTML, `<html lang="zh-CN">`) || strings.Contains(zh.Text, "What Happened") {
		t.Errorf("zh_CN did not render in Chinese: locale %q\n%s", zh.Locale, zh.Text)
	}
}

// TestNoticeEveryCategory walks regulations' vocabulary: each data category has
// its own wording, consequence and step in every locale, and the notice of a
// person exposed in that category shows them.
func TestNoticeEveryCategory(t *testing.T) {
	for _, locale := range NoticeLocales() {
		l := noticeLang(locale)
		seen := map[string]string{}
		for _, cat := range breach.DataCategories() {
			c := l.category(cat)
			if c.what == "" || c.risk == "" || c.step == "" {
				t.Errorf("%s/%s: incomplete wording %+v", locale, cat, c)
				continue
			}
			if prev, dup := seen[c.what]; dup {
				t.Errorf("%s: %s and %s share the wording %q", locale, prev, cat, c.what)
			}
			seen[c.what] = cat
			in := noticeInput(t, locale, "")
			in.DataElements = []string{cat}
			n := renderNotice(t, in)
			for _, s := range []string{c.what, c.risk, c.step} {
				if !strings.Contains(n.Text, s) {
					t.Errorf("%s/%s: notice lacks %q", locale, cat, s)
				}
			}
		}
	}
	for _, cat := range breach.DataCategories() {
		if en, zh := enCategory(cat), zhCNCategory(cat); en.what == zh.what || en.step == zh.step {
			t.Errorf("%s: zh-CN wording is not translated", cat)
		}
	}
}

func TestRenderNoticeDataElements(t *testing.T) {
	in := noticeInput(t, "en", "")
	in.DataElements = []string{"email address", "Credentials"}
	n := renderNotice(t, in)
	for _, want := range []string{"  - email address\n", enCategory("credentials").what, enCategory("credentials").step} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("notice lacks %q", want)
		}
	}
	// The incident's categories (contact, financial) are not this person's.
	if strings.Contains(n.Text, enCategory("financial").what) {
		t.Error("notice lists the incident's categories instead of the person's elements")
	}

	// Free text only: steps fall back to the incident's categories.
	in.DataElements = []string{"order history"}
	n = renderNotice(t, in)
	if !strings.Contains(n.Text, enCategory("financial").step) || strings.Contains(n.Text, enCategory("financial").what) {
		t.Errorf("free-text elements should list verbatim and take steps from the incident:\n%s", n.Text)
	}

	in = noticeInput(t, "zh-CN", "")
	in.Incident.Facts.DataCategories = nil
	n = renderNotice(t, in)
	if !strings.Contains(n.Text, zhCNNotice().infoUnknown) {
		t.Errorf("no elements at all should say so:\n%s", n.Text)
	}
}

func TestRenderNoticeGreeting(t *testing.T) {
	for _, tc := range []struct{ locale, name, want, notWant string }{
		{"en", "", "Dear customer,", "Dear ,"},
		{"en", "  \n ", "Dear customer,", "Dear  ,"},
		{"en", "Jane\nDoe", "Dear Jane Doe,", "Dear customer,"},
		{"zh-CN", "", "尊敬的客户：", "尊敬的："},
		{"zh-CN", "张伟", "尊敬的张伟：", "尊敬的客户："},
	} {
		n := renderNotice(t, noticeInput(t, tc.locale, tc.name))
		if !strings.Contains(n.Text, tc.want) || !strings.Contains(n.HTML, tc.want) {
			t.Errorf("%s %q: greeting %q missing", tc.locale, tc.name, tc.want)
		}
		if strings.Contains(n.Text, tc.notWant) {
			t.Errorf("%s %q: unexpected %q", tc.locale, tc.name, tc.notWant)
		}
	}
}

// TestRenderNoticeTruthful checks that optional statements appear exactly when
// the facts or the input support them.
func TestRenderNoticeTruthful(t *testing.T) {
	l := enNotice()
	base := noticeInput(t, "en", "")
	n := renderNotice(t, base)
	for _, want := range []string{l.doingContained, l.doingReported, "We stopped it on 23 November 2026.",
		"The breach took place on or about 22 November 2026.", "We discovered it on 23 November 2026.",
		"Data protection officer: Data Protection Officer, Example Shop GmbH", "Contact: Security team",
		"Please quote reference BR-7K3F9Q.", l.complain} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("notice lacks %q", want)
		}
	}
	for _, not := range []string{"credit monitoring", "law enforcement", l.doingContaining} {
		if strings.Contains(n.Text, not) {
			t.Errorf("notice says %q without cause", not)
		}
	}

	in := noticeInput(t, "en", "")
	in.Incident = sparseInput(t).Incident
	in.Incident.NoticeTexts = map[string]breach.NoticeText{"en": {WhatHappened: "Someone exported our customer database.", WhatWeAreDoing: "We are finding out how."}}
	in.Contact = "Help desk"
	in.CreditMonitoringMonths = 24
	in.LawEnforcementDelay = true
	n = renderNotice(t, in)
	for _, want := range []string{l.doingContaining, l.occurredUnknown, "We discovered it on 23 November 2026.",
		"Someone exported our customer database.", "We are finding out how.", "Contact: Help desk", "24 months of credit monitoring", l.enrol, l.lawEnforcement} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("sparse notice lacks %q", want)
		}
	}
	for _, not := range []string{l.doingReported, l.doingContained, "Security team"} {
		if strings.Contains(n.Text, not) {
			t.Errorf("sparse notice says %q without cause", not)
		}
	}
}

// TestRenderNoticeTypeSize holds the HTML to California's 10-point minimum
// (10 pt = 13.33 px).
func TestRenderNoticeTypeSize(t *testing.T) {
	re := regexp.MustCompile(`font-size:\s*([0-9.]+)(px|pt)`)
	for _, locale := range NoticeLocales() {
		n := renderNotice(t, noticeInput(t, locale, ""))
		m := re.FindAllStringSubmatch(n.HTML, -1)
		if len(m) == 0 {
			t.Fatalf("%s: no font sizes in the HTML", locale)
		}
		if strings.Count(n.HTML, "font-size") != len(m) {
			t.Errorf("%s: font sizes in units other than px or pt", locale)
		}
		for _, s := range m {
			v, _ := strconv.ParseFloat(s[1], 64)
			if s[2] == "px" {
				v *= 0.75
			}
			if v < 10 {
				t.Errorf("%s: font-size %s%s is below 10 pt", locale, s[1], s[2])
			}
		}
	}
}

func TestRenderNoticeErrors(t *testing.T) {
	for name, mutate := range map[string]func(*NoticeInput){
		"no incident": func(in *NoticeInput) { in.Incident = nil },
		"no org name": func(in *NoticeInput) { in.Org.Name = " \n" },
		"no time":     func(in *NoticeInput) { in.GeneratedAt = time.Time{} },
		"no contact":  func(in *NoticeInput) { in.Org = Organisation{Name: "Example Shop GmbH"} },
	} {
		in := noticeInput(t, "en", "")
		mutate(&in)
		if _, err := RenderNotice(in); err == nil || !strings.HasPrefix(err.Error(), "render notice: ") {
			t.Errorf("%s: err = %v, want a render notice error", name, err)
		}
	}
}

func FuzzNormalizeLocale(f *testing.F) {
	for _, s := range []string{"en", "zh-CN", "zh_Hans", "zh-TW,en;q=0.5", "", ";", ",", "-", "zh-", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NormalizeLocale(s)
		if got != LocaleEN && got != LocaleZhCN {
			t.Fatalf("NormalizeLocale(%q) = %q", s, got)
		}
		if NormalizeLocale(got) != got {
			t.Fatalf("NormalizeLocale not idempotent on %q", got)
		}
	})
}

func FuzzRenderNotice(f *testing.F) {
	f.Add("Jane Doe", "Breach", "en", "contact")
	f.Add(`<img src=x onerror=alert(1)>`, `</title><script>x</script>`, "zh", "email\r\nBcc: x")
	f.Add("", "\u2028", "zh-Hant", "<credentials>")
	f.Add("<", "<p", "en", "<li")
	render := func(t *testing.T, name, title, locale, element string) *Notice {
		t.Helper()
		// A bare incident: the full fixture evaluates the rules, too slow to fuzz.
		n, err := RenderNotice(NoticeInput{
			Incident: &breach.Status{ID: "BR-FUZZ", Title: title, NoticeTexts: map[string]breach.NoticeText{
				"en": {WhatHappened: title, WhatWeAreDoing: element}, "zh-CN": {WhatHappened: title, WhatWeAreDoing: element}}},
			Draft:        true, // a blank title renders the placeholder instead of failing
			Org:          Organisation{Name: "Shop " + title, Email: "privacy@shop.example"},
			Locale:       locale,
			Name:         name,
			DataElements: []string{element},
			GeneratedAt:  time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.Fuzz(func(t *testing.T, name, title, locale, element string) {
		n := render(t, name, title, locale, element)
		if strings.ContainsAny(n.Subject, "\r\n") {
			t.Fatalf("subject has a line break: %q", n.Subject)
		}
		// Escaping works when user text adds no markup: the same input with
		// every "<" replaced by a letter gives a document with as many tags.
		x := func(s string) string { return strings.ReplaceAll(s, "<", "x") }
		plain := render(t, x(name), x(title), locale, x(element))
		if got, want := strings.Count(n.HTML, "<"), strings.Count(plain.HTML, "<"); got != want {
			t.Fatalf("user text added markup: %d \"<\" in the HTML, %d without it\n%s", got, want, n.HTML)
		}
	})
}
