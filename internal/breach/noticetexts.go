package breach

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Locales a customer notice is written in. Each needs legal's texts
// (NoticeText) before customers of that locale can be sent a notice.
const (
	LocaleEN   = "en"
	LocaleZhCN = "zh-CN"
)

// NoticeLocales returns the locales a notice can be written in.
func NoticeLocales() []string { return []string{LocaleEN, LocaleZhCN} }

// NormalizeLocale maps a locale tag (or an Accept-Language value, whose first
// tag counts) to one of NoticeLocales(): "zh", "zh-Hans", "zh_CN", "zh-SG" →
// "zh-CN"; "en-GB" → "en"; anything else → "en", because a notice nobody can
// read is worse than one in English.
func NormalizeLocale(s string) string {
	tag, _, _ := strings.Cut(s, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	parts := strings.Split(tag, "-")
	if parts[0] != "zh" {
		return LocaleEN
	}
	// Simplified Chinese only: Traditional-script regions are not translated yet.
	for _, p := range parts[1:] {
		switch p {
		case "hant", "tw", "hk", "mo":
			return LocaleEN
		}
	}
	return LocaleZhCN
}

// MaxNoticeTextLen is the longest a notice text may be, in characters.
const MaxNoticeTextLen = 4000

// NoticeText is what legal writes for the customer notice of one locale:
// the paragraphs under "What Happened" and "What We Are Doing". It is
// incident content, not customer data.
type NoticeText struct {
	WhatHappened   string `json:"what_happened"`
	WhatWeAreDoing string `json:"what_we_are_doing"`
	// FAQ and Contact are shown on the customer's notice page (optional):
	// questions and answers, and how to reach the team handling the breach.
	FAQ       string    `json:"faq,omitempty"`
	Contact   string    `json:"contact,omitempty"`
	WrittenBy string    `json:"written_by,omitempty"`
	WrittenAt time.Time `json:"written_at,omitzero"`
}

// Missing names the texts t lacks, by their field names.
func (t NoticeText) Missing() []string {
	var out []string
	if strings.TrimSpace(t.WhatHappened) == "" {
		out = append(out, "what_happened")
	}
	if strings.TrimSpace(t.WhatWeAreDoing) == "" {
		out = append(out, "what_we_are_doing")
	}
	return out
}

// Unwritten says what of t is missing for locale, e.g. "zh-CN:
// what_happened and what_we_are_doing are not written", or "" when t is
// complete.
func (t NoticeText) Unwritten(locale string) string {
	m := t.Missing()
	if len(m) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s %s not written", locale, strings.Join(m, " and "), isAre(len(m)))
}

// SetNoticeText writes legal's texts of one locale, replacing what was
// written before.
type SetNoticeText struct {
	Actor          Actor  `json:"actor"`
	Locale         string `json:"locale"`
	WhatHappened   string `json:"what_happened"`
	WhatWeAreDoing string `json:"what_we_are_doing"`
	FAQ            string `json:"faq,omitempty"`
	Contact        string `json:"contact,omitempty"`
}

// Check refuses an unknown locale and empty or over-long texts.
func (in SetNoticeText) Check() error {
	if !slices.Contains(NoticeLocales(), in.Locale) {
		return fmt.Errorf("locale must be one of %s, not %q", strings.Join(NoticeLocales(), ", "), in.Locale)
	}
	if m := (NoticeText{WhatHappened: in.WhatHappened, WhatWeAreDoing: in.WhatWeAreDoing}).Missing(); len(m) > 0 {
		return fmt.Errorf("%s: %s %s required", in.Locale, strings.Join(m, " and "), isAre(len(m)))
	}
	for _, f := range [...]struct{ name, v string }{{"what_happened", in.WhatHappened}, {"what_we_are_doing", in.WhatWeAreDoing},
		{"faq", in.FAQ}, {"contact", in.Contact}} {
		if n := utf8.RuneCountInString(f.v); n > MaxNoticeTextLen {
			return fmt.Errorf("%s: %s is %d characters; at most %d", in.Locale, f.name, n, MaxNoticeTextLen)
		}
	}
	return nil
}

// MissingNoticeTexts names, per locale that has customers in scope
// (customers counted by notice locale), the texts legal has not written,
// e.g. "zh-CN: what_happened and what_we_are_doing are not written (3
// customers)". It is empty when every locale in scope can be sent.
func MissingNoticeTexts(texts map[string]NoticeText, customers map[string]int) []string {
	locales := make([]string, 0, len(customers))
	for l, n := range customers {
		if n > 0 {
			locales = append(locales, l)
		}
	}
	sort.Strings(locales)
	var out []string
	for _, l := range locales {
		if u := texts[l].Unwritten(l); u != "" {
			out = append(out, fmt.Sprintf("%s (%d %s)", u, customers[l], plural(customers[l], "customer", "customers")))
		}
	}
	return out
}

// NoticeTextsMissing starts the refusal of a send when a locale with
// customers lacks legal's texts; MissingNoticeTexts names each locale.
const NoticeTextsMissing = "no notice is sent to anyone until legal writes the notice texts of every locale with customers"

func isAre(n int) string { return plural(n, "is", "are") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// NoticeTextsVersion names one wording of the customer notice: a hash of
// every locale's texts (who wrote them and when do not count), so an
// approval can say which wording it approved. "" when nothing is written.
func NoticeTextsVersion(texts map[string]NoticeText) string {
	if len(texts) == 0 {
		return ""
	}
	locales := make([]string, 0, len(texts))
	for l := range texts {
		locales = append(locales, l)
	}
	sort.Strings(locales)
	h := sha256.New()
	for _, l := range locales {
		t := texts[l]
		fmt.Fprintf(h, "%d:%s%d:%s%d:%s", len(l), l, len(t.WhatHappened), t.WhatHappened, len(t.WhatWeAreDoing), t.WhatWeAreDoing)
		// The notice page's FAQ and contact are part of what is approved;
		// hashed only when written, so versions without them keep their value.
		if t.FAQ != "" || t.Contact != "" {
			fmt.Fprintf(h, "%d:%s%d:%s", len(t.FAQ), t.FAQ, len(t.Contact), t.Contact)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
