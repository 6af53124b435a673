// Package letters renders the postal letters of customer notices: one
// print-ready PDF page set per customer, in the customer's locale, with
// the same text as the email notice (templates.RenderNotice), the address
// placed for a window envelope, and the customer's remedy code when there
// is one. A batch is one PDF for a mailing house plus a manifest CSV that
// says which pages belong to which letter.
//
// # Fonts
//
// go-pdf/fpdf embeds TrueType fonts (a subset of the glyphs used). Latin
// letters use DejaVu Sans (Bitstream Vera licence: embedding and
// redistribution allowed); Droid Sans Fallback (Apache License 2.0) sets what DejaVu lacks, CJK above all: Droid Sans Fallback
// has no Latin letters, so text is set run by run in whichever font has
// the glyph. fpdf reads TrueType outlines only, so the
// OpenType/CFF collections of Noto Sans CJK and Source Han Sans do not
// work without conversion. The fonts are not committed (Droid Sans
// Fallback is 4 MB): Debian's fonts-dejavu-core and fonts-droid-fallback
// install them at the paths in DefaultFonts, and Fonts says where else to
// look (BREACHFLOW_LETTER_FONT, BREACHFLOW_LETTER_FONT_CJK).
package letters

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/breachflow/breachflow/internal/subjects"
	"github.com/breachflow/breachflow/templates"
	"golang.org/x/image/font/sfnt"
)

// Fonts are the TrueType files letters are set in.
type Fonts struct {
	Latin string // a TTF covering Latin, Greek and Cyrillic
	CJK   string // a TTF covering Chinese (and Latin, for mixed text)
}

// DefaultFonts are where Debian's fonts-dejavu-core and
// fonts-droid-fallback packages install the fonts.
var DefaultFonts = Fonts{
	Latin: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	CJK:   "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
}

// Remedy is the offer a letter shows: the product, the customer's own
// enrollment code, where and by when to enroll. The remedy-code pool
// fills it; a letter without one shows no remedy box.
type Remedy struct {
	Product  string
	Code     string
	URL      string
	EnrollBy time.Time
}

// Letter is one customer's letter. Name and Address are personal data:
// they are only ever in memory and in the PDF and manifest handed to the
// printer.
type Letter struct {
	Reference string // printed on each page; the letter notice's id, no personal data
	Locale    string // "en" or "zh-CN"
	Name      string
	Address   subjects.Address
	Title     string // the notice's subject line
	Text      string // the notice's plain-text part
	Remedy    *Remedy
}

// face is one loaded font: its bytes for fpdf and its parsed tables for
// glyph look-ups.
type face struct {
	name  string
	bytes []byte
	sfnt  *sfnt.Font
}

// Renderer holds the loaded fonts; it is safe for concurrent use.
type Renderer struct {
	latin, cjk face
}

// NewRenderer loads the fonts; a missing or unreadable file is an error
// naming it.
func NewRenderer(f Fonts) (*Renderer, error) {
	latin, err := loadFace("latin", f.Latin)
	if err != nil {
		return nil, err
	}
	cjk, err := loadFace("cjk", f.CJK)
	if err != nil {
		return nil, err
	}
	return &Renderer{latin: latin, cjk: cjk}, nil
}

