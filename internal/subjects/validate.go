package subjects

import (
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Field length limits, in characters.
const (
	maxExternalID   = 128
	maxName         = 200
	maxEmail        = 254 // RFC 5321's path limit
	maxLocale       = 35
	maxDataElements = 32
	maxDataElement  = 64
	maxAddressField = 200
	maxAddressLines = 3
	maxPostalCode   = 20
)

// clip shortens a non-personal value quoted in a rejection reason.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 24 {
		return s
	}
	return string([]rune(s)[:24]) + "…"
}

// cleanText checks a free-text field: no control characters (they have no
// place in a name and break terminals and logs) and at most limit
// characters. The value itself is never quoted in the reason.
func cleanText(s, what string, limit int) (string, string) {
	if utf8.RuneCountInString(s) > limit {
		return "", fmt.Sprintf("%s is longer than %d characters", what, limit)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", what + " contains control characters"
		}
	}
	return s, ""
}

// checkEmail accepts a bare address only: "Ann <ann@example.com>" or a
// list would leave it unclear what to send to. Unless allowLocal, the
// domain must be one the public internet can deliver to (see publicDomain).
func checkEmail(s string, allowLocal bool) (string, string) {
	if len(s) > maxEmail {
		return "", fmt.Sprintf("email is longer than %d characters", maxEmail)
	}
	if strings.HasSuffix(s, ".") {
		return "", "email domain ends with a dot"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", "email is not a valid address"
	}
	if !allowLocal {
		if reason := publicDomain(s[strings.LastIndexByte(s, '@')+1:]); reason != "" {
			return "", reason + "; it cannot be delivered on the public internet (BREACHFLOW_ALLOW_LOCAL_DOMAINS allows it)"
		}
	}
	return s, ""
}

// localTLDs are top-level names reserved for private or special use
// (RFC 2606, 6761, 6762, 8375, ICANN's .internal): no public MX exists for
// them. example.com and its kin stay accepted: they are real, dotted
// domains, and tests and docs use them.
var localTLDs = []string{"localhost", "local", "test", "example", "invalid", "internal", "home.arpa", "onion"}

// publicDomain says why domain cannot receive mail from the public
// internet, or "" when it is shaped like a public host name. It checks the
// name only: looking up MX records for millions of rows is the relay's job.
func publicDomain(domain string) string {
	d := strings.ToLower(domain)
	if strings.HasPrefix(d, "[") {
		return "email domain is an IP address literal"
	}
	if !strings.Contains(d, ".") {
		return "email domain has no dot"
	}
	for _, tld := range localTLDs {
		if d == tld || strings.HasSuffix(d, "."+tld) {
			return fmt.Sprintf("email domain is in the reserved .%s name space", tld)
		}
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "email domain is not a host name"
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return "email domain is not a host name"
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "email domain is an IP address"
	}
	return ""
}

// checkLocale canonicalises a BCP 47 tag ("zh_cn" → "zh-CN"); "" is "en".
func checkLocale(s string) (string, string) {
	if s == "" {
		return "en", ""
	}
	if len(s) > maxLocale {
		return "", "locale is too long"
	}
	t, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil || t == language.Und {
		return "", fmt.Sprintf("locale %q is not a BCP 47 tag such as en or zh-CN", clip(s))
	}
	if b, conf := t.Base(); conf == language.No || b.String() == "und" {
		return "", fmt.Sprintf("locale %q has no language", clip(s))
	}
	return t.String(), ""
}

