package subjects

import (
	"fmt"
	"strings"
	"unicode"
)

// field is a column's meaning once its header is matched.
type field int

const (
	fieldNone field = iota
	fieldExternalID
	fieldName
	fieldFirstName
	fieldLastName
	fieldEmail
	fieldLocale
	fieldCountry
	fieldSubdivision
	fieldTier
	fieldAccountManager
	fieldDataElements
	fieldAnnualValue
	fieldYears
	fieldCustomerSince
	fieldStreet
	fieldStreet2
	fieldStreet3
	fieldCity
	fieldPostalCode
	fieldAddressRegion
	fieldCount
)

// String names the field in header errors.
func (f field) String() string {
	switch f {
	case fieldExternalID:
		return "external_id"
	case fieldName:
		return "name"
	case fieldFirstName:
		return "first name"
	case fieldLastName:
		return "last name"
	case fieldEmail:
		return "email"
	case fieldLocale:
		return "locale"
	case fieldCountry:
		return "country"
	case fieldSubdivision:
		return "subdivision"
	case fieldTier:
		return "tier"
	case fieldAccountManager:
		return "account_manager"
	case fieldDataElements:
		return "data_elements"
	case fieldAnnualValue:
		return "annual value"
	case fieldYears:
		return "years as customer"
	case fieldCustomerSince:
		return "customer since"
	case fieldStreet:
		return "address line 1"
	case fieldStreet2:
		return "address line 2"
	case fieldStreet3:
		return "address line 3"
	case fieldCity:
		return "city"
	case fieldPostalCode:
		return "postal code"
	case fieldAddressRegion:
		return "address region"
	}
	return "unknown"
}

// normalizeHeader folds a header cell to lower-case letters and digits, so
// aliases match whatever case, spacing and punctuation an exporter uses.
func normalizeHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// aliasField maps a normalised header to its field; the package doc lists
// the same aliases.
func aliasField(h string) field {
	switch h {
	case "externalid", "id", "customerid", "contactid", "recordid":
		return fieldExternalID
	case "name", "fullname", "contactname":
		return fieldName
	case "firstname", "givenname":
		return fieldFirstName
	case "lastname", "surname", "familyname":
		return fieldLastName
	case "email", "emailaddress", "primaryemail":
		return fieldEmail
	case "locale", "language", "preferredlanguage":
		return fieldLocale
	case "country", "countrycode", "mailingcountry", "countryregion":
		return fieldCountry
	case "subdivision", "state", "province", "region", "stateprovince",
		"mailingstateprovince", "mailingstate", "stateregion":
		return fieldSubdivision
	case "tier", "customertier":
		return fieldTier
	case "accountmanager", "accountowner", "contactowner", "owner":
		return fieldAccountManager
	case "dataelements", "dataexposed":
		return fieldDataElements
	case "annualvalue", "annualrevenue", "arr":
		return fieldAnnualValue
	case "yearsascustomer", "customeryears":
		return fieldYears
	case "customersince", "becameacustomerdate":
		return fieldCustomerSince
	case "addressline1", "address1", "address", "street", "streetaddress", "mailingstreet":
		return fieldStreet
	case "addressline2", "address2", "streetaddress2":
		return fieldStreet2
	case "addressline3", "address3":
		return fieldStreet3
	case "city", "town", "mailingcity":
		return fieldCity
	case "postalcode", "postcode", "zip", "zipcode", "zippostalcode", "mailingpostalcode", "mailingzippostalcode":
		return fieldPostalCode
	case "addressregion", "postalregion":
		return fieldAddressRegion
	}
	return fieldNone
}

// formatOf names the exporter a normalised header most likely came from.
func formatOf(h string) string {
	switch h {
	case "contactid", "mailingcountry", "mailingstateprovince", "mailingstate", "accountowner",
		"mailingstreet", "mailingcity", "mailingzippostalcode", "mailingpostalcode":
		return FormatSalesforce
	case "recordid", "countryregion", "stateregion", "contactowner", "becameacustomerdate", "streetaddress2":
		return FormatHubSpot
	}
	return ""
}

// columns is a header matched to fields: index[f] is the column of field f,
// or -1.
type columns struct {
	index   [fieldCount]int
	width   int
	format  string
	ignored []string
}

func mapHeader(head []string) (*columns, error) {
	c := &columns{width: len(head), format: FormatGeneric}
	for i := range c.index {
		c.index[i] = -1
	}
	for i, h := range head {
		n := normalizeHeader(h)
		f := aliasField(n)
		if f == fieldNone {
			if strings.TrimSpace(h) != "" {
				c.ignored = append(c.ignored, strings.TrimSpace(h))
			}
			continue
		}
		if prev := c.index[f]; prev >= 0 {
			return nil, fmt.Errorf("%w: columns %d (%q) and %d (%q) are both %s", ErrHeader, prev+1, head[prev], i+1, h, f)
		}
		c.index[f] = i
		if fm := formatOf(n); fm != "" && c.format == FormatGeneric {
			c.format = fm
		}
	}
	if c.index[fieldEmail] < 0 && c.index[fieldExternalID] < 0 {
		return nil, fmt.Errorf("%w: no email or external id column (want e.g. \"email\" or \"external_id\")", ErrHeader)
	}
	if c.index[fieldName] >= 0 && (c.index[fieldFirstName] >= 0 || c.index[fieldLastName] >= 0) {
		return nil, fmt.Errorf("%w: both a name column and first/last name columns", ErrHeader)
	}
	return c, nil
}

