package templates

import (
	"fmt"
	"strings"
	"time"
)

// friendlyLayout is the human form shown next to every RFC 3339 time.
const friendlyLayout = "Mon 2 Jan 2006 15:04 MST"

// stamp formats t in UTC as RFC 3339 followed by a friendly form, e.g.
// "2026-11-26T08:00:00Z (Thu 26 Nov 2026 08:00 UTC)".
func stamp(t time.Time) string {
	u := t.UTC()
	return u.Format(time.RFC3339) + " (" + u.Format(friendlyLayout) + ")"
}

// Span formats a duration for people, truncated to the minute and without
// sign: "45m", "2h", "23h59m"; from four days on in days and hours ("5d3h"),
// because nobody counts 130 hours. Under a minute it is "0m". Clock mail and
// the incident timeline both use it, so they name the same time alike.
func Span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Minute)
	h := int(d / time.Hour)
	m := int(d % time.Hour / time.Minute)
	if h >= 96 {
		days, hours := h/24, h%24
		if hours == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, hours)
	}
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// span is Span under the short name this package's templates use.
func span(d time.Duration) string { return Span(d) }

// oneLine folds user text onto one line: control characters (CR and LF above
// all, which would let a title inject mail headers) become spaces and runs of
// spaces collapse.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// mdSpecial are the characters that can start Markdown (CommonMark + GFM)
// syntax anywhere in a line; all are ASCII punctuation, which CommonMark lets a
// backslash escape.
const mdSpecial = "\\`*_[]<>&~|"

// md escapes user text for inline use in Markdown: one line, with every
// character that could open emphasis, code, links, HTML, entities, tables or
// strike-through backslash-escaped.
func md(s string) string {
	return mdEscapeLine(oneLine(s), false)
}

// mdLines escapes multi-line user text for a Markdown block quote: each line is
// escaped like md, leading whitespace is dropped (it would open a code block)
// and a line that would start a heading, list or rule has that first
// character escaped too. Blank lines are kept as paragraph breaks.
func mdLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out []string
	for _, line := range strings.Split(s, "\n") {
		out = append(out, mdEscapeLine(oneLine(line), true))
	}
	// Trim blank lines at either end so a note never renders an empty quote.
	for len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func mdEscapeLine(s string, lineStart bool) string {
	var b strings.Builder
	for i, r := range s {
		if strings.ContainsRune(mdSpecial, r) {
			b.WriteByte('\\')
		} else if lineStart && i == 0 && strings.ContainsRune("#-+=", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if lineStart {
		// "1. text" or "1) text" would start an ordered list.
		digits := len(out) - len(strings.TrimLeft(out, "0123456789"))
		if digits > 0 && digits < len(out) && (out[digits] == '.' || out[digits] == ')') {
			out = out[:digits] + "\\" + out[digits:]
		}
	}
	return out
}