// checkCountry returns the ISO 3166-1 alpha-2 code for an alpha-2 or
// alpha-3 code or a few common English names; regions that are not
// countries ("EU", "150") are refused.
func checkCountry(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	u := strings.ToUpper(s)
	if c := countryByName(u); c != "" {
		return c, ""
	}
	if (len(u) == 2 || len(u) == 3) && isLetters(u) {
		if r, err := language.ParseRegion(u); err == nil && r.IsCountry() {
			return r.String(), ""
		}
	}
	return "", fmt.Sprintf("country %q is not an ISO 3166-1 code", clip(s))
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// countryByName knows the names exports most often hold instead of codes.
func countryByName(u string) string {
	switch u {
	case "UNITED STATES", "UNITED STATES OF AMERICA", "U.S.", "U.S.A.":
		return "US"
	case "UNITED KINGDOM", "GREAT BRITAIN", "UK", "ENGLAND", "SCOTLAND", "WALES", "NORTHERN IRELAND":
		return "GB"
	case "CANADA":
		return "CA"
	case "GERMANY", "DEUTSCHLAND":
		return "DE"
	case "FRANCE":
		return "FR"
	case "SPAIN":
		return "ES"
	case "ITALY":
		return "IT"
	case "NETHERLANDS", "THE NETHERLANDS":
		return "NL"
	case "IRELAND":
		return "IE"
	case "CHINA":
		return "CN"
	case "JAPAN":
		return "JP"
	case "INDIA":
		return "IN"
	case "AUSTRALIA":
		return "AU"
	case "BRAZIL":
		return "BR"
	case "MEXICO":
		return "MX"
	case "SINGAPORE":
		return "SG"
	case "SWITZERLAND":
		return "CH"
	}
	return ""
}

// checkSubdivision returns the country (possibly taken from the
// subdivision) and the ISO 3166-2 code. US and Canadian codes are checked
// against the full list, as notification law there is by state or
// province; elsewhere only the form is checked.
func checkSubdivision(country, s string) (string, string, string) {
	if s == "" {
		return country, "", ""
	}
	u := strings.ToUpper(s)
	cc, code, hasDash := strings.Cut(u, "-")
	if !hasDash {
		if country == "" {
			return "", "", fmt.Sprintf("subdivision %q needs a country", clip(s))
		}
		cc, code = country, u
		if country == "US" {
			if c := usStateByName(u); c != "" {
				code = c
			}
		}
	} else {
		c, reason := checkCountry(cc)
		if reason != "" || len(cc) != 2 {
			return "", "", fmt.Sprintf("subdivision %q is not an ISO 3166-2 code such as US-CA", clip(s))
		}
		if country != "" && c != country {
			return "", "", fmt.Sprintf("subdivision %q is not in country %s", clip(s), country)
		}
		cc = c
	}
	if len(code) < 1 || len(code) > 3 || !isAlnum(code) {
		return "", "", fmt.Sprintf("subdivision %q is not an ISO 3166-2 code such as US-CA", clip(s))
	}
	switch {
	case cc == "US" && !strings.Contains(usStates, " "+code+" "):
		return "", "", fmt.Sprintf("subdivision %q is not a US state or territory", clip(s))
	case cc == "CA" && !strings.Contains(caProvinces, " "+code+" "):
		return "", "", fmt.Sprintf("subdivision %q is not a Canadian province or territory", clip(s))
	}
	return cc, cc + "-" + code, ""
}

func isAlnum(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// ISO 3166-2:US and :CA codes, space-delimited for a cheap membership test.
const (
	usStates    = " AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR UM VI "
	caProvinces = " AB BC MB NB NL NS NT NU ON PE QC SK YT "
)

// usStateNames pairs each US state's upper-case name with its code.
const usStateNames = "ALABAMA=AL|ALASKA=AK|ARIZONA=AZ|ARKANSAS=AR|CALIFORNIA=CA|COLORADO=CO|CONNECTICUT=CT|" +
	"DELAWARE=DE|DISTRICT OF COLUMBIA=DC|FLORIDA=FL|GEORGIA=GA|HAWAII=HI|IDAHO=ID|ILLINOIS=IL|INDIANA=IN|" +
	"IOWA=IA|KANSAS=KS|KENTUCKY=KY|LOUISIANA=LA|MAINE=ME|MARYLAND=MD|MASSACHUSETTS=MA|MICHIGAN=MI|" +
	"MINNESOTA=MN|MISSISSIPPI=MS|MISSOURI=MO|MONTANA=MT|NEBRASKA=NE|NEVADA=NV|NEW HAMPSHIRE=NH|" +
	"NEW JERSEY=NJ|NEW MEXICO=NM|NEW YORK=NY|NORTH CAROLINA=NC|NORTH DAKOTA=ND|OHIO=OH|OKLAHOMA=OK|" +
	"OREGON=OR|PENNSYLVANIA=PA|RHODE ISLAND=RI|SOUTH CAROLINA=SC|SOUTH DAKOTA=SD|TENNESSEE=TN|TEXAS=TX|" +
	"UTAH=UT|VERMONT=VT|VIRGINIA=VA|WASHINGTON=WA|WEST VIRGINIA=WV|WISCONSIN=WI|WYOMING=WY|" +
	"AMERICAN SAMOA=AS|GUAM=GU|NORTHERN MARIANA ISLANDS=MP|PUERTO RICO=PR|U.S. VIRGIN ISLANDS=VI"

func usStateByName(u string) string {
	for pair := range strings.SplitSeq(usStateNames, "|") {
		if name, code, _ := strings.Cut(pair, "="); name == u {
			return code
		}
	}
	return ""
}

// checkDataElements splits "email;password hash" into lower-case, trimmed,
// de-duplicated elements.
func checkDataElements(s string) ([]string, string) {
	if s == "" {
		return nil, ""
	}
	var out []string
	for e := range strings.SplitSeq(s, ";") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if _, reason := cleanText(e, "data element", maxDataElement); reason != "" {
			return nil, reason
		}
		dup := false
		for _, o := range out {
			dup = dup || o == e
		}
		if !dup {
			out = append(out, e)
		}
	}
	if len(out) > maxDataElements {
		return nil, fmt.Sprintf("more than %d data elements", maxDataElements)
	}
	return out, ""
}

// parseAmount reads a yearly value such as "120000", "120,000.50" or
// "$120,000"; "" is 0.
func parseAmount(s string) (float64, string) {
	if s == "" {
		return 0, ""
	}
	t := strings.TrimSpace(strings.NewReplacer("$", "", "€", "", "£", "", "¥", "", ",", "", "_", "", " ", "").Replace(s))
	t = strings.TrimSuffix(strings.TrimPrefix(strings.ToUpper(t), "USD"), "USD")
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Sprintf("annual value %q is not a non-negative number", clip(s))
	}
	return v, ""
}

// customerYears reads years as a customer from a number of years, a
// "customer since" date, or both (the larger wins).
func customerYears(yearsField, since string, now time.Time) (float64, string) {
	var years float64
	if yearsField != "" {
		v, err := strconv.ParseFloat(yearsField, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0, fmt.Sprintf("years as customer %q is not a non-negative number", clip(yearsField))
		}
		years = v
	}
	if since != "" {
		var (
			t   time.Time
			err error
		)
		// The forms Salesforce and HubSpot export dates in; a slashed date
		// is read month first, as both do for US-locale exports.
		for _, l := range [...]string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04",
			"2006-01-02", "1/2/2006", "1/2/2006 15:04"} {
			if t, err = time.Parse(l, since); err == nil {
				break
			}
		}
		if err != nil {
			return 0, fmt.Sprintf("customer since %q is not a date such as 2021-03-31", clip(since))
		}
		if d := now.Sub(t).Hours() / 24 / 365.2425; d > years {
			years = d
		}
	}
	return years, ""
}
