package subjects

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Subject is one affected customer as read from an import file.
type Subject struct {
	ExternalID     string
	Name           string
	Email          string
	Locale         string // BCP 47, canonical form; "en" when the file has none
	Country        string // ISO 3166-1 alpha-2, upper case, or ""
	Subdivision    string // ISO 3166-2 such as "US-CA", or ""
	Tier           string // "high", "medium" or "low"
	AccountManager string
	DataElements   []string // lower case, de-duplicated, in file order
	Address        Address  // postal address; empty when the file has none
	Line           int      // line of the file the row starts on
}

// Tiering holds the thresholds that derive a tier when the file has none;
// a zero field takes its default.
type Tiering struct {
	HighAnnual   float64 // default 100,000 a year
	HighYears    float64 // default 5 years as a customer
	MediumAnnual float64 // default 10,000 a year
}

// Options bound and configure one Import; the zero value is usable.
type Options struct {
	MaxRows      int   // data rows, rejected ones included; default DefaultMaxRows
	MaxLineBytes int   // bytes in one physical line; default DefaultMaxLineBytes
	MaxBytes     int64 // bytes in the whole input; default DefaultMaxBytes
	Tiering      Tiering
	Now          time.Time // anchors "customer since" dates; default time.Now()
	// AllowLocalDomains accepts emails whose domain the public internet
	// cannot deliver to (no dot, localhost, .test, an IP address…), for
	// deployments whose relay delivers inside a private network.
	AllowLocalDomains bool
}

// Default limits of Options.
const (
	DefaultMaxRows      = 2_000_000
	DefaultMaxLineBytes = 64 << 10
	DefaultMaxBytes     = 1 << 30
)

// Default tiering thresholds.
const (
	DefaultHighAnnual   = 100_000
	DefaultHighYears    = 5
	DefaultMediumAnnual = 10_000
)

// Formats Report.Format names.
const (
	FormatGeneric    = "generic"
	FormatSalesforce = "salesforce"
	FormatHubSpot    = "hubspot"
)

// Tiers.
const (
	TierHigh   = "high"
	TierMedium = "medium"
	TierLow    = "low"
)

// UnknownJurisdiction keys Report.PerJurisdiction for subjects with neither
// a country nor a subdivision; it matches the store's key.
const UnknownJurisdiction = "unknown"

// Rejection is one row Import refused.
type Rejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Report summarises an Import. Accepted counts rows passed to the sink,
// Duplicates those of them that replaced an earlier row, so the file holds
// Accepted-Duplicates distinct subjects; the Per* maps count distinct
// subjects as the last of their rows describes them.
type Report struct {
	Format          string         `json:"format"`
	Delimiter       string         `json:"delimiter"` // ",", ";" or "\t", as detected from the header
	Rows            int            `json:"rows"`      // data rows read, blank ones excluded
	Accepted        int            `json:"accepted"`
	Rejected        []Rejection    `json:"rejected"`
	Duplicates      int            `json:"duplicates"`
	Blank           int            `json:"blank"` // rows with every field empty, skipped
	IgnoredColumns  []string       `json:"ignored_columns,omitempty"`
	PerJurisdiction map[string]int `json:"per_jurisdiction"`
	PerTier         map[string]int `json:"per_tier"`
	PerDataElement  map[string]int `json:"per_data_element"`
}

// Distinct is the number of different subjects the file holds.
func (r *Report) Distinct() int { return r.Accepted - r.Duplicates }

// ErrNotUTF8 is wrapped by Import's error for input that is not UTF-8.
var ErrNotUTF8 = errors.New("not UTF-8; export as UTF-8")

// ErrTooLarge is wrapped by Import's error when a limit of Options is hit.
var ErrTooLarge = errors.New("input too large")

// ErrHeader is wrapped by Import's error when the header row is unusable.
var ErrHeader = errors.New("bad header")

