package letters

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
)

// Page layout in millimetres. The address sits where DIN 5008 (A4) and
// US #10 window envelopes both show it.
const (
	marginLeft   = 25.0
	marginRight  = 20.0
	marginTop    = 20.0
	marginBottom = 22.0
	windowTop    = 50.0
	windowWidth  = 85.0
	bodyPt       = 10.5 // California asks for at least 10-point type
	titlePt      = 15.0
	lineMM       = 5.0
)

// Placed is where one letter landed in a batch PDF.
type Placed struct {
	Letter    *Letter
	FirstPage int
	Pages     int
	Paper     Paper
}

// labels are the few words a letter adds around the notice text.
type labels struct {
	reference, page, remedy, product, code, enroll, enrollBy string
	date                                                     func(time.Time) string
}

func labelsFor(locale string) labels {
	if locale == "zh-CN" {
		return labels{reference: "函件编号", page: "第 %d 页", remedy: "为您提供的补救服务", product: "服务",
			code: "您的注册码", enroll: "注册网址", enrollBy: "注册截止日期",
			date: func(t time.Time) string { return t.Format("2006年1月2日") }}
	}
	return labels{reference: "Reference", page: "Page %d", remedy: "Your protection offer", product: "Product",
		code: "Your enrollment code", enroll: "Enroll at", enrollBy: "Enroll by",
		date: func(t time.Time) string { return t.Format("2 January 2006") }}
}

// Render writes one PDF holding every letter, each starting on a new page
// of its own paper size, and returns where each landed. Every letter must
// have passed Check; one that does not fails the whole render. at is the
// PDF's creation date, so the same letters make the same file.
func (r *Renderer) Render(w io.Writer, letters []Letter, at time.Time) ([]Placed, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Notice of Data Breach", true)
	pdf.SetMargins(marginLeft, marginTop, marginRight)
	pdf.SetAutoPageBreak(true, marginBottom)
	pdf.AddUTF8FontFromBytes(r.latin.name, "", r.latin.bytes)
	pdf.AddUTF8FontFromBytes(r.cjk.name, "", r.cjk.bytes)
	var (
		cur   *Letter
		first int
	)
	var buf sfnt.Buffer
	tw := &typesetter{pdf: pdf, r: r, buf: &buf}
	pdf.SetFooterFunc(func() {
		if cur == nil {
			return
		}
		l := labelsFor(cur.Locale)
		pdf.SetY(-15)
		pdf.SetTextColor(90, 90, 90)
		tw.para(4, 8, l.reference+" "+cur.Reference+"   "+fmt.Sprintf(l.page, pdf.PageNo()-first+1))
		pdf.SetTextColor(0, 0, 0)
	})
	placed := make([]Placed, 0, len(letters))
	for i := range letters {
		l := &letters[i]
		if err := r.covered(*l); err != nil {
			return nil, fmt.Errorf("letters: letter %s: %w", l.Reference, err)
		}
		cur = l
		paper := PaperFor(l.Address.Country)
		pdf.AddPageFormat("P", fpdf.SizeType{Wd: paper.Width, Ht: paper.Height})
		first = pdf.PageNo()
		tw.letter(l)
		placed = append(placed, Placed{Letter: l, FirstPage: first, Pages: pdf.PageNo() - first + 1, Paper: paper})
		if pdf.Err() {
			return nil, fmt.Errorf("letters: letter %s: %w", l.Reference, pdf.Error())
		}
	}
	if err := pdf.Output(w); err != nil {
		return nil, fmt.Errorf("letters: write pdf: %w", err)
	}
	return placed, nil
}

// typesetter writes text run by run in the font that has each glyph.
type typesetter struct {
	pdf *fpdf.Fpdf
	r   *Renderer
	buf *sfnt.Buffer
}

// write flows text from the current position, wrapping at the margins.
func (t *typesetter) write(h, size float64, text string) {
	runStart, cur := 0, ""
	flush := func(end int) {
		if end > runStart {
			t.pdf.SetFont(cur, "", size)
			t.pdf.Write(h, text[runStart:end])
		}
		runStart = end
	}
	for i, c := range text {
		f := t.r.latin.name
		if !t.r.latin.has(t.buf, c) {
			f = t.r.cjk.name
		}
		if unicode.IsSpace(c) && cur != "" {
			f = cur
		}
		if f != cur {
			flush(i)
			cur = f
		}
	}
	flush(len(text))
}

