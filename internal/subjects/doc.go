// Package subjects reads the affected-customer list of an incident from
// CSV and seals each customer's email and name for the store.
//
// # Formats and header aliases
//
// Import reads the header row, matches each column to a field and ignores
// columns it does not know (listed in Report.IgnoredColumns). Matching
// ignores case and everything that is not a letter or digit, so
// "Mailing State/Province", "mailing_state_province" and
// "MAILING STATE PROVINCE" are the same column. The aliases are:
//
//	external_id        external_id, id, customer_id, contact_id (Salesforce), record_id (HubSpot)
//	name               name, full_name, contact_name
//	first name         first_name, given_name      (joined with the last name when there is no name column)
//	last name          last_name, surname, family_name
//	email              email, email_address, primary_email
//	locale             locale, language, preferred_language
//	country            country, country_code, mailing_country (Salesforce), country/region (HubSpot)
//	subdivision        subdivision, state, province, region, state/province,
//	                   mailing_state/province, mailing_state (Salesforce), state/region (HubSpot)
//	tier               tier, customer_tier
//	account_manager    account_manager, account_owner (Salesforce), contact_owner (HubSpot), owner
//	data_elements      data_elements, data_exposed  (separated by ";")
//	annual value       annual_value, annual_revenue, arr   (only to derive the tier)
//	years as customer  years_as_customer, customer_years   (only to derive the tier)
//	customer since     customer_since, became_a_customer_date (HubSpot) (a date; only to derive the tier)
//	address line 1     address_line1, address1, address, street, street_address (HubSpot),
//	                   mailing_street (Salesforce; its line breaks split it into lines)
//	address line 2     address_line2, address2, street_address_2
//	address line 3     address_line3, address3
//	city               city, town, mailing_city (Salesforce)
//	postal code        postal_code, postcode, zip, zip_code, zip/postal_code,
//	                   mailing_postal_code, mailing_zip/postal_code (Salesforce)
//	address region     address_region, postal_region (printed as given; else the
//	                   subdivision's code after the dash)
//
// The format reported is "salesforce" when the header has Contact ID,
// Mailing Country, Mailing State/Province or Account Owner; "hubspot" when
// it has Record ID, Country/Region, State/Region, Contact owner or Became a
// Customer Date; "generic" otherwise. The format only names the source: the
// aliases apply to every file. A header must have an email or an external
// id column; a column matched twice is an error.
//
// Fields are separated by commas, semicolons or tabs: the one that occurs
// most often outside quotes in the header line wins (comma on a tie), and
// Report.Delimiter names it. Excel writes semicolons in locales whose
// decimal separator is a comma (German, French) and tabs for "Unicode
// text".
//
// # Validation
//
// Every data row is either accepted and passed to the sink, or rejected
// and listed in Report.Rejected with its line number and reason: no email
// and no external id; an email net/mail does not read as a bare address,
// or whose domain ends with a dot; unless Options.AllowLocalDomains, an
// email the public internet cannot deliver to (a domain with no dot, an IP
// address or literal, localhost, or a reserved top-level name: .localhost,
// .local, .test, .example, .invalid, .internal, .home.arpa, .onion); a
// country that is not ISO 3166-1 (alpha-2, alpha-3 and a few common English
// names are accepted and stored as alpha-2); a subdivision that is not of
// the form CC-XXX, belongs to another country, or is not a US state or
// Canadian province when the country is US or CA ("CA" with country US
// becomes "US-CA", and US state names are accepted); a locale that is not
// a BCP 47 tag (default "en"); a tier other than high, medium or low; an
// annual value, years or date that does not parse; a field over its length
// limit or with control characters; a row with more fields than the header.
//
// Without a tier column value, the tier is derived: high when the annual
// value is at least Tiering.HighAnnual (100,000) or the customer has been
// one for at least Tiering.HighYears (5) years, medium when the annual value
// is at least Tiering.MediumAnnual (10,000), low otherwise.
//
// Names are stored as the file has them. A name such as "=HYPERLINK(…)"
// is data, not a formula: it is kept, and whoever writes it into a CSV or
// spreadsheet later must pass it through SafeCSVCell. HTML in a name is kept
// as text; html/template escapes it when a notice is rendered.
//
// # Whole-file errors and limits
//
// Import stops with an error, and the caller must discard what the sink
// received, when the input is not UTF-8 (the error names the line: "not
// UTF-8; export as UTF-8"), the header lacks both an email and an external
// id column, the file has more than Options.MaxRows data rows (default
// 2,000,000), a line is longer than Options.MaxLineBytes (default 64 KiB),
// the input is longer than Options.MaxBytes (default 1 GiB), or reading
// fails. A UTF-8 byte order mark is stripped. Passing a nil sink validates
// without writing, so a caller holding the file can check it whole first.
//
// # Duplicates
//
// Rows are the same subject when they share an external id, or, when they
// have none, the same email ignoring case. The later row replaces the
// earlier: the sink sees both (the store merges them the same way) and
// Report.Duplicates counts the later ones. The store applies the same rule
// across uploads, so uploading a file again updates subjects rather than
// adding them.
//
// # Sealing
//
// Seal turns a Subject into a store.SubjectRecord: email, name and postal
// address (when there is one) are sealed with additional data
// "subject.email:", "subject.name:" or "subject.address:" plus the
// incident id, and the email is also reduced to a hex HMAC-SHA256 of its
// lower-cased form, the key for de-duplication look-ups. Open reverses it.
package subjects
