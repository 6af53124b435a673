package breach

import (
	"fmt"
	"strings"
)

// iso3166Alpha2 lists the officially assigned ISO 3166-1 alpha-2 codes. It is a
// constant string (not a mutable map) so the package keeps no mutable state.
const iso3166Alpha2 = `
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW`

// subdivisionsOf lists the ISO 3166-2 subdivision codes accepted for a country.
// Only countries whose subdivisions carry their own breach laws or are commonly
// recorded as residence are listed; other subdivisions are refused so a typo is
// caught instead of silently matching nothing (record the country code instead).
// A switch rather than a map keeps the package free of mutable state.
func subdivisionsOf(country string) string {
	switch country {
	case "US":
		return `AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR UM VI`
	case "CA":
		return `AB BC MB NB NL NS NT NU ON PE QC SK YT`
	case "AU":
		return `ACT NSW NT QLD SA TAS VIC WA`
	case "BR":
		return `AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO`
	case "DE":
		return `BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH`
	case "GB":
		return `ENG NIR SCT WLS`
	}
	return ""
}

// ValidJurisdiction reports whether code is an ISO 3166-1 alpha-2 country code or a
// supported ISO 3166-2 subdivision code (e.g. "US-CA"), in upper case.
func ValidJurisdiction(code string) bool {
	return ValidateJurisdiction(code) == nil
}

// ValidateJurisdiction explains why code is not an accepted jurisdiction code.
func ValidateJurisdiction(code string) error {
	country, sub, isSub := strings.Cut(code, "-")
	if len(country) != 2 || strings.ToUpper(country) != country || !containsWord(iso3166Alpha2, country) {
		return fmt.Errorf("jurisdiction %q: not an ISO 3166-1 alpha-2 code (upper case, e.g. DE) or ISO 3166-2 code (e.g. US-CA)", code)
	}
	if !isSub {
		return nil
	}
	if sub == "" || !containsWord(subdivisionsOf(country), sub) {
		return fmt.Errorf("jurisdiction %q: unknown or unsupported ISO 3166-2 subdivision; use the country code %q", code, country)
	}
	return nil
}

// Country returns the ISO 3166-1 part of a jurisdiction code.
func Country(code string) string {
	c, _, _ := strings.Cut(code, "-")
	return c
}

func containsWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if w == word {
			return true
		}
	}
	return false
}

// Jurisdictions returns every accepted jurisdiction code: the ISO 3166-1
// alpha-2 countries, then the supported ISO 3166-2 subdivisions.
func Jurisdictions() []string {
	out := strings.Fields(iso3166Alpha2)
	for _, c := range strings.Fields(iso3166Alpha2) {
		for _, sub := range strings.Fields(subdivisionsOf(c)) {
			out = append(out, c+"-"+sub)
		}
	}
	return out
}