// para writes text as a paragraph and moves below it.
func (t *typesetter) para(h, size float64, text string) {
	t.write(h, size, text)
	t.pdf.Ln(h)
}

func (t *typesetter) letter(l *Letter) {
	pdf := t.pdf
	lab := labelsFor(l.Locale)
	w, _ := pdf.GetPageSize()
	pdf.SetRightMargin(w - marginLeft - windowWidth)
	pdf.SetXY(marginLeft, windowTop)
	for _, line := range addressLines(l.Name, l.Address) {
		t.para(lineMM, bodyPt, line)
	}
	pdf.SetRightMargin(marginRight)
	y := windowTop + 45
	if l.Remedy != nil {
		y = t.remedyBox(lab, l.Remedy, y)
	}
	pdf.SetXY(marginLeft, y)
	lines := strings.Split(strings.ReplaceAll(l.Text, "\r\n", "\n"), "\n")
	if len(lines) > 0 {
		// The notice's first line is its title ("Notice of Data Breach").
		t.para(7, titlePt, strings.TrimSpace(lines[0]))
		lines = lines[1:]
	}
	for _, line := range lines {
		s := strings.TrimRight(line, " ")
		switch {
		case s == "--":
			continue // the email's signature separator
		case s == "":
			pdf.Ln(2.5)
		case strings.HasPrefix(s, "  - "):
			pdf.SetLeftMargin(marginLeft + 4)
			pdf.SetX(marginLeft + 4)
			t.para(lineMM, bodyPt, "• "+strings.TrimPrefix(s, "  - "))
			pdf.SetLeftMargin(marginLeft)
		default:
			t.para(lineMM, bodyPt, s)
		}
	}
}

// remedyBox draws the remedy offer in a frame and returns the y below it.
func (t *typesetter) remedyBox(lab labels, rm *Remedy, y float64) float64 {
	pdf := t.pdf
	pdf.SetXY(marginLeft+3, y+2)
	t.para(6, 11.5, lab.remedy)
	rows := [][2]string{{lab.product, rm.Product}, {lab.code, rm.Code}}
	if rm.URL != "" {
		rows = append(rows, [2]string{lab.enroll, rm.URL})
	}
	if !rm.EnrollBy.IsZero() {
		rows = append(rows, [2]string{lab.enrollBy, lab.date(rm.EnrollBy)})
	}
	for _, row := range rows {
		size := bodyPt
		if row[0] == lab.code {
			size = 13
		}
		top := pdf.GetY()
		pdf.SetX(marginLeft + 3)
		t.write(lineMM+1, bodyPt, row[0])
		pdf.SetLeftMargin(marginLeft + 48)
		pdf.SetXY(marginLeft+48, top)
		t.para(lineMM+1, size, row[1])
		pdf.SetLeftMargin(marginLeft)
	}
	bottom := pdf.GetY() + 2
	w, _ := pdf.GetPageSize()
	pdf.Rect(marginLeft, y, w-marginLeft-marginRight, bottom-y, "D")
	return bottom + 6
}

// ManifestHeader is the manifest CSV's header row.
var ManifestHeader = []string{"reference", "first_page", "pages", "paper", "locale", "name",
	"address_line1", "address_line2", "address_line3", "city", "region", "postal_code", "country"}

// WriteManifest writes the manifest a mailing house matches pages to
// envelopes with. Cells pass through subjects.SafeCSVCell, so a name that
// looks like a formula stays text in a spreadsheet.
func WriteManifest(w io.Writer, placed []Placed) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ManifestHeader); err != nil {
		return err
	}
	for _, p := range placed {
		a := p.Letter.Address
		lines := append(append([]string{}, a.Lines...), "", "", "")
		row := []string{p.Letter.Reference, strconv.Itoa(p.FirstPage), strconv.Itoa(p.Pages), p.Paper.Name, p.Letter.Locale,
			p.Letter.Name, lines[0], lines[1], lines[2], a.City, a.Region, a.PostalCode, a.Country}
		for i := range row {
			row[i] = subjects.SafeCSVCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
