package templates

import (
	"strings"
	"testing"

	"github.com/breachflow/breachflow/internal/breach"
)

// between is the section under heading, up to the heading next. The
// intro names the headings too; the headings themselves come last.
func between(t *testing.T, doc, heading, next string) string {
	t.Helper()
	i := strings.LastIndex(doc, heading)
	j := strings.Index(doc[max(i, 0):], next)
	if i < 0 || j < 0 {
		t.Fatalf("no section %q before %q in\n%s", heading, next, doc)
	}
	return doc[i+len(heading) : i+j]
}

// TestNoticeCarriesLegalTexts: each locale's notice says what legal wrote
// for that locale under "what happened" and "what we are doing", and the
// incident's own English title and summary appear nowhere in it.
func TestNoticeCarriesLegalTexts(t *testing.T) {
	texts := legalTexts()
	for _, tc := range []struct {
		locale                                  string
		hHappened, hInformation, hDoing, hCanDo string
		otherLocale                             string
	}{
		{"en", "What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "zh-CN"},
		{"zh-CN", "发生了什么", "涉及哪些信息", "我们正在采取的措施", "您可以采取的措施", "en"},
	} {
		n := renderNotice(t, noticeInput(t, tc.locale, ""))
		for part, doc := range map[string]string{"text": n.Text, "html": n.HTML} {
			happened := between(t, doc, tc.hHappened, tc.hInformation)
			doing := between(t, doc, tc.hDoing, tc.hCanDo)
			for _, p := range strings.Split(texts[tc.locale].WhatHappened, "\n") {
				if !strings.Contains(happened, p) {
					t.Errorf("%s %s: %s lacks legal's %q", tc.locale, part, tc.hHappened, p)
				}
			}
			if !strings.Contains(doing, texts[tc.locale].WhatWeAreDoing) {
				t.Errorf("%s %s: %s lacks legal's %q", tc.locale, part, tc.hDoing, texts[tc.locale].WhatWeAreDoing)
			}
			inc := noticeInput(t, tc.locale, "").Incident
			for _, not := range []string{inc.Title, "CRM export", "Access logs show", texts[tc.otherLocale].WhatWeAreDoing,
				strings.Split(texts[tc.otherLocale].WhatHappened, "\n")[0]} {
				if strings.Contains(doc, not) {
					t.Errorf("%s %s: notice carries %q", tc.locale, part, not)
				}
			}
		}
	}
}

// TestNoticeRefusesUnwrittenTexts: a notice whose locale lacks legal's
// texts is not rendered for sending, and the error names the locale and
// the texts; a draft (the preview) shows a marked placeholder instead.
func TestNoticeRefusesUnwrittenTexts(t *testing.T) {
	in := noticeInput(t, "zh-CN", "张伟")
	delete(in.Incident.NoticeTexts, "zh-CN")
	_, err := RenderNotice(in)
	if err == nil || err.Error() != "render notice: zh-CN: what_happened and what_we_are_doing are not written" {
		t.Fatalf("err = %v", err)
	}
	in.Incident.NoticeTexts["zh-CN"] = breach.NoticeText{WhatHappened: "已写。"}
	if _, err := RenderNotice(in); err == nil || !strings.Contains(err.Error(), "zh-CN: what_we_are_doing is not written") {
		t.Fatalf("half written: err = %v", err)
	}
	var cache NoticeCache
	if _, err := cache.Render(in); err == nil {
		t.Fatal("the cache rendered a notice legal did not write")
	}

	in.Draft = true
	n := renderNotice(t, in)
	if !strings.Contains(n.Text, "已写。") || !strings.Contains(n.Text, "[DRAFT: legal has not written what_we_are_doing for zh-CN yet]") {
		t.Errorf("draft lacks legal's text or the placeholder:\n%s", n.Text)
	}
	if strings.Contains(n.Text, in.Incident.Title) {
		t.Errorf("draft falls back to the English title:\n%s", n.Text)
	}
}
