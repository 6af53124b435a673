package subjects

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// now anchors every "customer since" date in the tests.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const genericHeader = "external_id,name,email,locale,country,subdivision,tier,account_manager,data_elements\n"

// run imports input and returns the report and every subject the sink saw.
func run(t *testing.T, input string, opts Options) (*Report, []Subject, error) {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = now
	}
	var got []Subject
	rep, err := Import(strings.NewReader(input), opts, func(s Subject) error {
		got = append(got, s)
		return nil
	})
	return rep, got, err
}

func mustRun(t *testing.T, input string, opts Options) (*Report, []Subject) {
	t.Helper()
	rep, got, err := run(t, input, opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return rep, got
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportFormats(t *testing.T) {
	for _, tc := range []struct {
		file     string
		format   string
		want     []Subject
		perJuris map[string]int
		perTier  map[string]int
	}{
		{
			file:   "testdata/generic.csv",
			format: FormatGeneric,
			want: []Subject{
				{ExternalID: "C-1001", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en-GB", Country: "GB", Tier: "high", AccountManager: "Grace Hopper", DataElements: []string{"email", "password_hash"}, Line: 2},
				{ExternalID: "C-1002", Name: "李雷", Email: "lilei@example.cn", Locale: "zh-CN", Country: "CN", Tier: "medium", AccountManager: "Grace Hopper", DataElements: []string{"email", "phone"}, Line: 3},
				{ExternalID: "C-1003", Name: "Carol Danvers", Email: "carol@example.com", Locale: "en", Country: "US", Subdivision: "US-CA", Tier: "low", AccountManager: "Grace Hopper", DataElements: []string{"email", "ssn"}, Line: 4},
				{Name: "Dan Brown", Email: "dan@example.com", Locale: "en", Country: "US", Subdivision: "US-NY", Tier: "low", DataElements: []string{"email"}, Line: 5},
				{ExternalID: "C-1005", Locale: "en", Country: "DE", Tier: "low", Line: 6},
			},
			perJuris: map[string]int{"GB": 1, "CN": 1, "US-CA": 1, "US-NY": 1, "DE": 1},
			perTier:  map[string]int{"high": 1, "medium": 1, "low": 3},
		},
		{
			file:   "testdata/salesforce.csv",
			format: FormatSalesforce,
			want: []Subject{
				{ExternalID: "0035g00000A1", Name: "Ann Archer", Email: "ann@example.com", Locale: "en-US", Country: "US", Subdivision: "US-CA", Tier: "high", AccountManager: "Sam Seller", Line: 2},
				{ExternalID: "0035g00000A2", Name: "Bob Baker", Email: "bob@example.com", Locale: "en", Country: "US", Subdivision: "US-TX", Tier: "medium", AccountManager: "Sam Seller", Line: 3},
				{ExternalID: "0035g00000A3", Name: "Cy Cole", Email: "cy@example.com", Locale: "fr-CA", Country: "CA", Subdivision: "CA-ON", Tier: "high", AccountManager: "Sam Seller", Line: 4},
				{ExternalID: "0035g00000A4", Name: "Di Dale", Email: "di@example.com", Locale: "de", Country: "DE", Tier: "low", AccountManager: "Sam Seller", Line: 5},
			},
			perJuris: map[string]int{"US-CA": 1, "US-TX": 1, "CA-ON": 1, "DE": 1},
			perTier:  map[string]int{"high": 2, "medium": 1, "low": 1},
		},
		{
			file:   "testdata/hubspot.csv",
			format: FormatHubSpot,
			want: []Subject{
				{ExternalID: "501", Name: "Eve Evans", Email: "eve@example.com", Locale: "en", Country: "US", Subdivision: "US-WA", Tier: "low", AccountManager: "Hal Hub", Line: 2},
				{ExternalID: "502", Name: "Fay Frost", Email: "fay@example.com", Locale: "fr", Country: "FR", Tier: "medium", AccountManager: "Hal Hub", Line: 3},
				{ExternalID: "503", Name: "Gus Grant", Email: "gus@example.com", Locale: "ja", Country: "JP", Tier: "high", AccountManager: "Hal Hub", Line: 4},
			},
			perJuris: map[string]int{"US-WA": 1, "FR": 1, "JP": 1},
			perTier:  map[string]int{"high": 1, "medium": 1, "low": 1},
		},
	} {
		t.Run(tc.format, func(t *testing.T) {
			rep, got := mustRun(t, readFile(t, tc.file), Options{})
			if rep.Format != tc.format {
				t.Errorf("Format = %q, want %q", rep.Format, tc.format)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("subjects:\n got %+v\nwant %+v", got, tc.want)
			}
			if len(rep.Rejected) != 0 || rep.Accepted != len(tc.want) || rep.Rows != len(tc.want) || rep.Duplicates != 0 {
				t.Errorf("report = %+v", rep)
			}
			if !reflect.DeepEqual(rep.PerJurisdiction, tc.perJuris) || !reflect.DeepEqual(rep.PerTier, tc.perTier) {
				t.Errorf("PerJurisdiction = %v, PerTier = %v", rep.PerJurisdiction, rep.PerTier)
			}
		})
	}
}

func TestPerDataElement(t *testing.T) {
	rep, _ := mustRun(t, readFile(t, "testdata/generic.csv"), Options{})
	want := map[string]int{"email": 4, "password_hash": 1, "phone": 1, "ssn": 1}
	if !reflect.DeepEqual(rep.PerDataElement, want) {
		t.Errorf("PerDataElement = %v, want %v", rep.PerDataElement, want)
	}
}

func TestHeaderAliases(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   field
	}{
		{"Email", fieldEmail},
		{"  E-Mail Address ", fieldEmail},
		{"PRIMARY_EMAIL", fieldEmail},
		{"Contact ID", fieldExternalID},
		{"Record ID", fieldExternalID},
		{"customer-id", fieldExternalID},
		{"Mailing State/Province", fieldSubdivision},
		{"State/Region", fieldSubdivision},
		{"Country/Region", fieldCountry},
		{"Mailing Country", fieldCountry},
		{"Preferred Language", fieldLocale},
		{"Account Owner", fieldAccountManager},
		{"Contact owner", fieldAccountManager},
		{"Annual Revenue", fieldAnnualValue},
		{"Became a Customer Date", fieldCustomerSince},
		{"Customer Since", fieldCustomerSince},
		{"years_as_customer", fieldYears},
		{"Data Elements", fieldDataElements},
		{"Lead Source", fieldNone},
	} {
		if got := aliasField(normalizeHeader(tc.header)); got != tc.want {
			t.Errorf("%q maps to %v, want %v", tc.header, got, tc.want)
		}
	}
	// Aliases work in any format: a mixed header still imports.
	rep, got := mustRun(t, "E-Mail Address,Full Name,State,Country Code,Lead Source\nx@example.com,X Y,ny,us,web\n", Options{})
	if len(got) != 1 || got[0].Name != "X Y" || got[0].Subdivision != "US-NY" || got[0].Country != "US" {
		t.Fatalf("got %+v (report %+v)", got, rep)
	}
	if !reflect.DeepEqual(rep.IgnoredColumns, []string{"Lead Source"}) {
		t.Errorf("IgnoredColumns = %q", rep.IgnoredColumns)
	}
}

func TestRejections(t *testing.T) {
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		name, row, reason string
	}{
		{"no key", ",Ann,,en,US,,,,", "no email and no external id"},
		{"bad email", "1,Ann,not-an-email,en,US,,,,", "email is not a valid address"},
		{"display-name email", `1,Ann,Ann <ann@example.com>,en,US,,,,`, "email is not a valid address"},
		{"email too long", "1,Ann," + strings.Repeat("a", 250) + "@example.com,en,US,,,,", "email is longer than"},
		{"bad locale", "1,Ann,a@example.com,English,US,,,,", "is not a BCP 47 tag"},
		{"bad country", "1,Ann,a@example.com,en,Atlantis,,,,", `country "Atlantis" is not an ISO 3166-1 code`},
		{"region not country", "1,Ann,a@example.com,en,EU,,,,", `country "EU"`},
		{"numeric region", "1,Ann,a@example.com,en,150,,,,", `country "150"`},
		{"subdivision without country", "1,Ann,a@example.com,en,,CA,,,", "needs a country"},
		{"subdivision other country", "1,Ann,a@example.com,en,DE,US-CA,,,", "is not in country DE"},
		{"not a US state", "1,Ann,a@example.com,en,US,ZZ,,,", "not a US state"},
		{"not a province", "1,Ann,a@example.com,en,CA,XX,,,", "not a Canadian province"},
		{"subdivision form", "1,Ann,a@example.com,en,FR,IDF-PARIS,,,", "not an ISO 3166-2 code"},
		{"subdivision bad prefix", "1,Ann,a@example.com,en,,QQ-1,,,", "not an ISO 3166-2 code"},
		{"bad tier", "1,Ann,a@example.com,en,US,,gold,,", `tier "gold"`},
		{"name control char", "1,\"Ann\x07\",a@example.com,en,US,,,,", "name contains control characters"},
		{"name too long", "1," + long + ",a@example.com,en,US,,,,", "name is longer than 200"},
		{"external id too long", strings.Repeat("9", 129) + ",Ann,a@example.com,en,US,,,,", "external id is longer than 128"},
		{"too many data elements", "1,Ann,a@example.com,en,US,,,," + dataElems(33), "more than 32 data elements"},
		{"data element too long", "1,Ann,a@example.com,en,US,,,," + strings.Repeat("d", 65), "data element is longer than 64"},
		{"too few fields", "1,Ann,a@example.com", "row has 3 fields, the header has 9"},
		{"too many fields", "1,Ann,a@example.com,en,US,,,,,extra", "row has 10 fields, the header has 9"},
		{"malformed quote", `1,An"n,a@example.com,en,US,,,,`, "malformed CSV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, got := mustRun(t, genericHeader+tc.row+"\n", Options{})
			if len(got) != 0 || rep.Accepted != 0 {
				t.Fatalf("row accepted: %+v", got)
			}
			if len(rep.Rejected) != 1 || rep.Rejected[0].Line != 2 || !strings.Contains(rep.Rejected[0].Reason, tc.reason) {
				t.Fatalf("Rejected = %+v, want line 2 with %q", rep.Rejected, tc.reason)
			}
			if strings.Contains(rep.Rejected[0].Reason, "a@example.com") || strings.Contains(rep.Rejected[0].Reason, "Ann") {
				t.Errorf("reason %q quotes personal data", rep.Rejected[0].Reason)
			}
		})
	}
}