// get returns field f of rec, trimmed, or "" when the header lacks it.
func (c *columns) get(rec []string, f field) string {
	if i := c.index[f]; i >= 0 {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// subject validates one row; reason is "" when it is accepted. Reasons never
// quote a name, email or external id: the report goes back to the uploader
// and may be logged.
func (c *columns) subject(rec []string, opts Options) (s Subject, reason string) {
	if s.ExternalID, reason = cleanText(c.get(rec, fieldExternalID), "external id", maxExternalID); reason != "" {
		return s, reason
	}
	email := c.get(rec, fieldEmail)
	if s.ExternalID == "" && email == "" {
		return s, "no email and no external id"
	}
	if email != "" {
		if s.Email, reason = checkEmail(email, opts.AllowLocalDomains); reason != "" {
			return s, reason
		}
	}
	name := c.get(rec, fieldName)
	if c.index[fieldName] < 0 {
		name = strings.TrimSpace(c.get(rec, fieldFirstName) + " " + c.get(rec, fieldLastName))
	}
	if s.Name, reason = cleanText(name, "name", maxName); reason != "" {
		return s, reason
	}
	if s.Locale, reason = checkLocale(c.get(rec, fieldLocale)); reason != "" {
		return s, reason
	}
	if s.Country, reason = checkCountry(c.get(rec, fieldCountry)); reason != "" {
		return s, reason
	}
	if s.Country, s.Subdivision, reason = checkSubdivision(s.Country, c.get(rec, fieldSubdivision)); reason != "" {
		return s, reason
	}
	if s.AccountManager, reason = cleanText(c.get(rec, fieldAccountManager), "account manager", maxName); reason != "" {
		return s, reason
	}
	if s.DataElements, reason = checkDataElements(c.get(rec, fieldDataElements)); reason != "" {
		return s, reason
	}
	if s.Address, reason = c.address(rec, s.Country, s.Subdivision); reason != "" {
		return s, reason
	}
	tier := strings.ToLower(c.get(rec, fieldTier))
	switch tier {
	case TierHigh, TierMedium, TierLow:
		s.Tier = tier
		// The file's own tier wins, but bad derivation columns are still
		// worth a rejection: they suggest the row is misaligned.
	case "":
	default:
		return s, fmt.Sprintf("tier %q is not high, medium or low", clip(tier))
	}
	annual, reason := parseAmount(c.get(rec, fieldAnnualValue))
	if reason != "" {
		return s, reason
	}
	years, reason := customerYears(c.get(rec, fieldYears), c.get(rec, fieldCustomerSince), opts.Now)
	if reason != "" {
		return s, reason
	}
	if s.Tier == "" {
		s.Tier = deriveTier(annual, years, opts.Tiering)
	}
	return s, ""
}

// deriveTier applies the thresholds of t.
func deriveTier(annual, years float64, t Tiering) string {
	switch {
	case annual >= t.HighAnnual || years >= t.HighYears:
		return TierHigh
	case annual >= t.MediumAnnual:
		return TierMedium
	}
	return TierLow
}

// address reads the postal address columns. A Salesforce "Mailing Street"
// holds every street line, separated by line breaks. Only what cannot be
// stored is refused here (over-long text, control characters); an address
// that is incomplete is kept, and the letter reports it as unprintable.
func (c *columns) address(rec []string, country, subdivision string) (Address, string) {
	var a Address
	var lines []string
	for _, f := range []field{fieldStreet, fieldStreet2, fieldStreet3} {
		for _, l := range strings.Split(strings.ReplaceAll(c.get(rec, f), "\r\n", "\n"), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) > maxAddressLines {
		return a, fmt.Sprintf("address has more than %d street lines", maxAddressLines)
	}
	for _, l := range lines {
		l, reason := cleanText(l, "address line", maxAddressField)
		if reason != "" {
			return a, reason
		}
		a.Lines = append(a.Lines, l)
	}
	var reason string
	if a.City, reason = cleanText(c.get(rec, fieldCity), "city", maxAddressField); reason != "" {
		return a, reason
	}
	if a.PostalCode, reason = cleanText(c.get(rec, fieldPostalCode), "postal code", maxPostalCode); reason != "" {
		return a, reason
	}
	if a.Region, reason = cleanText(c.get(rec, fieldAddressRegion), "address region", maxAddressField); reason != "" {
		return a, reason
	}
	if a.Empty() {
		return Address{}, ""
	}
	if a.Region == "" && subdivision != "" {
		// "US-CA" is printed "CA", as US and Canadian post expect.
		a.Region = subdivision[strings.IndexByte(subdivision, '-')+1:]
	}
	a.Country = country
	return a, ""
}
