package templates

import (
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
)

// TestNoticeCacheMatchesRenderNotice: for names that need escaping, that
// are empty, long, Chinese or a spreadsheet formula, in both locales and
// with per-customer data elements, the cache gives exactly what
// RenderNotice gives.
func TestNoticeCacheMatchesRenderNotice(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	inc := &breach.Status{ID: "BR-CACHE1", Title: "CRM export on a public bucket", Summary: "A bucket was public.", LaunchedAt: at,
		Facts: breach.Facts{AwareAt: at, DataCategories: []string{"contact", "financial"}},
		NoticeTexts: map[string]breach.NoticeText{"en": {WhatHappened: "A bucket was public.", WhatWeAreDoing: "We closed it."},
			"zh-CN": {WhatHappened: "一个存储桶曾被公开。", WhatWeAreDoing: "我们已将其关闭。"}}}
	org := Organisation{Name: "Example Org", Email: "dpo@example.org"}
	names := []string{"Ann <b>Lee</b>", `O'Brien & "Sons" + co`, "李雷", `=HYPERLINK("http://evil")`, "", "  two\nlines  ",
		"<script>alert(1)</script>", "Zoë"}
	var cache NoticeCache
	for round := range 2 { // the second round is served from the cache
		for _, loc := range []string{"en", "zh-CN", "fr"} {
			for _, elems := range [][]string{nil, {"email address", "card number"}} {
				for _, name := range names {
					in := NoticeInput{Incident: inc, Org: org, Locale: loc, Name: name, DataElements: elems, GeneratedAt: at}
					want, err := RenderNotice(in)
					if err != nil {
						t.Fatal(err)
					}
					got, err := cache.Render(in)
					if err != nil {
						t.Fatal(err)
					}
					if *got != *want {
						t.Fatalf("round %d, %s, %v, name %q: cached notice differs\n--- cached HTML\n%s\n--- rendered HTML\n%s", round, loc, elems, name, got.HTML, want.HTML)
					}
				}
			}
		}
	}
	if len(cache.protos) != 2*2*2 { // fr falls back to en
		t.Errorf("%d prototypes, want one per locale × data elements × named/unnamed (8)", len(cache.protos))
	}
}

// TestNoticeCacheMatchesRenderNoticeWithLinkAndCode: with each customer's
// notice-page link and remedy code filled in too — plain, needing
// escaping, and a name that spells another stand-in token, which must come
// out as written — the cache gives exactly what RenderNotice gives.
func TestNoticeCacheMatchesRenderNoticeWithLinkAndCode(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	inc := &breach.Status{ID: "BR-CACHE2", Title: "CRM export", LaunchedAt: at,
		Facts: breach.Facts{AwareAt: at, DataCategories: []string{"contact"}},
		NoticeTexts: map[string]breach.NoticeText{"en": {WhatHappened: "A bucket was public.", WhatWeAreDoing: "We closed it."},
			"zh-CN": {WhatHappened: "一个存储桶曾被公开。", WhatWeAreDoing: "我们已将其关闭。"}}}
	org := Organisation{Name: "Example Org", Email: "dpo@example.org"}
	names := []string{"Ann Lee", "Ann+Lee", `O'Brien & "Sons" + co`, "", pageToken, codeToken + "x" + nameToken}
	pages := []string{"", "https://notices.example/n/AbC_dEf-123", "https://notices.example/n/a+b", "https://notices.example/n/a+b?c=1&d=<2>"}
	codes := []string{"", "CM-2026-0001", "A+B<&>'\"" + pageToken}
	var cache NoticeCache
	for round := range 2 {
		for _, loc := range []string{"en", "zh-CN"} {
			for _, name := range names {
				for _, page := range pages {
					for _, code := range codes {
						in := NoticeInput{Incident: inc, Org: org, Locale: loc, Name: name, GeneratedAt: at, PageURL: page}
						if code != "" {
							in.Remedy = &NoticeRemedy{Product: "Credit monitoring", Code: code,
								EnrollmentURL: "https://enroll.example/", EnrollBy: at.AddDate(0, 3, 0)}
						}
						want, err := RenderNotice(in)
						if err != nil {
							t.Fatal(err)
						}
						got, err := cache.Render(in)
						if err != nil {
							t.Fatal(err)
						}
						if *got != *want {
							t.Fatalf("round %d, %s, name %q, page %q, code %q: cached notice differs\n--- cached HTML\n%s\n--- rendered HTML\n%s",
								round, loc, name, page, code, got.HTML, want.HTML)
						}
					}
				}
			}
		}
	}
}