func dataElems(n int) string {
	var es []string
	for i := range n {
		es = append(es, fmt.Sprintf("e%d", i))
	}
	return strings.Join(es, ";")
}

func TestDerivedAndDerivationRejections(t *testing.T) {
	header := "email,annual value,years as customer,customer since\n"
	for _, tc := range []struct {
		row, reason string
	}{
		{"a@example.com,lots,,", `annual value "lots"`},
		{"a@example.com,-5,,", `annual value "-5"`},
		{"a@example.com,NaN,,", `annual value "NaN"`},
		{"a@example.com,,ten,", `years as customer "ten"`},
		{"a@example.com,,,yesterday", `customer since "yesterday"`},
	} {
		rep, _ := mustRun(t, header+tc.row+"\n", Options{})
		if len(rep.Rejected) != 1 || !strings.Contains(rep.Rejected[0].Reason, tc.reason) {
			t.Errorf("%s: Rejected = %+v, want %q", tc.row, rep.Rejected, tc.reason)
		}
	}
}

func TestTiering(t *testing.T) {
	header := "email,tier,annual revenue,years as customer,customer since\n"
	for _, tc := range []struct {
		row     string
		tiering Tiering
		want    string
	}{
		{"a@example.com,,100000,,", Tiering{}, TierHigh},
		{"a@example.com,,\"$99,999.99\",,", Tiering{}, TierMedium},
		{"a@example.com,,10000,,", Tiering{}, TierMedium},
		{"a@example.com,,9999,,", Tiering{}, TierLow},
		{"a@example.com,,,,", Tiering{}, TierLow},
		{"a@example.com,,0,5,", Tiering{}, TierHigh},
		{"a@example.com,,0,4.9,", Tiering{}, TierLow},
		{"a@example.com,,,,2021-06-01", Tiering{}, TierHigh}, // 5.5 years before now
		{"a@example.com,,,,12/01/2021", Tiering{}, TierLow},  // 4.97 years
		{"a@example.com,,,,2030-01-01", Tiering{}, TierLow},  // a future date counts as no years
		{"a@example.com,low,500000,10,", Tiering{}, TierLow}, // the file's tier wins
		{"a@example.com,HIGH,0,0,", Tiering{}, TierHigh},     // case-insensitive
		{"a@example.com,,5000,,", Tiering{MediumAnnual: 5000}, TierMedium},
		{"a@example.com,,50000,,", Tiering{HighAnnual: 50000}, TierHigh},
		{"a@example.com,,0,2,", Tiering{HighYears: 2}, TierHigh},
	} {
		_, got := mustRun(t, header+tc.row+"\n", Options{Tiering: tc.tiering})
		if len(got) != 1 || got[0].Tier != tc.want {
			t.Errorf("%s with %+v: got %+v, want tier %s", tc.row, tc.tiering, got, tc.want)
		}
	}
}

