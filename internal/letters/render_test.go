package letters

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/templates"
)

var docsImage = flag.Bool("docs-image", false, "write the zh-CN letter's first page to docs/img/letter-zh-CN.png")

// tool returns the path of a poppler-utils program, skipping the test
// when it is missing (failing under CI, whose .ci/run installs it).
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (Debian poppler-utils)", name)
		}
		t.Skipf("%s is missing: apt-get install poppler-utils", name)
	}
	return p
}

func renderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := NewRenderer(DefaultFonts)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("fonts missing (apt-get install fonts-dejavu-core fonts-droid-fallback): %v", err)
	}
	return r
}

func incident() *breach.Status {
	aware := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	return &breach.Status{ID: "BR-LTR001", Title: "CRM export on a public bucket", LaunchedAt: aware,
		Facts: breach.Facts{AwareAt: aware, DataCategories: []string{"contact", "financial"}},
		NoticeTexts: map[string]breach.NoticeText{
			"en":    {WhatHappened: "A copy of our customer database was left on a public storage bucket.", WhatWeAreDoing: "We closed the bucket and are reviewing every access."},
			"zh-CN": {WhatHappened: "我们的客户数据库副本被存放在一个公开的存储桶中。", WhatWeAreDoing: "我们已关闭该存储桶，并正在审查每一次访问。"},
		}}
}

var org = templates.Organisation{Name: "Example Shop Inc.", Contact: "Privacy team", Email: "privacy@shop.example", Phone: "+1 800 555 0100"}

func compose(t testing.TB, ref, locale, name string, a subjects.Address, rm *Remedy) Letter {
	t.Helper()
	l, err := Compose(templates.NoticeInput{Incident: incident(), Org: org, Locale: locale, Name: name,
		GeneratedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}, ref, a, rm)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var (
	usAddress = subjects.Address{Lines: []string{"1 Market St", "Suite 200"}, City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"}
	cnAddress = subjects.Address{Lines: []string{"朝阳区建国路88号"}, City: "北京市", Region: "北京", PostalCode: "100022", Country: "CN"}
)

// TestLetterEachLocale renders an en letter to the US and a zh-CN letter to
// China, each with a remedy code, and reads them back: pdftotext must find
// the customer's name, code and the notice's headings, and pdftoppm must
// draw each page.
func TestLetterEachLocale(t *testing.T) {
	r := renderer(t)
	pdftotext, pdftoppm := tool(t, "pdftotext"), tool(t, "pdftoppm")
	enroll := time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		locale, name, code, heading, paper string
		addr                               subjects.Address
	}{
		{"en", "Jane Q. Roe", "ENR-EN-4821-KQ", "What Happened", "Letter", usAddress},
		{"zh-CN", "王小明", "ENR-ZH-7734-MX", "发生了什么", "A4", cnAddress},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			l := compose(t, "BR-LTR001.letter.1", tc.locale, tc.name, tc.addr,
				&Remedy{Product: "Credit monitoring, 12 months", Code: tc.code, URL: "https://enroll.example/shop", EnrollBy: enroll})
			var pdf bytes.Buffer
			placed, err := r.Render(&pdf, []Letter{l}, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if len(placed) != 1 || placed[0].FirstPage != 1 || placed[0].Paper.Name != tc.paper {
				t.Errorf("placed = %+v, want one letter on %s from page 1", placed, tc.paper)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "letter.pdf")
			if err := os.WriteFile(file, pdf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftotext, "-enc", "UTF-8", file, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := string(out)
			for _, want := range []string{tc.name, tc.code, tc.heading, "BR-LTR001", tc.addr.PostalCode, tc.addr.Lines[0]} {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, text)
				}
			}
			if err := exec.Command(pdftoppm, "-png", "-r", "60", file, filepath.Join(dir, "page")).Run(); err != nil {
				t.Fatalf("pdftoppm: %v", err)
			}
			pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
			if len(pages) != placed[0].Pages || len(pages) == 0 {
				t.Fatalf("pdftoppm drew %d pages, the letter has %d", len(pages), placed[0].Pages)
			}
			png, err := os.ReadFile(pages[0])
			if err != nil || len(png) < 10_000 {
				t.Fatalf("page image is %d bytes (%v): nothing drawn?", len(png), err)
			}
			if tc.locale == "zh-CN" && *docsImage {
				if err := exec.Command(pdftoppm, "-png", "-r", "70", "-singlefile", file, "../../docs/img/letter-zh-CN").Run(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestUnprintable refuses addresses the post cannot deliver and names
// the fonts cannot draw, without quoting them.
func TestUnprintable(t *testing.T) {
	r := renderer(t)
	noZip := usAddress
	noZip.PostalCode = ""
	noLines := cnAddress
	noLines.Lines = nil
	hk := subjects.Address{Lines: []string{"1 Queen's Road"}, City: "Central", Country: "HK"}
	for _, tc := range []struct {
		name, locale, who string
		addr              subjects.Address
		want              string // "" = printable
	}{
		{"complete US", "en", "Jane Roe", usAddress, ""},
		{"Han name in an en letter", "en", "李雷", usAddress, ""},
		{"Hong Kong needs no postal code", "en", "Jane Roe", hk, ""},
		{"no postal code", "en", "Jane Roe", noZip, "no postal code"},
		{"no street", "zh-CN", "王小明", noLines, "no street line"},
		{"no name", "en", "", usAddress, "no name"},
		{"character no font has", "en", "Jane \U00010900 Roe", usAddress, "U+10900"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Check(Letter{Locale: tc.locale, Name: tc.who, Address: tc.addr})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check = %v, want printable", err)
			case tc.want != "" && (!errors.Is(err, ErrUnprintable) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check = %v, want %q", err, tc.want)
			case err != nil && tc.who != "" && strings.Contains(err.Error(), tc.who):
				t.Errorf("the reason quotes the name: %v", err)
			}
		})
	}
}

// TestManifest lists each letter's pages and address for the mailing
// house, neutralising cells a spreadsheet would run.
func TestManifest(t *testing.T) {
	r := renderer(t)
	ls := []Letter{
		compose(t, "R1", "en", "=HYPERLINK(\"x\")", usAddress, nil),
		compose(t, "R2", "zh-CN", "王小明", cnAddress, nil),
	}
	placed, err := r.Render(&bytes.Buffer{}, ls, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	if err := WriteManifest(&m, placed); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(m.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "reference,first_page,pages,paper") {
		t.Fatalf("manifest:\n%s", m.String())
	}
	if !strings.HasPrefix(lines[1], "R1,1,") || !strings.Contains(lines[1], ",Letter,en,") || !strings.Contains(lines[1], `"'=HYPERLINK`) {
		t.Errorf("row 1 = %s", lines[1])
	}
	if want := "R2," + itoa(placed[1].FirstPage) + ","; !strings.HasPrefix(lines[2], want) || !strings.Contains(lines[2], ",A4,zh-CN,王小明,") {
		t.Errorf("row 2 = %s, want it from page %d", lines[2], placed[1].FirstPage)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