func loadFace(name, path string) (face, error) {
	if path == "" {
		return face{}, fmt.Errorf("letters: no %s font file configured", name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return face{}, fmt.Errorf("letters: %s font: %w", name, err)
	}
	sf, err := sfnt.Parse(b)
	if err != nil {
		return face{}, fmt.Errorf("letters: %s font %s is not a TrueType font: %w", name, path, err)
	}
	return face{name: name, bytes: b, sfnt: sf}, nil
}

// has reports whether the face has a glyph for r; spaces always count.
func (f face) has(buf *sfnt.Buffer, r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	g, err := f.sfnt.GlyphIndex(buf, r)
	return err == nil && g != 0
}

// ErrUnprintable is the error of a letter that cannot be printed; the
// message after it says why without quoting personal data.
var ErrUnprintable = errors.New("cannot be printed")

// postalCodeOptional are countries whose post delivers without a postal
// code.
var postalCodeOptional = map[string]bool{"HK": true, "MO": true, "AE": true, "QA": true, "IE": true, "PA": true, "JM": true}

// covered checks that every character of the letter's name and address
// is in one of the fonts: text is set in the Latin font where it has the
// glyph and in the CJK font otherwise.
func (r *Renderer) covered(l Letter) error {
	if err := checkAddress(l); err != nil {
		return err
	}
	var buf sfnt.Buffer
	for _, s := range addressLines(l.Name, l.Address) {
		for _, c := range s {
			if !r.latin.has(&buf, c) && !r.cjk.has(&buf, c) {
				return fmt.Errorf("%w: the fonts lack character U+%04X", ErrUnprintable, c)
			}
		}
	}
	return nil
}

func checkAddress(l Letter) error {
	a := l.Address
	var miss []string
	if strings.TrimSpace(l.Name) == "" {
		miss = append(miss, "name")
	}
	if len(a.Lines) == 0 {
		miss = append(miss, "street line")
	}
	if a.City == "" {
		miss = append(miss, "city")
	}
	if a.PostalCode == "" && !postalCodeOptional[a.Country] {
		miss = append(miss, "postal code")
	}
	if a.Country == "" {
		miss = append(miss, "country")
	}
	if len(miss) > 0 {
		return fmt.Errorf("%w: no %s", ErrUnprintable, strings.Join(miss, ", no "))
	}
	return nil
}

// Check says whether the letter can be printed: an address with a name,
// a street line, a city, a postal code (where the country uses them) and a
// country, in characters the fonts have.
func (r *Renderer) Check(l Letter) error {
	return r.covered(l)
}

// Paper is a page size in millimetres.
type Paper struct {
	Name          string
	Width, Height float64
}

// Paper sizes: North America and a few others use US Letter; the rest A4.
var (
	A4         = Paper{Name: "A4", Width: 210, Height: 297}
	USLetter   = Paper{Name: "Letter", Width: 215.9, Height: 279.4}
	letterLand = map[string]bool{"US": true, "CA": true, "MX": true, "PH": true, "CL": true, "CO": true, "VE": true,
		"GT": true, "DO": true, "CR": true, "PR": true}
)

// PaperFor is the paper a letter to country is printed on.
func PaperFor(country string) Paper {
	if letterLand[country] {
		return USLetter
	}
	return A4
}

// addressLines is the envelope window's text in the order the country's
// post reads: Chinese addresses run from the largest unit to the
// addressee, others from the addressee down.
func addressLines(name string, a subjects.Address) []string {
	country := countryName(a.Country)
	if a.Country == "CN" || a.Country == "TW" || a.Country == "HK" || a.Country == "MO" {
		out := []string{}
		if a.PostalCode != "" {
			out = append(out, a.PostalCode)
		}
		out = append(out, strings.TrimSpace(a.Region+" "+a.City))
		out = append(out, a.Lines...)
		return append(out, name, country)
	}
	out := append([]string{name}, a.Lines...)
	switch a.Country {
	case "US", "CA", "AU":
		out = append(out, strings.TrimSpace(a.City+" "+strings.TrimSpace(a.Region+"  "+a.PostalCode)))
	case "GB":
		out = append(out, a.City)
		if a.Region != "" {
			out = append(out, a.Region)
		}
		out = append(out, a.PostalCode)
	default:
		out = append(out, strings.TrimSpace(a.PostalCode+" "+a.City))
		if a.Region != "" {
			out = append(out, a.Region)
		}
	}
	return append(out, country)
}

// countryName is the country line of an address, in English capitals as
// the UPU asks for international mail.
func countryName(code string) string {
	if n, ok := countryNames[code]; ok {
		return n
	}
	return code
}

var countryNames = map[string]string{
	"US": "UNITED STATES", "CN": "CHINA 中国", "DE": "GERMANY", "FR": "FRANCE", "GB": "UNITED KINGDOM", "CA": "CANADA",
	"AU": "AUSTRALIA", "JP": "JAPAN", "IN": "INDIA", "BR": "BRAZIL", "SG": "SINGAPORE", "HK": "HONG KONG 香港", "TW": "TAIWAN 台灣",
	"MO": "MACAO 澳門", "IT": "ITALY", "ES": "SPAIN", "NL": "NETHERLANDS", "IE": "IRELAND", "CH": "SWITZERLAND", "AT": "AUSTRIA",
	"BE": "BELGIUM", "SE": "SWEDEN", "NO": "NORWAY", "DK": "DENMARK", "FI": "FINLAND", "PL": "POLAND", "MX": "MEXICO",
}

// Compose renders one customer's notice (templates.RenderNotice, the
// email's own text) and makes it a letter. in carries the customer's name
// and locale; ref is the letter's reference.
func Compose(in templates.NoticeInput, ref string, addr subjects.Address, remedy *Remedy) (Letter, error) {
	n, err := templates.RenderNotice(in)
	if err != nil {
		return Letter{}, fmt.Errorf("letters: %w", err)
	}
	return Letter{Reference: ref, Locale: n.Locale, Name: in.Name, Address: addr, Title: n.Subject, Text: n.Text, Remedy: remedy}, nil
}