func TestTenPercentBadRows(t *testing.T) {
	var b strings.Builder
	b.WriteString(genericHeader)
	var wantLines []int
	for i := range 1000 {
		if i%10 == 3 {
			fmt.Fprintf(&b, "X-%d,Name %d,broken-%d,en,US,CA,,,\n", i, i, i)
			wantLines = append(wantLines, i+2)
			continue
		}
		fmt.Fprintf(&b, "X-%d,Name %d,user%d@example.com,en,US,CA,,,\n", i, i, i)
	}
	rep, got := mustRun(t, b.String(), Options{})
	if rep.Accepted != 900 || len(got) != 900 || rep.Rows != 1000 {
		t.Fatalf("Accepted = %d (sink saw %d) of %d rows, want 900 of 1000", rep.Accepted, len(got), rep.Rows)
	}
	var lines []int
	for _, r := range rep.Rejected {
		lines = append(lines, r.Line)
		if r.Reason != "email is not a valid address" {
			t.Errorf("line %d: reason %q", r.Line, r.Reason)
		}
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Errorf("rejected lines = %v…, want %v…", lines[:5], wantLines[:5])
	}
	if rep.PerJurisdiction["US-CA"] != 900 {
		t.Errorf("PerJurisdiction = %v", rep.PerJurisdiction)
	}
}

