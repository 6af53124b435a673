package templates

import (
	"strings"
	"testing"
	"time"
)

func TestSpan(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"},
		{59 * time.Second, "0m"},
		{45 * time.Minute, "45m"},
		{2 * time.Hour, "2h"},
		{23*time.Hour + 59*time.Minute + 59*time.Second, "23h59m"},
		{-6 * time.Hour, "6h"},
		{95 * time.Hour, "95h"},
		{96 * time.Hour, "4d"},
		{6*24*time.Hour + time.Hour + 30*time.Minute, "6d1h"},
	}
	for _, tt := range tests {
		if got := span(tt.d); got != tt.want {
			t.Errorf("span(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStamp(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	got := stamp(time.Date(2026, 11, 26, 9, 0, 0, 0, berlin))
	if want := "2026-11-26T08:00:00Z (Thu 26 Nov 2026 08:00 UTC)"; got != want {
		t.Errorf("stamp = %q, want %q", got, want)
	}
}

func TestMarkdownEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, Art. 33(4).", "plain text, Art. 33(4)."},
		{"<script>", `\<script\>`},
		{"*a* _b_ `c` [d](e) ~f~ a|b &amp;", `\*a\* \_b\_ \` + "`" + `c\` + "`" + ` \[d\](e) \~f\~ a\|b \&amp;`},
		{"line\r\nbreak", "line break"},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		if got := md(tt.in); got != tt.want {
			t.Errorf("md(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	lines := []struct {
		in   string
		want []string
	}{
		{"# heading\n- item\n+ plus\n1. one\n12) twelve\n    code", []string{`\# heading`, `\- item`, `\+ plus`, `1\. one`, `12\) twelve`, "code"}},
		{"\n\nfirst\n\nsecond\n\n", []string{"first", "", "second"}},
		{"2026 was fine", []string{"2026 was fine"}},
	}
	for _, tt := range lines {
		if got := mdLines(tt.in); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("mdLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// checkEscaped reports the first Markdown-special character of s not preceded
// by a backslash, or -1.
func checkEscaped(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++ // the escaped character
			continue
		}
		if strings.IndexByte(mdSpecial, s[i]) >= 0 {
			return i
		}
	}
	return -1
}

// FuzzMarkdownEscape checks that no user text can leave md or mdLines with an
// unescaped Markdown-special character, a line break, or a line that starts a
// block construct.
func FuzzMarkdownEscape(f *testing.F) {
	for _, seed := range []string{"", "<script>alert(1)</script>", "# x\n- y\n1. z", "a\\", "*_`[]<>&~|", "\r\n\u2028", "    indented", "99) x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := md(s)
		if strings.ContainsAny(got, "\r\n") {
			t.Fatalf("md(%q) = %q has a line break", s, got)
		}
		if i := checkEscaped(got); i >= 0 {
			t.Fatalf("md(%q) = %q: unescaped %q at %d", s, got, got[i], i)
		}
		for _, line := range mdLines(s) {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("mdLines(%q) line %q has a break", s, line)
			}
			if i := checkEscaped(line); i >= 0 {
				t.Fatalf("mdLines(%q) line %q: unescaped %q", s, line, line[i])
			}
			if line != "" && (strings.ContainsRune("#-+= \t", rune(line[0]))) {
				t.Fatalf("mdLines(%q) line %q starts a block", s, line)
			}
		}
	})
}

// FuzzRenderReport feeds arbitrary incident text through the report: it must
// render, and no "<" of the text may reach the HTML unescaped. The same input
// with each "<" replaced keeps every section's shape, so both renders must
// hold the same number of tag openers.
func FuzzRenderReport(f *testing.F) {
	for _, seed := range []string{"<script>alert(1)</script>", "plain", "</dd><b>x", "\x00\r\n# h", "<", ""} {
		f.Add(seed, seed)
	}
	render := func(t *testing.T, title, note string) string {
		in := fullInput(t)
		in.Incident.Title = title
		in.Incident.Summary = note
		in.Incident.Steps[1].Note = note
		r, err := RenderReport(in)
		if err != nil {
			t.Fatal(err)
		}
		return r.HTML
	}
	f.Fuzz(func(t *testing.T, title, note string) {
		got := render(t, title, note)
		safe := render(t, strings.ReplaceAll(title, "<", "x"), strings.ReplaceAll(note, "<", "x"))
		if a, b := strings.Count(got, "<"), strings.Count(safe, "<"); a != b {
			t.Fatalf("user text added %d tag openers to the HTML", a-b)
		}
	})
}
