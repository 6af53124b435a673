package regulations

import (
	"slices"
	"strings"

	"github.com/breachflow/breachflow/internal/breach"
)

// euMembers are the 27 EU member states; eeaOnly the EEA states outside the EU.
const (
	euMembers = "AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE HU"
	eeaOnly   = "IS LI NO"
)

// Group names a rule may use in applies_in to match any member country.
const (
	groupEU  = "EU"
	groupEEA = "EEA"
)

// inGroup reports whether jurisdiction code (country or subdivision) belongs to group.
func inGroup(code, group string) bool {
	c := breach.Country(code)
	switch group {
	case groupEU:
		return slices.Contains(strings.Fields(euMembers), c)
	case groupEEA:
		return slices.Contains(strings.Fields(euMembers), c) || slices.Contains(strings.Fields(eeaOnly), c)
	}
	return false
}

// matchesJurisdiction reports whether a present jurisdiction satisfies a rule's
// applies_in entry: equal codes, a subdivision of a listed country, or a group member.
func matchesJurisdiction(present, want string) bool {
	if want == groupEU || want == groupEEA {
		return inGroup(present, want)
	}
	if present == want {
		return true
	}
	return !strings.Contains(want, "-") && breach.Country(present) == want
}

// validRuleJurisdiction accepts jurisdiction codes plus the EU/EEA group names.
func validRuleJurisdiction(code string) bool {
	return code == groupEU || code == groupEEA || breach.ValidJurisdiction(code)
}

// Reaches reports whether notifying a person of jurisdiction present (a
// country or subdivision code, as a customer notice records it) reaches the
// people a duty of jurisdiction duty is owed to: the same code, or a
// subdivision of the duty's country ("US" is reached by "US-CA", "US-CA" only
// by "US-CA"). A duty of the EU is the GDPR's, which applies across the EEA
// (its rules say applies_in: [EEA]), so any EEA state reaches it.
// A US territory has a country code of its own and a US subdivision code
// (PR and US-PR): either reaches a duty written with the other.
func Reaches(duty, present string) bool {
	if duty == groupEU || duty == groupEEA {
		return inGroup(present, groupEEA)
	}
	return matchesJurisdiction(present, duty) || territoryAlias[present] == duty
}

// territoryAlias pairs each US territory's ISO 3166-1 code with its ISO
// 3166-2:US subdivision code, both ways.
var territoryAlias = map[string]string{
	"PR": "US-PR", "US-PR": "PR",
	"VI": "US-VI", "US-VI": "VI",
	"GU": "US-GU", "US-GU": "GU",
	"AS": "US-AS", "US-AS": "AS",
	"MP": "US-MP", "US-MP": "MP",
	"UM": "US-UM", "US-UM": "UM",
}