func TestBOM(t *testing.T) {
	rep, got := mustRun(t, "\uFEFF"+genericHeader+"1,Ann,a@example.com,,,,,,\n", Options{})
	if len(got) != 1 || got[0].ExternalID != "1" || len(rep.IgnoredColumns) != 0 {
		t.Fatalf("with BOM: got %+v, ignored %q", got, rep.IgnoredColumns)
	}
}

func TestWrongEncoding(t *testing.T) {
	// "Müller" in ISO-8859-1 on line 3: the whole file is refused.
	latin1 := genericHeader + "1,Ann,a@example.com,,,,,,\n2,M\xfcller,m@example.com,,,,,,\n3,Zoe,z@example.com,,,,,,\n"
	rep, _, err := run(t, latin1, Options{})
	if !errors.Is(err, ErrNotUTF8) || !strings.Contains(err.Error(), "line 3") || rep != nil {
		t.Fatalf("err = %v, report %v; want ErrNotUTF8 naming line 3", err, rep)
	}
	if !strings.Contains(err.Error(), "export as UTF-8") {
		t.Errorf("error %q does not say what to do", err)
	}
	// A UTF-16 export (what Excel calls "Unicode Text") fails on its header.
	utf16 := "\xff\xfee\x00m\x00a\x00i\x00l\x00\n\x00"
	if _, _, err := run(t, utf16, Options{}); !errors.Is(err, ErrNotUTF8) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("UTF-16: err = %v, want ErrNotUTF8 on line 1", err)
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ name, input, want string }{
		{"missing email and id", "name,country\nAnn,US\n", "no email or external id column"},
		{"empty file", "", "the file is empty"},
		{"column twice", "email,E-Mail\na@example.com,b@example.com\n", "are both email"},
		{"name and first name", "email,name,first name\na@example.com,A,B\n", "both a name column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			_, err := Import(strings.NewReader(tc.input), Options{}, func(Subject) error { calls++; return nil })
			if !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrHeader with %q", err, tc.want)
			}
			if calls != 0 {
				t.Errorf("sink called %d times before the header was refused", calls)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	rows := genericHeader + "1,,a@example.com,,,,,,\n2,,b@example.com,,,,,,\n3,,c@example.com,,,,,,\n"
	if _, _, err := run(t, rows, Options{MaxRows: 3}); err != nil {
		t.Errorf("3 rows with MaxRows 3: %v", err)
	}
	if _, _, err := run(t, rows, Options{MaxRows: 2}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 2 rows") {
		t.Errorf("3 rows with MaxRows 2: err = %v", err)
	}
	longLine := genericHeader + "1,,a@example.com,,,,,,\n2," + strings.Repeat("n", 300) + ",b@example.com,,,,,,\n"
	if _, _, err := run(t, longLine, Options{MaxLineBytes: 200}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("long line: err = %v, want ErrTooLarge naming line 3", err)
	}
	if _, _, err := run(t, rows, Options{MaxBytes: int64(len(rows) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes one short: err = %v", err)
	}
	if _, _, err := run(t, rows, Options{MaxBytes: int64(len(rows))}); err != nil {
		t.Errorf("MaxBytes exact: %v", err)
	}
}

// endless is an upload that never ends, standing in for a 2 GB file.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	var b bytes.Buffer
	for b.Len() < len(p)-64 {
		e.n++
		fmt.Fprintf(&b, "%d,,u%d@example.com,,,,,,\n", e.n, e.n)
	}
	return copy(p, b.Bytes()), nil
}

func TestHugeUploadStops(t *testing.T) {
	r := io.MultiReader(strings.NewReader(genericHeader), &endless{})
	calls := 0
	_, err := Import(r, Options{MaxBytes: 1 << 20, Now: now}, func(Subject) error { calls++; return nil })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Fatalf("err = %v, want ErrTooLarge at 1 MiB", err)
	}
	if calls == 0 || calls > 1<<20/20 {
		t.Errorf("sink called %d times", calls)
	}
}

func TestDuplicates(t *testing.T) {
	input := "external_id,email,tier,country\n" +
		"A,a@example.com,high,US\n" +
		",b@example.com,low,DE\n" +
		"A,a2@example.com,medium,FR\n" + // same external id: replaces line 2
		",B@Example.COM,high,DE\n" + // same email ignoring case: replaces line 3
		"C,b@example.com,low,DE\n" // has an external id: a different subject
	rep, got := mustRun(t, input, Options{})
	if rep.Accepted != 5 || rep.Duplicates != 2 || rep.Distinct() != 3 || len(got) != 5 {
		t.Fatalf("Accepted %d, Duplicates %d, sink saw %d", rep.Accepted, rep.Duplicates, len(got))
	}
	if want := map[string]int{"medium": 1, "high": 1, "low": 1}; !reflect.DeepEqual(rep.PerTier, want) {
		t.Errorf("PerTier = %v, want %v", rep.PerTier, want)
	}
	if want := map[string]int{"FR": 1, "DE": 2}; !reflect.DeepEqual(rep.PerJurisdiction, want) {
		t.Errorf("PerJurisdiction = %v, want %v", rep.PerJurisdiction, want)
	}
}

func TestUnsafeNamesKeptAsText(t *testing.T) {
	input := "email,name\n" +
		"a@example.com,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\n" +
		"b@example.com,<script>alert(1)</script> <b>Bob</b>\n"
	rep, got := mustRun(t, input, Options{})
	if len(rep.Rejected) != 0 || len(got) != 2 {
		t.Fatalf("rejected %+v", rep.Rejected)
	}
	if got[0].Name != `=HYPERLINK("http://evil.example","click")` || got[1].Name != "<script>alert(1)</script> <b>Bob</b>" {
		t.Errorf("names changed: %q, %q", got[0].Name, got[1].Name)
	}
	if SafeCSVCell(got[0].Name)[0] != '\'' {
		t.Errorf("SafeCSVCell left a formula: %q", SafeCSVCell(got[0].Name))
	}
}

func TestSafeCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
		"Ann": "Ann", "": "", "a=b": "a=b", "<b>x</b>": "<b>x</b>",
	} {
		if got := SafeCSVCell(in); got != want {
			t.Errorf("SafeCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSinkErrorStops(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := Import(strings.NewReader(readFile(t, "testdata/generic.csv")), Options{Now: now}, func(Subject) error {
		calls++
		if calls == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 3") || calls != 2 {
		t.Errorf("err = %v after %d calls, want boom at line 3 after 2", err, calls)
	}
}

func TestNilSinkValidates(t *testing.T) {
	rep, err := Import(strings.NewReader(readFile(t, "testdata/generic.csv")), Options{Now: now}, nil)
	if err != nil || rep.Accepted != 5 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
}

func TestBlankRowsSkipped(t *testing.T) {
	rep, got := mustRun(t, genericHeader+"1,,a@example.com,,,,,,\n,,,,,,,,\n  ,,,,,,,,\n2,,b@example.com,,,,,,\n", Options{})
	if len(got) != 2 || rep.Blank != 2 || len(rep.Rejected) != 0 || got[1].Line != 5 {
		t.Errorf("got %+v, report %+v", got, rep)
	}
}

// TestThroughput logs import speed on a generated 100,000-row file; it
// asserts only correctness, since timing on a shared machine is noise.
func TestThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100k rows")
	}
	const n = 100_000
	var b strings.Builder
	b.WriteString(genericHeader)
	for i := range n {
		fmt.Fprintf(&b, "C-%d,Customer %d,customer%d@example.com,en-US,US,CA,,Owner,email;phone\n", i, i, i)
	}
	input := b.String()
	start := time.Now()
	rep, err := Import(strings.NewReader(input), Options{Now: now}, func(Subject) error { return nil })
	elapsed := time.Since(start)
	if err != nil || rep.Accepted != n {
		t.Fatalf("Accepted %v, err %v", rep, err)
	}
	t.Logf("imported %d rows (%.1f MB) in %v: %.0f rows/s", n, float64(len(input))/1e6, elapsed, n/elapsed.Seconds())
}