// Import reads a CSV of affected customers from r, calls sink with each
// accepted row in file order and returns what it did. Per-row problems are
// reported in Report.Rejected; an error means the file as a whole was
// refused, and whatever sink already received must be discarded (see the
// package documentation). A nil sink only validates. A sink error stops
// the import and is returned wrapped.
func Import(r io.Reader, opts Options, sink func(Subject) error) (*Report, error) {
	opts = opts.withDefaults()
	lr := &limitReader{r: r, maxBytes: opts.MaxBytes, maxLine: opts.MaxLineBytes, line: 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\uFEFF")) {
		_, _ = br.Discard(3) // Peek just returned these bytes
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(br)
	cr.FieldsPerRecord = -1 // a short or long row is one rejection, not the end
	cr.ReuseRecord = true

	fail := func(err error) (*Report, error) {
		if lr.err != nil {
			err = lr.err
		}
		return nil, fmt.Errorf("subjects: import: %w", err)
	}

	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) && lr.err == nil {
			return fail(fmt.Errorf("%w: the file is empty", ErrHeader))
		}
		return fail(err)
	}
	if bad := firstInvalid(head); bad >= 0 {
		return fail(fmt.Errorf("line 1: %w", ErrNotUTF8))
	}
	cols, err := mapHeader(head)
	if err != nil {
		return fail(err)
	}
	rep := &Report{
		Format:          cols.format,
		Delimiter:       string(cr.Comma),
		Rejected:        []Rejection{},
		IgnoredColumns:  cols.ignored,
		PerJurisdiction: map[string]int{},
		PerTier:         map[string]int{},
		PerDataElement:  map[string]int{},
	}
	tally := newTally(rep)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) && lr.err == nil {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && lr.err == nil {
			rep.Rows++
			if rep.Rows > opts.MaxRows {
				return fail(fmt.Errorf("%w: more than %d rows", ErrTooLarge, opts.MaxRows))
			}
			rep.Rejected = append(rep.Rejected, Rejection{Line: pe.StartLine, Reason: "malformed CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return fail(err)
		}
		line, _ := cr.FieldPos(0)
		if firstInvalid(rec) >= 0 {
			return fail(fmt.Errorf("line %d: %w", line, ErrNotUTF8))
		}
		if allEmpty(rec) {
			rep.Blank++
			continue
		}
		rep.Rows++
		if rep.Rows > opts.MaxRows {
			return fail(fmt.Errorf("%w: more than %d rows", ErrTooLarge, opts.MaxRows))
		}
		if len(rec) != cols.width {
			rep.Rejected = append(rep.Rejected, Rejection{Line: line,
				Reason: fmt.Sprintf("row has %d fields, the header has %d", len(rec), cols.width)})
			continue
		}
		s, reason := cols.subject(rec, opts)
		if reason != "" {
			rep.Rejected = append(rep.Rejected, Rejection{Line: line, Reason: reason})
			continue
		}
		s.Line = line
		tally.add(s)
		if sink != nil {
			if err := sink(s); err != nil {
				return nil, fmt.Errorf("subjects: import: line %d: %w", line, err)
			}
		}
	}
	return rep, nil
}

func (o Options) withDefaults() Options {
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Tiering.HighAnnual <= 0 {
		o.Tiering.HighAnnual = DefaultHighAnnual
	}
	if o.Tiering.HighYears <= 0 {
		o.Tiering.HighYears = DefaultHighYears
	}
	if o.Tiering.MediumAnnual <= 0 {
		o.Tiering.MediumAnnual = DefaultMediumAnnual
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// sniffDelimiter picks the field separator from the header line: the one
// of comma, semicolon and tab that occurs most often outside quotes, comma
// on a tie. Excel writes semicolons where the decimal separator is a comma
// (German, French locales) and "Unicode text" exports use tabs.
func sniffDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size()) // fewer bytes at EOF is fine; errors surface on Read
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, b := range head {
		switch b {
		case '"':
			quoted = !quoted
		case ',', ';', '\t':
			if !quoted {
				counts[rune(b)]++
			}
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

func firstInvalid(rec []string) int {
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return i
		}
	}
	return -1
}

func allEmpty(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// limitReader enforces Options.MaxBytes and MaxLineBytes below the CSV
// reader, which would otherwise buffer a line of any length.
type limitReader struct {
	r        io.Reader
	maxBytes int64
	maxLine  int
	total    int64
	lineLen  int
	line     int
	err      error // the limit error, kept because csv may wrap or replace it
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.total += int64(n)
	if l.total > l.maxBytes {
		l.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.maxBytes)
		return 0, l.err
	}
	for _, b := range p[:n] {
		if b == '\n' {
			l.line++
			l.lineLen = 0
			continue
		}
		l.lineLen++
		if l.lineLen > l.maxLine {
			l.err = fmt.Errorf("%w: line %d is longer than %d bytes", ErrTooLarge, l.line, l.maxLine)
			return 0, l.err
		}
	}
	return n, err
}

// counted is what a subject contributed to the report's maps, so a later
// duplicate can take it back.
type counted struct {
	jurisdiction, tier string
	elements           []string
}

// tally keeps the report's counts over distinct subjects. Subjects are
// keyed by a 64-bit hash rather than their id or email, to bound memory at
// two million rows; a collision (odds about 1 in 10^7 at that size) would
// miscount one subject in the report, never merge data, which the store
// does by exact value.
type tally struct {
	rep    *Report
	seed   maphash.Seed
	seen   map[uint64]counted
	intern map[string][]string
}

func newTally(rep *Report) *tally {
	return &tally{rep: rep, seed: maphash.MakeSeed(), seen: map[uint64]counted{}, intern: map[string][]string{}}
}

func (t *tally) add(s Subject) {
	t.rep.Accepted++
	key := "x:" + s.ExternalID
	if s.ExternalID == "" {
		key = "e:" + strings.ToLower(s.Email)
	}
	h := maphash.String(t.seed, key)
	if old, ok := t.seen[h]; ok {
		t.rep.Duplicates++
		dec(t.rep.PerJurisdiction, old.jurisdiction)
		dec(t.rep.PerTier, old.tier)
		for _, e := range old.elements {
			dec(t.rep.PerDataElement, e)
		}
	}
	c := counted{jurisdiction: jurisdiction(s), tier: s.Tier, elements: t.elements(s.DataElements)}
	t.seen[h] = c
	t.rep.PerJurisdiction[c.jurisdiction]++
	t.rep.PerTier[c.tier]++
	for _, e := range c.elements {
		t.rep.PerDataElement[e]++
	}
}

// elements shares one slice among subjects with the same data elements,
// which in a real export is nearly all of them.
func (t *tally) elements(es []string) []string {
	k := strings.Join(es, ";")
	if got, ok := t.intern[k]; ok {
		return got
	}
	cp := append([]string(nil), es...)
	t.intern[k] = cp
	return cp
}

func dec(m map[string]int, k string) {
	if m[k]--; m[k] <= 0 {
		delete(m, k)
	}
}

// jurisdiction is the key subjects are counted under: the subdivision when
// known, else the country.
func jurisdiction(s Subject) string {
	switch {
	case s.Subdivision != "":
		return s.Subdivision
	case s.Country != "":
		return s.Country
	}
	return UnknownJurisdiction
}

// SafeCSVCell returns s ready for a cell of a CSV that a spreadsheet may
// open: a value starting with =, +, -, @, tab or carriage return is
// prefixed with a single quote so it is shown as text, not run as a
// formula.
func SafeCSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