func TestDelimiters(t *testing.T) {
	for _, tc := range []struct {
		name, input, delim string
	}{
		// German Excel: semicolons, a comma inside an unquoted name.
		{"semicolon", "Customer ID;Name;E-Mail;Country;data_elements\r\n" +
			"K-1;Müller, Hans;hans@example.de;DE;\"email;phone\"\r\n", ";"},
		{"tab", "customer_id\tname\temail\tcountry\tdata_elements\n" +
			"K-1\tMüller, Hans\thans@example.de\tDE\temail;phone\n", "\t"},
		// Semicolons inside a comma file's fields do not make it a semicolon file.
		{"comma with semicolons in a row", "customer_id,name,email,country,data_elements\n" +
			"K-1,\"Müller, Hans\",hans@example.de,DE,email;phone\n", ","},
		{"quoted semicolons in a comma header", "customer_id,\"notes; internal\",name,email,country,data_elements\n" +
			"K-1,x,\"Müller, Hans\",hans@example.de,DE,email;phone\n", ","},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, got := mustRun(t, tc.input, Options{})
			if rep.Delimiter != tc.delim || len(rep.Rejected) != 0 || len(got) != 1 {
				t.Fatalf("delimiter %q, rejected %+v, %d subjects; want %q and one subject", rep.Delimiter, rep.Rejected, len(got), tc.delim)
			}
			want := Subject{ExternalID: "K-1", Name: "Müller, Hans", Email: "hans@example.de", Locale: "en", Country: "DE",
				Tier: "low", DataElements: []string{"email", "phone"}, Line: 2}
			if !reflect.DeepEqual(got[0], want) {
				t.Fatalf("subject = %+v\nwant      %+v", got[0], want)
			}
		})
	}
}

func TestUndeliverableEmails(t *testing.T) {
	for _, tc := range []struct{ email, reason string }{
		{"hank@example", "email domain has no dot"},
		{"hank@localhost", "email domain has no dot"},
		{"hank@example.com.", "email domain ends with a dot"},
		{"hank@[192.0.2.1]", "email domain is an IP address literal"},
		{"hank@192.0.2.1", "email domain is an IP address"},
		{"hank@mail.localhost", "reserved .localhost"},
		{"hank@printer.local", "reserved .local"},
		{"hank@shop.test", "reserved .test"},
		{"hank@shop.example", "reserved .example"},
		{"hank@corp.internal", "reserved .internal"},
		{"hank@nas.home.arpa", "reserved .home.arpa"},
		{"hank@-shop.com", "email domain is not a host name"},
		{"hank@shop_1.com", "email domain is not a host name"},
	} {
		t.Run(tc.email, func(t *testing.T) {
			row := "1,Hank," + tc.email + ",en,US,,,,\n"
			rep, got := mustRun(t, genericHeader+row, Options{})
			if len(got) != 0 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 2 ||
				!strings.Contains(rep.Rejected[0].Reason, tc.reason) {
				t.Fatalf("rejected %+v, accepted %d; want line 2 refused with %q", rep.Rejected, len(got), tc.reason)
			}
			if strings.Contains(rep.Rejected[0].Reason, "hank") {
				t.Errorf("reason %q quotes the address", rep.Rejected[0].Reason)
			}
			if tc.reason == "email domain ends with a dot" {
				return // never a valid SMTP address, local or not
			}
			if !strings.Contains(rep.Rejected[0].Reason, "public internet") {
				t.Errorf("reason %q does not say why the domain is refused", rep.Rejected[0].Reason)
			}
			rep, got = mustRun(t, genericHeader+row, Options{AllowLocalDomains: true})
			if len(got) != 1 || got[0].Email != tc.email {
				t.Fatalf("with AllowLocalDomains: rejected %+v; want %s accepted", rep.Rejected, tc.email)
			}
		})
	}
	// Public-shaped domains, internationalised ones included, pass.
	for _, ok := range []string{"ann@example.com", "ann@mail.example.co.uk", "ann@müller.de", "ann@xn--mller-kva.de", "ann@1and1.com"} {
		if rep, got := mustRun(t, genericHeader+"1,Ann,"+ok+",en,US,,,,\n", Options{}); len(got) != 1 {
			t.Errorf("%s refused: %+v", ok, rep.Rejected)
		}
	}
}
